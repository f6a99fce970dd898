import { Counter, createRegistry, Gauge, Histogram, LATENCY_BUCKETS, type Registry } from '@berth/metrics';
import type { TargetHealthReport } from './health.js';

/** The load-balancer app's Prometheus metrics (docs/observability.md). */
export class LoadBalancerMetrics {
  readonly registry: Registry = createRegistry();
  readonly pass = new Histogram({
    name: 'berth_lb_pass_duration_seconds',
    help: 'Time one pass took: read the desired state, reconcile HAProxy, report health',
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly passErrors = new Counter({
    name: 'berth_lb_pass_errors_total',
    help: 'Passes that failed (retried at the next interval)',
    registers: [this.registry],
  });
  readonly haproxyRestarts = new Counter({
    name: 'berth_lb_haproxy_reloads_total',
    help: 'HAProxy starts and configuration reloads, by kind (start, reload)',
    labelNames: ['kind'],
    registers: [this.registry],
  });
  readonly serverChanges = new Counter({
    name: 'berth_lb_server_changes_total',
    help: 'Runtime API changes to HAProxy servers, by kind (add, ready, drain, remove) and outcome (applied, deferred)',
    labelNames: ['kind', 'outcome'],
    registers: [this.registry],
  });
  private readonly targets = new Gauge({
    name: 'berth_lb_targets',
    help: 'Targets of the load balancer by health state (healthy, unhealthy, initial), as this process last saw them',
    labelNames: ['state'],
    registers: [this.registry],
  });
  private readonly sessions = new Gauge({
    name: 'berth_lb_active_sessions',
    help: "Open sessions on the load balancer's targets, old HAProxy workers included",
    registers: [this.registry],
  });

  /** The health this pass computed. */
  observeHealth(reports: readonly TargetHealthReport[]): void {
    for (const state of ['healthy', 'unhealthy', 'initial'] as const)
      this.targets.set({ state }, reports.filter((r) => r.state === state).length);
    this.sessions.set(reports.reduce((n, r) => n + r.activeSessions, 0));
  }
}
