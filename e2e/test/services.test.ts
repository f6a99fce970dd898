import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startLocalCluster, waitFor, type LocalCluster } from '@berth/testing';
import { api, httpGet, idOf, type Task } from './api.js';

/**
 * Services with real containers: health checks, self-healing after `docker kill`, a rolling
 * update watched by a sampler, a bad revision tripping the circuit breaker and rolling back,
 * and scaling.
 */

interface Deployment {
  id: string;
  status: string;
  taskDefinition: string;
  desiredCount: number;
  runningCount: number;
  failedTasks: number;
  circuitBreakerThreshold: number;
  rolloutState: string;
  rolloutStateReason?: string;
}
interface Service {
  serviceName: string;
  status: string;
  desiredCount: number;
  runningCount: number;
  deployments: Deployment[];
  events: { message: string }[];
}

let cluster: LocalCluster;
let client: ReturnType<typeof api>;
const run = promisify(execFile);

const healthyWeb = (family: string, message: string) => ({
  family,
  containerDefinitions: [
    {
      name: 'web',
      image: 'berth/busybox',
      cpu: 128,
      memory: 32,
      command: ['sh', '-c', `echo '${message}' > /tmp/index.html && exec httpd -f -p 8000 -h /tmp`],
      portMappings: [{ containerPort: 8000 }],
      linuxParameters: { initProcessEnabled: true },
      stopTimeout: 2,
      healthCheck: {
        command: ['CMD-SHELL', 'wget -q -O /dev/null http://127.0.0.1:8000/ || exit 1'],
        interval: 5,
        timeout: 2,
        retries: 2,
        startPeriod: 0,
      },
    },
  ],
});

const service = async (name: string) =>
  (await client.call<{ service: Service }>('GET', `/v1/clusters/default/services/${name}`)).body.service;
const serviceTasks = (name: string) => client.tasks(`?serviceName=${name}&desiredStatus=RUNNING`);
const serving = (tasks: Task[]) =>
  tasks.filter(
    (t) =>
      t.lastStatus === 'RUNNING' &&
      t.desiredStatus === 'RUNNING' &&
      (t as Task & { healthStatus: string }).healthStatus === 'HEALTHY',
  );

async function steady(name: string, count: number, taskDefinitionSuffix: string) {
  return waitFor(
    `${name} to serve ${count} healthy tasks of ${taskDefinitionSuffix}`,
    async () => {
      const s = await service(name);
      const primary = s.deployments.find((d) => d.status === 'PRIMARY')!;
      const tasks = await serviceTasks(name);
      const good = serving(tasks).filter((t) =>
        (t as Task & { taskDefinitionArn: string }).taskDefinitionArn.endsWith(taskDefinitionSuffix),
      );
      return primary.rolloutState === 'COMPLETED' &&
        s.deployments.length === 1 &&
        good.length === count &&
        tasks.length === count
        ? { service: s, tasks: good }
        : undefined;
    },
    { timeoutMs: 90_000, intervalMs: 300 },
  );
}

beforeAll(async () => {
  cluster = await startLocalCluster({
    agents: [
      { hostAddress: '127.0.0.5', cpu: 2048, memory: 2048 },
      { hostAddress: '127.0.0.6', cpu: 2048, memory: 2048 },
    ],
  });
  client = api(cluster);
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

test('a service heals, rolls out, trips its breaker and rolls back, and scales', async () => {
  await client.register(healthyWeb('svc-web', 'v1'));
  await client.register(healthyWeb('svc-web', 'v2'));
  const created = await client.call<{ service: Service }>('POST', '/v1/clusters/default/services', {
    serviceName: 'web',
    taskDefinition: 'svc-web:1',
    desiredCount: 3,
    deploymentConfiguration: {
      minimumHealthyPercent: 100,
      maximumPercent: 200,
      deploymentCircuitBreaker: { enable: true, rollback: true },
    },
    healthCheckGracePeriodSeconds: 10,
  });
  expect(created.status).toBe(200);
  expect(created.body.service.deployments).toHaveLength(1);

  // Three healthy tasks, answering HTTP.
  const first = await steady('web', 3, 'svc-web:1');
  for (const t of first.tasks)
    expect((await httpGet(t.containers[0]!.networkBindings[0]!)).trim()).toBe('v1');
  await waitFor('the steady-state event', async () =>
    (await service('web')).events.some((e) => e.message === '(service web) has reached a steady state.')
      ? true
      : undefined,
  );

  // docker kill one container: the service replaces the task.
  const victim = first.tasks[0]!;
  await run('docker', ['kill', victim.containers[0]!.runtimeId!]);
  // First the death must be seen, then the service must be whole again without the victim.
  await waitFor('the killed task to stop', async () =>
    (await client.task(victim.taskArn)).lastStatus === 'STOPPED' ? true : undefined,
  );
  const healed = await steady('web', 3, 'svc-web:1');
  expect(healed.tasks.map((t) => t.taskArn)).not.toContain(victim.taskArn);
  const killed = await client.task(victim.taskArn);
  expect(killed).toMatchObject({ lastStatus: 'STOPPED', stopCode: 'EssentialContainerExited' });

  // A rolling update to revision 2, sampled all along: never fewer than 3 serving tasks.
  const samples: number[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      samples.push(serving(await client.tasks('?serviceName=web')).length);
      await new Promise((r) => setTimeout(r, 150));
    }
  })();
  const updated = await client.call<{ service: Service }>('PATCH', '/v1/clusters/default/services/web', {
    taskDefinition: 'svc-web:2',
  });
  expect(updated.status).toBe(200);
  expect(updated.body.service.deployments.map((d) => d.status).sort()).toEqual(['ACTIVE', 'PRIMARY']);
  const second = await steady('web', 3, 'svc-web:2');
  sampling = false;
  await sampler;
  expect(samples.length).toBeGreaterThan(10);
  expect(Math.min(...samples)).toBeGreaterThanOrEqual(3);
  for (const t of second.tasks)
    expect((await httpGet(t.containers[0]!.networkBindings[0]!)).trim()).toBe('v2');

  // A revision whose container exits at once: the breaker trips and the service rolls back to revision 2.
  const bad = await client.register({
    family: 'svc-web',
    containerDefinitions: [
      { name: 'web', image: 'berth/busybox', cpu: 128, memory: 32, command: ['sh', '-c', 'exit 1'] },
    ],
  });
  expect(bad.status).toBe(200);
  await client.call('PATCH', '/v1/clusters/default/services/web', { taskDefinition: 'svc-web:3' });
  const failed = await waitFor(
    'the breaker to trip',
    async () => {
      const d = (await service('web')).deployments.find((x) => x.taskDefinition.endsWith('svc-web:3'));
      return d?.rolloutState === 'FAILED' ? d : undefined;
    },
    { timeoutMs: 90_000, intervalMs: 300 },
  );
  expect(failed.failedTasks).toBeGreaterThanOrEqual(3);
  expect(failed.circuitBreakerThreshold).toBe(3);
  const rolledBack = await steady('web', 3, 'svc-web:2');
  expect(rolledBack.service.deployments[0]!.taskDefinition).toMatch(/svc-web:2$/);
  const events = (
    await client.call<{ events: { message: string }[] }>('GET', '/v1/clusters/default/services/web/events')
  ).body.events.map((e) => e.message);
  expect(events.some((m) => /deployment failed: \d+ tasks failed/.test(m))).toBe(true);
  expect(events.some((m) => m.includes('rolling back'))).toBe(true);

  // Scaling 3 → 5 → 1.
  await client.call('PATCH', '/v1/clusters/default/services/web', { desiredCount: 5 });
  await steady('web', 5, 'svc-web:2');
  await client.call('PATCH', '/v1/clusters/default/services/web', { desiredCount: 1 });
  await steady('web', 1, 'svc-web:2');

  // Delete: refused while desiredCount > 0, then forced: DRAINING, then INACTIVE with no tasks.
  expect((await client.call('DELETE', '/v1/clusters/default/services/web')).status).toBe(400);
  expect(
    (await client.call<{ service: Service }>('DELETE', '/v1/clusters/default/services/web?force=true')).body
      .service.status,
  ).toBe('DRAINING');
  await waitFor(
    'the service to be INACTIVE',
    async () => ((await service('web')).status === 'INACTIVE' ? true : undefined),
    {
      timeoutMs: 30_000,
    },
  );
  const left = await client.tasks('?serviceName=web&desiredStatus=RUNNING');
  expect(left).toHaveLength(0);
  expect(idOf(victim.taskArn)).toBeTruthy();
});
