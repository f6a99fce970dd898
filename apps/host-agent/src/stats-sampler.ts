import type { Logger } from '@berth/config';
import { Counter, Gauge, Histogram, LATENCY_BUCKETS, secondsSince, type Registry } from '@berth/metrics';
import type { ContainerStats, TaskStats } from '@berth/proto';
import type { ContainerStatsReading, ContainerRuntime } from './runtime/container-runtime.js';
import type { RunningContainer } from './task-engine.js';
import { mapLimited } from './map-limited.js';

/** At most this many Docker stats calls at once: a host of many containers stays cheap. */
const CONCURRENCY = 4;

/** What one reading adds to the previous one of the same container. */
export interface ContainerDelta {
  /** CPU units used between the two readings (1024: one vCPU busy); null without a previous one. */
  cpuUnits: number | null;
  cpuSeconds: number;
  networkRxBytes: number;
  networkTxBytes: number;
}

/**
 * The change between two readings of one container. Docker's counters start again when a
 * container restarts: a counter that went down counts from zero.
 */
export function containerDelta(
  previous: ContainerStatsReading | undefined,
  current: ContainerStatsReading,
): ContainerDelta {
  const grown = (now: number, before: number | undefined) =>
    before === undefined || now < before ? now : now - before;
  const cpuNs = grown(current.cpuTotalNs, previous?.cpuTotalNs);
  const elapsedMs = previous ? current.readAtMs - previous.readAtMs : 0;
  return {
    cpuUnits:
      previous && elapsedMs > 0 && current.cpuTotalNs >= previous.cpuTotalNs
        ? (cpuNs / (elapsedMs * 1e6)) * 1024
        : null,
    cpuSeconds: cpuNs / 1e9,
    networkRxBytes: grown(current.networkRxBytes, previous?.networkRxBytes),
    networkTxBytes: grown(current.networkTxBytes, previous?.networkTxBytes),
  };
}

/** What the agent-level gauges read of one agent when scraped. */
export interface AgentView {
  connected: () => boolean;
  tasks: () => Record<string, number>;
}

type ContainerLabels = Record<'cluster' | 'service' | 'task' | 'container', string>;

/**
 * The agent's Prometheus metrics (docs/observability.md): per container, labelled with its
 * cluster, service, task and container name; and per agent (several in one process with hollow
 * agents), labelled with its container instance.
 */
export class AgentMetrics {
  readonly cpu: Counter<keyof ContainerLabels>;
  readonly memory: Gauge<keyof ContainerLabels>;
  readonly memoryLimit: Gauge<keyof ContainerLabels>;
  readonly networkRx: Counter<keyof ContainerLabels>;
  readonly networkTx: Counter<keyof ContainerLabels>;
  readonly restarts: Counter<keyof ContainerLabels>;
  readonly statsPass: Histogram;
  private readonly agents = new Map<string, AgentView>();

  constructor(readonly registry: Registry) {
    const labelNames = ['cluster', 'service', 'task', 'container'] as const;
    const registers = [registry];
    this.cpu = new Counter({
      name: 'berth_container_cpu_usage_seconds_total',
      help: 'CPU time a task container used, from Docker stats',
      labelNames,
      registers,
    });
    this.memory = new Gauge({
      name: 'berth_container_memory_usage_bytes',
      help: 'Memory a task container uses, page cache excluded, from Docker stats',
      labelNames,
      registers,
    });
    this.memoryLimit = new Gauge({
      name: 'berth_container_memory_limit_bytes',
      help: "A task container's memory limit (the host's memory when it has none)",
      labelNames,
      registers,
    });
    this.networkRx = new Counter({
      name: 'berth_container_network_receive_bytes_total',
      help: 'Bytes a task container received on all its interfaces',
      labelNames,
      registers,
    });
    this.networkTx = new Counter({
      name: 'berth_container_network_transmit_bytes_total',
      help: 'Bytes a task container sent on all its interfaces',
      labelNames,
      registers,
    });
    this.restarts = new Counter({
      name: 'berth_container_restarts_total',
      help: 'Times the agent restarted a task container in place (its restartPolicy)',
      labelNames,
      registers,
    });
    this.statsPass = new Histogram({
      name: 'berth_agent_stats_pass_duration_seconds',
      help: "Time one pass over the host's running containers takes to read their Docker stats",
      buckets: LATENCY_BUCKETS,
      registers,
    });
    const agents = this.agents;
    new Gauge({
      name: 'berth_agent_connected',
      help: '1 while the agent is registered with a gateway, else 0',
      labelNames: ['container_instance'],
      registers,
      collect() {
        for (const [instance, view] of agents)
          this.set({ container_instance: instance }, view.connected() ? 1 : 0);
      },
    });
    new Gauge({
      name: 'berth_agent_tasks',
      help: 'Tasks the agent knows, by the status it reports for them',
      labelNames: ['container_instance', 'status'],
      registers,
      collect() {
        for (const [instance, view] of agents)
          for (const [status, n] of Object.entries(view.tasks()))
            this.set({ container_instance: instance, status }, n);
      },
    });
  }

  /** Reads one agent's connection and task counts at every scrape. */
  watch(instanceId: string, view: AgentView): void {
    this.agents.set(instanceId, view);
  }

  /** Forgets a container that no longer runs, so its series stop. */
  forget(labels: ContainerLabels): void {
    for (const metric of [
      this.cpu,
      this.memory,
      this.memoryLimit,
      this.networkRx,
      this.networkTx,
      this.restarts,
    ])
      metric.remove(labels);
  }
}

/**
 * Reads Docker's stats of one agent's running containers every interval, cheaply (one-shot
 * readings, a few at a time, never two passes at once), and turns them into metrics and into the
 * TaskStatsReport the agent sends up. A task is reported once each of its running containers has
 * two readings, so its CPU is a rate.
 */
export class StatsSampler {
  private readonly previous = new Map<
    string,
    { reading: ContainerStatsReading; labels: ContainerLabels; restarts: number }
  >();
  private busy = false;

  constructor(
    private readonly runtime: ContainerRuntime,
    private readonly cluster: string,
    private readonly containers: () => RunningContainer[],
    private readonly send: (tasks: TaskStats[]) => void,
    private readonly metrics: AgentMetrics,
    private readonly logger: Logger,
  ) {}

  async sample(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    const start = process.hrtime.bigint();
    try {
      const running = this.containers();
      const readings = await mapLimited(running, CONCURRENCY, (c) =>
        this.runtime.stats(c.runtimeId).catch((err: unknown) => {
          this.logger.debug(
            { err, task: c.taskId, container: c.container },
            'could not read container stats',
          );
          return null;
        }),
      );
      const tasks = new Map<string, { containers: ContainerStats[]; complete: boolean }>();
      const seen = new Set<string>();
      for (const [i, c] of running.entries()) {
        const reading = readings[i];
        const task = tasks.get(c.taskId) ?? { containers: [], complete: true };
        tasks.set(c.taskId, task);
        if (!reading) {
          task.complete = false;
          continue;
        }
        seen.add(c.runtimeId);
        const labels = { cluster: this.cluster, service: c.service, task: c.taskId, container: c.container };
        const before = this.previous.get(c.runtimeId);
        if (before && JSON.stringify(before.labels) !== JSON.stringify(labels))
          this.metrics.forget(before.labels);
        const delta = containerDelta(before?.reading, reading);
        this.metrics.cpu.inc(labels, delta.cpuSeconds);
        this.metrics.networkRx.inc(labels, delta.networkRxBytes);
        this.metrics.networkTx.inc(labels, delta.networkTxBytes);
        this.metrics.restarts.inc(labels, Math.max(0, c.restartCount - (before?.restarts ?? 0)));
        this.metrics.memory.set(labels, reading.memoryBytes);
        this.metrics.memoryLimit.set(labels, reading.memoryLimitBytes);
        this.previous.set(c.runtimeId, { reading, labels, restarts: c.restartCount });
        if (delta.cpuUnits === null) task.complete = false;
        task.containers.push({
          name: c.container,
          cpuUnits: delta.cpuUnits ?? 0,
          memoryBytes: reading.memoryBytes,
          memoryLimitBytes: reading.memoryLimitBytes,
          networkRxBytes: reading.networkRxBytes,
          networkTxBytes: reading.networkTxBytes,
          restartCount: c.restartCount,
        });
      }
      for (const [runtimeId, { labels }] of this.previous)
        if (!seen.has(runtimeId)) {
          this.previous.delete(runtimeId);
          this.metrics.forget(labels);
        }
      const report = [...tasks.entries()]
        .filter(([, t]) => t.complete && t.containers.length > 0)
        .map(([taskId, t]) => ({ taskId, containers: t.containers }));
      if (report.length) this.send(report);
    } finally {
      this.metrics.statsPass.observe(secondsSince(start));
      this.busy = false;
    }
  }
}
