import { startLocalCluster, waitFor, type LocalCluster } from '@berth/testing';
import { api, httpdTaskDefinition, idOf, type Task } from './api.js';

/**
 * A DAEMON service with real agents: one task on each ACTIVE instance, following a host that
 * joins and one that is drained.
 */

let cluster: LocalCluster;
let client: ReturnType<typeof api>;

interface Service {
  desiredCount: number;
  runningCount: number;
  events: { message: string }[];
}

beforeAll(async () => {
  cluster = await startLocalCluster({
    agents: [
      { hostAddress: '127.0.0.21', cpu: 1024, memory: 1024 },
      { hostAddress: '127.0.0.22', cpu: 1024, memory: 1024 },
      { hostAddress: '127.0.0.23', cpu: 1024, memory: 1024 },
    ],
  });
  client = api(cluster);
  const td = await client.call(
    'POST',
    '/v1/task-definitions',
    httpdTaskDefinition('daemon', { cpu: 128, memory: 32 }),
  );
  expect(td.status).toBe(200);
}, 90_000);

afterAll(async () => {
  await cluster?.stop();
}, 60_000);

const service = async () =>
  (await client.call<{ service: Service }>('GET', '/v1/clusters/default/services/probe')).body.service;
const running = async () =>
  (await client.tasks('?serviceName=probe&desiredStatus=RUNNING')).filter(
    (t: Task) => t.lastStatus === 'RUNNING',
  );

/** Waits until exactly `count` daemon tasks run, one on each of `count` distinct instances. */
const onePerInstance = (count: number, except?: string) =>
  waitFor(
    `${count} daemon tasks, one per instance${except ? `, none on ${except}` : ''}`,
    async () => {
      const tasks = await running();
      const instances = new Set(tasks.map((t) => t.containerInstanceArn));
      const s = await service();
      return tasks.length === count &&
        instances.size === count &&
        (!except || !instances.has(except)) &&
        s.desiredCount === count
        ? tasks
        : undefined;
    },
    { timeoutMs: 60_000 },
  );

test('a daemon service runs one task per instance: 3, then 4 when a host joins, then 3 when one drains', async () => {
  const created = await client.call<{ service: Service }>('POST', '/v1/clusters/default/services', {
    serviceName: 'probe',
    taskDefinition: 'daemon',
    schedulingStrategy: 'DAEMON',
  });
  expect(created.status).toBe(200);
  expect(created.body.service.desiredCount).toBe(0);

  await onePerInstance(3);

  await cluster.addAgent({ hostAddress: '127.0.0.24', cpu: 1024, memory: 1024 });
  const four = await onePerInstance(4);

  const drainedArn = four[0]!.containerInstanceArn!;
  const drained = await client.call<{ containerInstance: { status: string } }>(
    'PATCH',
    `/v1/clusters/default/container-instances/${idOf(drainedArn)}`,
    { status: 'DRAINING' },
  );
  expect(drained.body.containerInstance.status).toBe('DRAINING');
  await onePerInstance(3, drainedArn);

  const stopped = await client.waitForTask(
    four[0]!.taskArn,
    'the drained daemon task to stop',
    (t) => t.lastStatus === 'STOPPED',
  );
  expect(stopped.stopCode).toBe('ServiceSchedulerInitiated');
  expect(stopped.stoppedReason).toBe('Container instance is DRAINING');
  expect((await service()).events.map((e) => e.message)).toContain(
    '(service probe) now has 4 eligible container instances for its daemon tasks.',
  );
});

test('a daemon service refuses a desiredCount', async () => {
  const res = await client.call<{ field: string }>('PATCH', '/v1/clusters/default/services/probe', {
    desiredCount: 2,
  });
  expect(res.status).toBe(400);
  expect(res.body.field).toBe('desiredCount');
});
