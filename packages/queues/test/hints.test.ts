import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { createRedis, Hints, QUEUES, type PlacementJob } from '../src/index.js';

/** Placement hints on the machine's Redis, under a prefix of their own. */

const redis = createRedis({ REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' });
const prefix = `hints-test-${randomBytes(3).toString('hex')}`;
const hints = new Hints({ redis, prefix });
const queue = new Queue(QUEUES.placement.name, { connection: redis, prefix });

afterAll(async () => {
  await queue.obliterate({ force: true });
  await queue.close();
  await hints.close();
  redis.disconnect();
});

it('a split cluster is one waiting job per partition, however often it is asked for', async () => {
  await hints.placePartitions('c1', 3);
  await hints.placePartitions('c1', 3);
  const jobs = await queue.getJobs(['waiting']);
  expect(jobs.map((j) => (j.data as PlacementJob).partition).sort((a, b) => a!.index - b!.index)).toEqual([
    { index: 0, count: 3 },
    { index: 1, count: 3 },
    { index: 2, count: 3 },
  ]);
  expect(new Set(jobs.map((j) => (j.data as PlacementJob).clusterId))).toEqual(new Set(['c1']));
});
