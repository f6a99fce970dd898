import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startLocalCluster, waitFor, type LocalCluster } from '@berth/testing';
import { api, httpdTaskDefinition, type Task } from './api.js';

/**
 * Host loss with real containers: kill -9 the agent of one host under a service; its task is
 * declared lost and replaced on the other host; when the agent comes back, the old container goes.
 */

let cluster: LocalCluster;
let client: ReturnType<typeof api>;
const run = promisify(execFile);

beforeAll(async () => {
  cluster = await startLocalCluster({
    agents: [
      { hostAddress: '127.0.0.7', cpu: 2048, memory: 1024 },
      { hostAddress: '127.0.0.8', cpu: 2048, memory: 1024 },
    ],
  });
  client = api(cluster);
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

const running = (tasks: Task[]) =>
  tasks.filter((t) => t.lastStatus === 'RUNNING' && t.desiredStatus === 'RUNNING');

test('a dead host’s service task is replaced elsewhere, and its container is removed when the agent returns', async () => {
  await client.register(httpdTaskDefinition('loss-web', { cpu: 256 }));
  const created = await client.call('POST', '/v1/clusters/default/services', {
    serviceName: 'loss',
    taskDefinition: 'loss-web',
    desiredCount: 2,
    placementStrategy: [{ type: 'spread', field: 'instanceId' }],
  });
  expect(created.status).toBe(200);
  const before = await waitFor(
    'two running tasks, one per host',
    async () => {
      const tasks = running(await client.tasks('?serviceName=loss'));
      return tasks.length === 2 && new Set(tasks.map((t) => t.containerInstanceArn)).size === 2
        ? tasks
        : undefined;
    },
    { timeoutMs: 60_000 },
  );
  const instanceOfAgent0 = (await readFile(join(cluster.agents[0]!.dataDir, 'instance-id'), 'utf8')).trim();
  const doomed = before.find((t) => t.containerInstanceArn!.endsWith(instanceOfAgent0))!;

  const killedAt = Date.now();
  await cluster.killAgent(0, 'SIGKILL');
  const lost = await waitFor(
    'the task to be declared lost',
    async () => {
      const t = await client.task(doomed.taskArn);
      return t.lastStatus === 'STOPPED' ? t : undefined;
    },
    { timeoutMs: 30_000 },
  );
  expect(lost.stopCode).toBe('InstanceLost');
  expect(lost.stoppedReason).toMatch(/^Container instance lost/);
  const after = await waitFor(
    'a replacement running on the other host',
    async () => {
      const tasks = running(await client.tasks('?serviceName=loss'));
      return tasks.length === 2 && tasks.every((t) => !t.containerInstanceArn!.endsWith(instanceOfAgent0))
        ? tasks
        : undefined;
    },
    { timeoutMs: 30_000 },
  );
  const replacedSeconds = (Date.now() - killedAt) / 1000;
  process.stderr.write(`agent killed → replacement RUNNING in ${replacedSeconds.toFixed(1)} s\n`);
  expect(after.map((t) => t.taskArn)).not.toContain(doomed.taskArn);

  // The old container kept running while its agent was dead; the returning agent removes it.
  const label = `label=berth.task-id=${doomed.taskArn.split('/').pop()}`;
  expect((await run('docker', ['ps', '-q', '--filter', label])).stdout.trim()).not.toBe('');
  cluster.startAgent(0);
  await waitFor(
    'the old container to be removed',
    async () =>
      (await run('docker', ['ps', '-aq', '--filter', label])).stdout.trim() === '' ? true : undefined,
    { timeoutMs: 30_000 },
  );
  const final = running(await client.tasks('?serviceName=loss'));
  expect(final).toHaveLength(2);
});

test('draining a host moves its service tasks elsewhere without dropping below the healthy minimum', async () => {
  await client.call('POST', '/v1/clusters/default/services', {
    serviceName: 'drain',
    taskDefinition: 'loss-web',
    desiredCount: 4,
    deploymentConfiguration: { minimumHealthyPercent: 50, maximumPercent: 100 },
    placementStrategy: [{ type: 'spread', field: 'instanceId' }],
  });
  const before = await waitFor(
    'four tasks, two per host',
    async () => {
      const tasks = running(await client.tasks('?serviceName=drain'));
      return tasks.length === 4 && new Set(tasks.map((t) => t.containerInstanceArn)).size === 2
        ? tasks
        : undefined;
    },
    { timeoutMs: 60_000 },
  );
  const drainedArn = before[0]!.containerInstanceArn!;

  const samples: number[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      samples.push(running(await client.tasks('?serviceName=drain')).length);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const drained = await client.call<{ containerInstance: { status: string } }>(
    'PATCH',
    `/v1/clusters/default/container-instances/${drainedArn.split('/').pop()}`,
    { status: 'DRAINING' },
  );
  expect(drained.body.containerInstance.status).toBe('DRAINING');
  await waitFor(
    'all four tasks on the other host',
    async () => {
      const tasks = running(await client.tasks('?serviceName=drain'));
      return tasks.length === 4 && tasks.every((t) => t.containerInstanceArn !== drainedArn)
        ? tasks
        : undefined;
    },
    { timeoutMs: 60_000 },
  );
  sampling = false;
  await sampler;
  expect(samples.length).toBeGreaterThan(5);
  expect(Math.min(...samples)).toBeGreaterThanOrEqual(2);
});
