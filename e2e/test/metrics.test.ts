import { scrapeMetrics, startLocalCluster, waitFor, type LocalCluster, type Scrape } from '@berth/testing';
import { api, idOf, type Task } from './api.js';

/**
 * Metrics end to end: a service's busy container, its CPU and memory on the agent's metrics and
 * in the task and service stats routes, and every control-plane app's metrics parsing and moving
 * as the work is done.
 */

let cluster: LocalCluster;
let client: ReturnType<typeof api>;

beforeAll(async () => {
  cluster = await startLocalCluster({
    agents: [{ hostAddress: '127.0.0.2', cpu: 2048, memory: 1024 }],
    // Samples every second rather than every ten, so the test sees them soon.
    env: { BERTH_STATS_INTERVAL_MS: '1000' },
  });
  client = api(cluster);
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

const scrape = (app: string) => scrapeMetrics(cluster.metrics.get(app)!);

test("a busy container's CPU and memory reach the agent's metrics and the stats routes", async () => {
  const before = new Map<string, Scrape>();
  for (const app of ['api-gateway', 'scheduler', 'deployment-controller', 'agent-1'])
    before.set(app, await scrape(app));

  await client.register({
    family: 'burn',
    containerDefinitions: [
      {
        name: 'spin',
        image: 'berth/busybox',
        cpu: 256,
        memory: 64,
        // A busy loop: about one whole CPU, four times what it reserves.
        command: ['sh', '-c', 'while :; do :; done'],
        linuxParameters: { initProcessEnabled: true },
        stopTimeout: 2,
      },
    ],
  });
  const created = await client.call('POST', '/v1/clusters/default/services', {
    serviceName: 'burn',
    taskDefinition: 'burn',
    desiredCount: 1,
  });
  expect(created.status).toBe(200);
  const task = await waitFor('the service task to run', async () => {
    const [t] = await client.tasks('?serviceName=burn');
    return t?.lastStatus === 'RUNNING' ? t : undefined;
  });
  const taskId = idOf(task.taskArn);
  const labels = { cluster: 'default', service: 'burn', task: taskId, container: 'spin' };

  // The agent: per-container series with the task's labels.
  const agent = await waitFor('a second of CPU on the agent', async () => {
    const m = await scrape('agent-1');
    return m.value('berth_container_cpu_usage_seconds_total', labels) > 1 ? m : undefined;
  });
  expect(agent.value('berth_container_memory_usage_bytes', labels)).toBeGreaterThan(0);
  expect(agent.value('berth_container_memory_limit_bytes', labels)).toBe(64 * 1024 * 1024);
  expect(agent.has('berth_container_network_receive_bytes_total', labels)).toBe(true);
  expect(agent.value('berth_container_restarts_total', labels)).toBe(0);
  expect(agent.value('berth_agent_connected')).toBe(1);
  expect(agent.value('berth_agent_tasks', { status: 'RUNNING' })).toBe(1);

  // The same numbers, through the gateway. How much CPU the loop gets depends on the machine's
  // load, so the test asks for some, and for the utilisation to be it over the 256 units reserved.
  const stats = await waitFor('the task stats', async () => {
    const res = await client.call<{ cpuUnits: number | null; cpuUtilization: number | null }>(
      'GET',
      `/v1/clusters/default/tasks/${taskId}/stats`,
    );
    return (res.body.cpuUnits ?? 0) > 0 ? res.body : undefined;
  });
  expect(stats).toMatchObject({ cpu: 256, memory: 64, lastStatus: 'RUNNING' });
  expect(stats.cpuUtilization).toBeCloseTo((stats.cpuUnits! / 256) * 100, 1);
  const full = stats as unknown as {
    memoryBytes: number;
    containers: { name: string; memoryBytes: number }[];
  };
  expect(full.memoryBytes).toBeGreaterThan(0);
  expect(full.containers.map((c) => c.name)).toEqual(['spin']);

  const service = await client.call<{
    sampledTasks: number;
    cpuUtilization: number;
    memoryUtilization: number;
  }>('GET', '/v1/clusters/default/services/burn/stats?windowSeconds=30');
  expect(service.body.sampledTasks).toBe(1);
  expect(service.body.cpuUtilization).toBeGreaterThan(0);
  expect(service.body.memoryUtilization).toBeGreaterThan(0);

  // Every control-plane app's metrics moved with the work.
  const moved = async (app: string, name: string, labelSet: Record<string, string> = {}) =>
    (await scrape(app)).value(name, labelSet) - before.get(app)!.value(name, labelSet);
  expect(
    await moved('api-gateway', 'berth_api_requests_total', {
      method: 'POST',
      route: '/v1/clusters/:cluster/services',
      status: '200',
    }),
  ).toBe(1);
  expect(await moved('api-gateway', 'berth_gateway_task_stats_samples_total')).toBeGreaterThan(0);
  expect((await scrape('api-gateway')).value('berth_gateway_agent_streams')).toBe(1);
  expect(await moved('scheduler', 'berth_placement_tasks_total', { outcome: 'placed' })).toBe(1);
  expect(await moved('scheduler', 'berth_placement_latency_seconds_count')).toBe(1);
  expect(
    await moved('deployment-controller', 'berth_reconcile_duration_seconds_count', { kind: 'service' }),
  ).toBeGreaterThan(0);
  expect(
    (await scrape('deployment-controller')).value('berth_tasks', { cluster: 'default', status: 'RUNNING' }),
  ).toBe(1);

  await client.call('DELETE', '/v1/clusters/default/services/burn?force=true');
  await waitFor('the task to stop', async () =>
    ((await client.task(task.taskArn)) as Task).lastStatus === 'STOPPED' ? true : undefined,
  );
  // A container that no longer runs leaves the agent's metrics.
  await waitFor('its series to go', async () =>
    (await scrape('agent-1')).has('berth_container_memory_usage_bytes', labels) ? undefined : true,
  );
}, 120_000);
