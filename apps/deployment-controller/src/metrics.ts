import type { PrismaClient } from '@berth/db';
import { Counter, createRegistry, Gauge, Histogram, LATENCY_BUCKETS, type Registry } from '@berth/metrics';

/**
 * The deployment-controller's Prometheus metrics (docs/observability.md). The gauges of the whole
 * installation (tasks by state, deployments in progress, connected agents) are read from Postgres
 * when scraped: every replica shows the same numbers, so dashboards take max() over replicas.
 */
export class ControllerMetrics {
  readonly registry: Registry = createRegistry();
  readonly reconcile = new Histogram({
    name: 'berth_reconcile_duration_seconds',
    help: 'Time one controller job took, by kind: task, service, or a sweep (task-sweep, service-sweep, instance-sweep, schedule-sweep)',
    labelNames: ['kind'],
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly reconcileErrors = new Counter({
    name: 'berth_reconcile_errors_total',
    help: 'Controller jobs that failed (and go back to the queue for a retry), by kind',
    labelNames: ['kind'],
    registers: [this.registry],
  });
  readonly breakerTrips = new Counter({
    name: 'berth_circuit_breaker_trips_total',
    help: 'Deployments the circuit breaker failed, by whether the service rolled back',
    labelNames: ['rollback'],
    registers: [this.registry],
  });

  /** Gauges read from Postgres at each scrape; one query each, over indexed live rows. */
  readFrom(db: PrismaClient): void {
    this.countedBy(
      'berth_tasks',
      'Tasks that are not STOPPED, by cluster and last status, from Postgres',
      ['cluster', 'status'],
      () => db.$queryRaw`
        SELECT c.name AS cluster, t.last_status AS status, count(*)::int AS n
          FROM task t JOIN cluster c ON c.id = t.cluster_id
         WHERE t.last_status <> 'STOPPED' GROUP BY 1, 2`,
    );
    this.countedBy(
      'berth_deployments_in_progress',
      'PRIMARY deployments whose rollout is IN_PROGRESS, by cluster, from Postgres',
      ['cluster'],
      () => db.$queryRaw`
        SELECT c.name AS cluster, count(*)::int AS n
          FROM deployment d JOIN service s ON s.id = d.service_id JOIN cluster c ON c.id = s.cluster_id
         WHERE d.status = 'PRIMARY' AND d.rollout_state = 'IN_PROGRESS' GROUP BY 1`,
    );
    this.countedBy(
      'berth_container_instances',
      'Container instances that are not INACTIVE, by cluster and whether their agent is connected, from Postgres',
      ['cluster', 'agent_connected'],
      () => db.$queryRaw`
        SELECT c.name AS cluster, i.agent_connected::text AS agent_connected, count(*)::int AS n
          FROM container_instance i JOIN cluster c ON c.id = i.cluster_id
         WHERE i.status <> 'INACTIVE' GROUP BY 1, 2`,
    );
  }

  /** A gauge whose series are the rows of a GROUP BY count: each row's label columns and its n. */
  private countedBy<L extends string>(
    name: string,
    help: string,
    labelNames: L[],
    rows: () => Promise<(Record<L, string> & { n: number })[]>,
  ): void {
    new Gauge({
      name,
      help,
      labelNames,
      registers: [this.registry],
      async collect() {
        const counted = await rows();
        // Series of groups that are gone (a cluster deleted, no task left in a state) go too.
        this.reset();
        for (const { n, ...labels } of counted) this.set(labels as unknown as Record<L, string>, n);
      },
    });
  }
}
