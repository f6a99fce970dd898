import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { agentChannel, Redis } from '@berth/queues';
import { uniquePrefix, waitFor } from '@berth/testing';
import { startTestGateway, type TestGateway } from './gateway.js';

/**
 * The gateway against a Redis of its own that the test stops and starts again: requests never
 * hang on Redis, /healthz says so quickly, garbage on the agent-commands channel is dropped, and
 * everything works again once Redis is back.
 */

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

let port: number;
let redisServer: ChildProcess | undefined;
let client: Redis;
let gw: TestGateway;
const prefix = uniquePrefix('outage');

async function startRedis(): Promise<void> {
  redisServer = spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  await waitFor('the test Redis to answer', async () =>
    (await client.ping().catch(() => null)) ? true : undefined,
  );
}

async function stopRedis(): Promise<void> {
  const server = redisServer;
  redisServer = undefined;
  if (!server || server.exitCode !== null) return;
  const exited = new Promise((resolve) => server.once('exit', resolve));
  server.kill('SIGKILL');
  await exited;
}

const timed = async <T>(call: () => Promise<T>) => {
  const started = Date.now();
  const result = await call();
  return { result, ms: Date.now() - started };
};

beforeAll(async () => {
  port = await freePort();
  client = new Redis(`redis://127.0.0.1:${port}`, { maxRetriesPerRequest: 0, lazyConnect: true });
  client.on('error', () => undefined);
  await startRedis();
  gw = await startTestGateway('outage', {
    REDIS_URL: `redis://127.0.0.1:${port}`,
    BERTH_REDIS_PREFIX: prefix,
  });
  await gw.http.post('/v1/clusters').send({ clusterName: 'default' }).expect(200);
  await gw.http
    .post('/v1/task-definitions')
    .send({
      family: 'web',
      containerDefinitions: [{ name: 'web', image: 'berth/busybox', cpu: 1, memory: 8 }],
    })
    .expect(200);
}, 30_000);

afterAll(async () => {
  await gw?.close();
  client?.disconnect();
  await stopRedis();
});

it('drops malformed agent commands and stays healthy', async () => {
  const garbage = [
    'not json',
    'null',
    '[]',
    '{"containerInstanceId": 5, "taskIds": "x"}',
    '{"containerInstanceId": "00000000-0000-0000-0000-000000000000", "taskIds": ["not-a-uuid"]}',
    '{"containerInstanceId": "\\u0000", "taskIds": []}',
    'x'.repeat(100_000),
  ];
  for (const message of garbage) {
    // 1 subscriber: the gateway heard every one of them.
    expect(await client.publish(agentChannel(prefix), message)).toBe(1);
  }
  await new Promise((r) => setTimeout(r, 200));
  expect((await gw.http.get('/healthz')).status).toBe(200);
  await gw.http.post('/v1/clusters/default/tasks').send({ taskDefinition: 'web' }).expect(200);
});

it('answers within a second while Redis is down, and converges once it is back', async () => {
  await stopRedis();

  // RunTask needs the placement queue: a 503 at once, and nothing written.
  const tasksBefore = await gw.count('task');
  const refused = await timed(() =>
    gw.http.post('/v1/clusters/default/tasks').send({ taskDefinition: 'web' }),
  );
  expect(refused.result.status).toBe(503);
  expect(refused.result.body.error).toBe('ServiceUnavailableException');
  expect(refused.ms).toBeLessThan(1000);
  expect(await gw.count('task')).toBe(tasksBefore);

  // What Postgres alone can do still works, fast: a stop is recorded, the resync delivers it.
  const [{ id: taskId }] = (
    await gw.sql.query(`SELECT id FROM task WHERE desired_status = 'RUNNING' ORDER BY created_at LIMIT 1`)
  ).rows;
  const stop = await timed(() => gw.http.post(`/v1/clusters/default/tasks/${taskId}/stop`).send({}));
  expect(stop.result.status).toBe(200);
  expect(stop.ms).toBeLessThan(1000);

  const health = await timed(() => gw.http.get('/healthz'));
  expect(health.result.status).toBe(503);
  expect(health.result.body).toEqual({
    error: 'ServiceUnavailableException',
    message: 'postgres: ok, redis: unavailable',
  });
  expect(health.ms).toBeLessThan(1000);

  await startRedis();
  await waitFor('the gateway to see Redis again', async () =>
    (await gw.http.get('/healthz')).status === 200 ? true : undefined,
  );
  // Hints flow again: a RunTask leaves a placement job for the scheduler.
  await gw.http.post('/v1/clusters/default/tasks').send({ taskDefinition: 'web' }).expect(200);
  expect(await client.exists(`${prefix}:placement:wait`)).toBe(1);
  // And the agent-commands subscription is back (the subscriber reconnects on its own backoff).
  await waitFor('the gateway to subscribe again', async () =>
    (await client.publish(agentChannel(prefix), 'still garbage')) === 1 ? true : undefined,
  );
}, 60_000);

it('starts and serves without Redis at all', async () => {
  const dead = await startTestGateway('no-redis', { REDIS_URL: `redis://127.0.0.1:${await freePort()}` });
  try {
    await dead.http.post('/v1/clusters').send({ clusterName: 'default' }).expect(200);
    await dead.http
      .post('/v1/task-definitions')
      .send({
        family: 'web',
        containerDefinitions: [{ name: 'web', image: 'berth/busybox', cpu: 1, memory: 8 }],
      })
      .expect(200);
    const run = await timed(() =>
      dead.http.post('/v1/clusters/default/tasks').send({ taskDefinition: 'web' }),
    );
    expect(run.result.status).toBe(503);
    expect(run.ms).toBeLessThan(1000);
    const health = await timed(() => dead.http.get('/healthz'));
    expect(health.result.status).toBe(503);
    expect(health.ms).toBeLessThan(1000);
  } finally {
    await dead.close();
  }
}, 30_000);
