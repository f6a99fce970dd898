import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRedis, createRequestRedis, Hints, QUEUES, startWorker, type Redis } from '../src/index.js';

/**
 * Redis through Sentinel for real: a master, a replica and one Sentinel (Debian's redis-server,
 * as the local Redis), the apps' own connections and queues, and a failover under them.
 */

const MASTER_PASSWORD = 'master-pw';
const SENTINEL_PASSWORD = 'sentinel-pw';
let dir: string;
const servers = new Map<number, ChildProcess>();
let ports: { a: number; b: number; sentinel: number };

const freePort = () =>
  new Promise<number>((res, rej) => {
    const server = createServer();
    server.once('error', rej);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => res(port));
    });
  });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

function startRedis(port: number, args: string[]): void {
  const child = spawn('redis-server', [...args], { stdio: 'ignore' });
  servers.set(port, child);
}

const redisArgs = (port: number) => [
  '--port',
  String(port),
  '--bind',
  '127.0.0.1',
  '--requirepass',
  MASTER_PASSWORD,
  '--masterauth',
  MASTER_PASSWORD,
  '--save',
  '',
  '--appendonly',
  'no',
  // A replica's full sync writes an RDB file even with saving off: keep it out of the tree.
  '--dir',
  dir,
];

const settings = () => ({
  // Only the password and db of the URL count with Sentinels; its host is never dialled.
  REDIS_URL: `redis://:${MASTER_PASSWORD}@unused.invalid:1/0`,
  REDIS_SENTINELS: `127.0.0.1:${ports.sentinel}`,
  REDIS_SENTINEL_NAME: 'berth-test',
  REDIS_SENTINEL_PASSWORD: SENTINEL_PASSWORD,
});

const masterPort = async (redis: Redis) => Number(((await redis.config('GET', 'port')) as string[])[1]);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-sentinel-'));
  ports = { a: await freePort(), b: await freePort(), sentinel: await freePort() };
  startRedis(ports.a, redisArgs(ports.a));
  startRedis(ports.b, [...redisArgs(ports.b), '--replicaof', '127.0.0.1', String(ports.a)]);
  const conf = join(dir, 'sentinel.conf');
  await writeFile(
    conf,
    [
      `port ${ports.sentinel}`,
      'bind 127.0.0.1',
      `dir ${dir}`,
      `requirepass ${SENTINEL_PASSWORD}`,
      `sentinel monitor berth-test 127.0.0.1 ${ports.a} 1`,
      `sentinel auth-pass berth-test ${MASTER_PASSWORD}`,
      'sentinel down-after-milliseconds berth-test 1000',
      'sentinel failover-timeout berth-test 5000',
      '',
    ].join('\n'),
  );
  startRedis(ports.sentinel, [conf, '--sentinel']);
  // Before any failover: the replica in sync, and the Sentinel aware of it.
  const replica = createRedis({ REDIS_URL: `redis://:${MASTER_PASSWORD}@127.0.0.1:${ports.b}` });
  const sentinel = createRedis({ REDIS_URL: `redis://:${SENTINEL_PASSWORD}@127.0.0.1:${ports.sentinel}` });
  for (const r of [replica, sentinel]) r.on('error', () => undefined);
  try {
    await until('the replica to sync', async () =>
      /master_link_status:up/.test(await replica.info('replication')) ? true : undefined,
    );
    await until('the Sentinel to see the replica', async () => {
      const replicas = (await sentinel.call('SENTINEL', 'REPLICAS', 'berth-test')) as string[][];
      return replicas.length === 1 ? true : undefined;
    });
  } finally {
    replica.disconnect();
    sentinel.disconnect();
  }
}, 30_000);

afterAll(async () => {
  for (const child of servers.values()) child.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

it('connects through the Sentinel, carries jobs, and follows a failover', async () => {
  const workerRedis = createRedis(settings());
  const requestRedis = createRequestRedis(settings(), 500);
  const redis = createRedis(settings());
  for (const r of [workerRedis, requestRedis, redis]) r.on('error', () => undefined);
  const seen: string[] = [];
  const prefix = `sentinel-${process.pid}`;
  const worker = await startWorker<{ clusterId: string }>(
    { redis: workerRedis, prefix },
    QUEUES.placement,
    (job) => {
      seen.push((job.data as { clusterId: string }).clusterId);
      return Promise.resolve();
    },
  );
  const hints = new Hints({ redis, prefix, onError: () => undefined });
  try {
    expect(await masterPort(redis)).toBe(ports.a);
    await until('the request connection', async () => (requestRedis.status === 'ready' ? true : undefined));
    expect(await requestRedis.ping()).toBe('PONG');
    await hints.placeInCluster('before');
    await until('the first job', async () => (seen.includes('before') ? true : undefined));

    // The master dies; the Sentinel promotes the replica; the same clients carry on there.
    servers.get(ports.a)!.kill('SIGKILL');
    const started = Date.now();
    await hints.placeInCluster('during-failover'); // waits (maxRetriesPerRequest null) for the new master
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(await masterPort(redis)).toBe(ports.b);
    await until('the job added during the failover', async () =>
      seen.includes('during-failover') ? true : undefined,
    );
    await until('the request connection on the new master', async () =>
      (await requestRedis.ping()) === 'PONG' ? true : undefined,
    );
    expect(await masterPort(requestRedis)).toBe(ports.b);
  } finally {
    await worker.close();
    await hints.close();
    for (const r of [workerRedis, requestRedis, redis]) r.disconnect();
  }
}, 60_000);
