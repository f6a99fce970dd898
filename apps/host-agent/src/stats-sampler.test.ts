import { createLogger } from '@berth/config';
import { createRegistry } from '@berth/metrics';
import type { TaskStats } from '@berth/proto';
import { parsePrometheusText } from '@berth/testing';
import type { ContainerStatsReading } from './runtime/container-runtime.js';
import type { RunningContainer } from './task-engine.js';
import { AgentMetrics, containerDelta, StatsSampler } from './stats-sampler.js';

const reading = (at: number, cpuMs: number, rx = 0): ContainerStatsReading => ({
  readAtMs: at,
  cpuTotalNs: cpuMs * 1e6,
  memoryBytes: 50 * 1024 * 1024,
  memoryLimitBytes: 256 * 1024 * 1024,
  networkRxBytes: rx,
  networkTxBytes: 2 * rx,
});

describe('containerDelta', () => {
  it('gives no CPU rate for a first reading, and counts its totals from the container start', () => {
    expect(containerDelta(undefined, reading(1000, 300, 10))).toEqual({
      cpuUnits: null,
      cpuSeconds: 0.3,
      networkRxBytes: 10,
      networkTxBytes: 20,
    });
  });
  it('turns CPU time over wall time into CPU units: half a core is 512', () => {
    expect(containerDelta(reading(0, 100), reading(10_000, 5100)).cpuUnits).toBe(512);
  });
  it('counts from zero again when Docker restarted its counters', () => {
    const d = containerDelta(reading(0, 9000, 500), reading(10_000, 200, 40));
    expect(d).toMatchObject({ cpuUnits: null, cpuSeconds: 0.2, networkRxBytes: 40 });
  });
});

describe('StatsSampler', () => {
  let clock = 0;
  const cpuMs = new Map<string, number>();
  const runtime = {
    stats: async (id: string) => (cpuMs.has(id) ? reading(clock, cpuMs.get(id)!, clock / 10) : null),
  };
  let running: RunningContainer[] = [
    { taskId: 't1', service: 'web', container: 'app', runtimeId: 'a', restartCount: 0 },
    { taskId: 't1', service: 'web', container: 'proxy', runtimeId: 'b', restartCount: 0 },
    { taskId: 't2', service: '', container: 'job', runtimeId: 'c', restartCount: 0 },
  ];
  const sent: TaskStats[][] = [];
  const metrics = new AgentMetrics(createRegistry());
  const sampler = new StatsSampler(
    runtime as never,
    'prod',
    () => running,
    (tasks) => sent.push(tasks),
    metrics,
    createLogger('test', 'silent'),
  );
  const scrape = async () => parsePrometheusText(await metrics.registry.metrics());

  it('primes on the first pass, then reports each task whose containers all have a rate', async () => {
    cpuMs.set('a', 0).set('b', 0).set('c', 0);
    await sampler.sample();
    expect(sent).toEqual([]);
    clock = 10_000;
    cpuMs.set('a', 10_000).set('b', 2_500);
    cpuMs.delete('c'); // its container stopped between the listing and the reading
    await sampler.sample();
    expect(sent).toHaveLength(1);
    expect(sent[0]!.map((t) => t.taskId)).toEqual(['t1']);
    expect(sent[0]![0]!.containers.map((c) => [c.name, c.cpuUnits])).toEqual([
      ['app', 1024],
      ['proxy', 256],
    ]);
  });

  it('exports per-container counters and gauges labelled by cluster, service, task and container', async () => {
    running = running.map((c) => (c.container === 'app' ? { ...c, restartCount: 2 } : c));
    clock = 20_000;
    cpuMs.set('a', 15_000);
    await sampler.sample();
    const m = await scrape();
    const app = { cluster: 'prod', service: 'web', task: 't1', container: 'app' };
    expect(m.value('berth_container_cpu_usage_seconds_total', app)).toBe(15);
    expect(m.value('berth_container_memory_usage_bytes', app)).toBe(50 * 1024 * 1024);
    expect(m.value('berth_container_memory_limit_bytes', app)).toBe(256 * 1024 * 1024);
    expect(m.value('berth_container_network_receive_bytes_total', app)).toBe(2000);
    expect(m.value('berth_container_network_transmit_bytes_total', app)).toBe(4000);
    expect(m.value('berth_container_restarts_total', app)).toBe(2);
    expect(m.value('berth_agent_stats_pass_duration_seconds_count')).toBe(3);
  });

  it('drops the series of a container that no longer runs', async () => {
    running = running.filter((c) => c.container !== 'proxy');
    await sampler.sample();
    const m = await scrape();
    expect(m.has('berth_container_memory_usage_bytes', { container: 'proxy' })).toBe(false);
    expect(m.has('berth_container_memory_usage_bytes', { container: 'app' })).toBe(true);
  });
});

it('shows each agent connected or not, and its tasks by status', async () => {
  const metrics = new AgentMetrics(createRegistry());
  let connected = false;
  metrics.watch('i-1', { connected: () => connected, tasks: () => ({ RUNNING: 3, STOPPED: 1 }) });
  const scrape = async () => parsePrometheusText(await metrics.registry.metrics());
  expect((await scrape()).value('berth_agent_connected', { container_instance: 'i-1' })).toBe(0);
  connected = true;
  const m = await scrape();
  expect(m.value('berth_agent_connected', { container_instance: 'i-1' })).toBe(1);
  expect(m.value('berth_agent_tasks', { container_instance: 'i-1', status: 'RUNNING' })).toBe(3);
});
