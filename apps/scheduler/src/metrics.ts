import { Counter, createRegistry, Gauge, Histogram, LATENCY_BUCKETS, type Registry } from '@berth/metrics';

/** The scheduler's Prometheus metrics (docs/observability.md). */
export class SchedulerMetrics {
  readonly registry: Registry = createRegistry();
  /** One placeCluster: every pass over one cluster until nothing more can be placed. */
  readonly clusterPass = new Histogram({
    name: 'berth_placement_duration_seconds',
    help: "Time to place one cluster's waiting tasks (snapshot, plan, commit, re-plans)",
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly latency = new Histogram({
    name: 'berth_placement_latency_seconds',
    help: 'Time from a task being created (RunTask, a service) to its placement on an instance',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900],
    registers: [this.registry],
  });
  readonly tasks = new Counter({
    name: 'berth_placement_tasks_total',
    help: 'Tasks by what a placement pass did with them: placed, unplaced (no instance fits), conflict (lost a race, re-planned)',
    labelNames: ['outcome'],
    registers: [this.registry],
  });

  /** `berth_placement_waiting_tasks`: PROVISIONING tasks desired RUNNING, read from Postgres when scraped. */
  countWaiting(count: () => Promise<number>): void {
    new Gauge({
      name: 'berth_placement_waiting_tasks',
      help: 'Tasks waiting for placement (PROVISIONING, desired RUNNING) in every cluster, from Postgres',
      registers: [this.registry],
      async collect() {
        this.set(await count());
      },
    });
  }
}
