import { randomUUID } from 'node:crypto';
import { createPrisma, type PrismaClient } from '@berth/db';
import { Hints, createRedis } from '@berth/queues';
import {
  createTestDatabase,
  scrapeMetrics,
  TEST_REDIS_URL,
  uniquePrefix,
  waitFor,
  type TestDatabase,
} from '@berth/testing';
import { startScheduler } from '../src/app.js';
import { loadSchedulerConfig } from '../src/config.js';

/** The scheduler's metrics on its own listener, moving as it places a cluster's tasks. */

let db: TestDatabase;
let prisma: PrismaClient;
let scheduler: Awaited<ReturnType<typeof startScheduler>>;
const prefix = uniquePrefix('sched-metrics');

beforeAll(async () => {
  db = await createTestDatabase();
  prisma = createPrisma(db.url);
  scheduler = await startScheduler(
    loadSchedulerConfig({
      DATABASE_URL: db.url,
      REDIS_URL: TEST_REDIS_URL,
      BERTH_REDIS_PREFIX: prefix,
      BERTH_METRICS_PORT: '0',
      BERTH_LOG_LEVEL: 'silent',
      BERTH_PLACEMENT_SWEEP_MS: '600000',
    }),
  );
});

afterAll(async () => {
  await scheduler?.close();
  await prisma?.$disconnect();
  await db?.drop();
});

it('counts placed and unplaceable tasks, times placements, and shows what waits', async () => {
  const url = `http://127.0.0.1:${scheduler.metricsPort}/metrics`;
  const cluster = await prisma.cluster.create({ data: { name: 'm' } });
  const td = await prisma.taskDefinition.create({
    data: {
      family: 'm',
      revision: 1,
      cpu: 512,
      memory: 128,
      definition: { family: 'm', containerDefinitions: [{ name: 'web', image: 'x', cpu: 512, memory: 128 }] },
    },
  });
  await prisma.containerInstance.create({
    data: {
      id: randomUUID(),
      clusterId: cluster.id,
      hostAddress: '10.0.0.1',
      registeredCpu: 1024,
      registeredMemory: 1024,
      agentConnected: true,
    },
  });
  // Room for two of the three.
  await prisma.task.createMany({
    data: Array.from({ length: 3 }, () => ({
      clusterId: cluster.id,
      taskDefinitionId: td.id,
      cpu: 512,
      memory: 128,
    })),
  });
  expect((await scrapeMetrics(url)).value('berth_placement_waiting_tasks')).toBe(3);

  const redis = createRedis({ REDIS_URL: TEST_REDIS_URL });
  const hints = new Hints({ redis, prefix });
  await hints.placeInCluster(cluster.id);
  const m = await waitFor('the placement', async () => {
    const scrape = await scrapeMetrics(url);
    return scrape.value('berth_placement_tasks_total', { outcome: 'placed' }) === 2 ? scrape : undefined;
  });
  await hints.close();
  redis.disconnect();

  expect(m.value('berth_placement_tasks_total', { outcome: 'unplaced' })).toBe(1);
  expect(m.value('berth_placement_latency_seconds_count')).toBe(2);
  expect(m.value('berth_placement_latency_seconds_bucket', { le: '+Inf' })).toBe(2);
  expect(m.value('berth_placement_duration_seconds_count')).toBeGreaterThanOrEqual(1);
  expect(m.value('berth_placement_waiting_tasks')).toBe(1);
  expect(m.types.get('berth_queue_jobs')).toBe('gauge');
});
