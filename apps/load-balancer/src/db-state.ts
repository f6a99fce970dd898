import type { PrismaClient } from '@berth/db';
import type { LoadBalancerState } from './desired-state.js';
import type { HealthSink, RequestCount, RequestCountSink, TargetHealthReport } from './health.js';
import { readHealthCheck, readProtocol, readRules, type StateSource } from './state-source.js';

/** The desired state from the control plane's tables (load_balancer, listener, target_group, target). */
export class DbStateSource implements StateSource {
  constructor(private readonly db: PrismaClient) {}

  async load(name: string): Promise<LoadBalancerState | null> {
    const lb = await this.db.loadBalancer.findUnique({ where: { name }, include: { listeners: true } });
    if (!lb) return null;
    const listeners = lb.listeners.map((l) => ({
      port: l.port,
      protocol: readProtocol(l.protocol),
      defaultTargetGroupId: l.defaultTargetGroupId,
      rules: readRules(l.rules),
      proxyProtocol: l.proxyProtocol,
    }));
    const ids = [
      ...new Set(listeners.flatMap((l) => [l.defaultTargetGroupId, ...l.rules.map((r) => r.targetGroupId)])),
    ];
    const groups = await this.db.targetGroup.findMany({
      where: { id: { in: ids } },
      include: { targets: { orderBy: { createdAt: 'asc' } } },
    });
    return {
      name: lb.name,
      listeners,
      targetGroups: groups.map((g) => {
        const protocol = readProtocol(g.protocol);
        return {
          id: g.id,
          name: g.name,
          protocol,
          healthCheck: readHealthCheck(g.healthCheck, protocol),
          deregistrationDelaySeconds: g.deregistrationDelaySeconds,
          slowStartSeconds: g.slowStartSeconds,
          targets: g.targets.map((t) => ({
            id: t.id,
            host: t.host,
            port: t.port,
            drainingSince: t.drainingSince,
          })),
        };
      }),
    };
  }
}

/**
 * Health into `target_health`, one row per (target, reporter), in one statement. Targets deleted
 * meanwhile are skipped; this reporter's rows for targets it no longer serves are removed.
 */
export class DbHealthSink implements HealthSink {
  constructor(private readonly db: PrismaClient) {}

  async report(reporter: string, reports: TargetHealthReport[]): Promise<void> {
    const ids = reports.map((r) => r.targetId);
    await this.db.$transaction([
      this.db.$executeRaw`
        INSERT INTO target_health (target_id, reporter, state, reason, active_sessions, reported_at)
        SELECT r.target_id, ${reporter}, r.state, r.reason, r.active_sessions, now()
        FROM unnest(${ids}::uuid[], ${reports.map((r) => r.state)}::text[],
                    ${reports.map((r) => r.reason)}::text[], ${reports.map((r) => r.activeSessions)}::int[])
          AS r(target_id, state, reason, active_sessions)
        WHERE EXISTS (SELECT 1 FROM target t WHERE t.id = r.target_id)
        ON CONFLICT (target_id, reporter) DO UPDATE SET state = EXCLUDED.state, reason = EXCLUDED.reason,
          active_sessions = EXCLUDED.active_sessions, reported_at = EXCLUDED.reported_at`,
      this.db.$executeRaw`
        DELETE FROM target_health WHERE reporter = ${reporter} AND NOT (target_id = ANY(${ids}::uuid[]))`,
    ]);
  }
}

/** How long request samples are kept: the longest scaling window (3600 s) is not longer. */
export const REQUEST_SAMPLE_RETENTION_SECONDS = 3600;

/**
 * Request counts into `target_group_request_sample`, one row per target group at the database's
 * clock; target groups deleted meanwhile are skipped. Samples past the retention go, whoever
 * wrote them (a reporter that is gone leaves its samples behind).
 */
export class DbRequestCountSink implements RequestCountSink {
  constructor(private readonly db: PrismaClient) {}

  async report(reporter: string, counts: RequestCount[]): Promise<void> {
    await this.db.$transaction([
      this.db.$executeRaw`
        INSERT INTO target_group_request_sample (target_group_id, reporter, sampled_at, requests)
        SELECT c.target_group_id, ${reporter}, now() AT TIME ZONE 'UTC', c.requests
        FROM unnest(${counts.map((c) => c.targetGroupId)}::uuid[], ${counts.map((c) => c.requests)}::bigint[])
          AS c(target_group_id, requests)
        WHERE EXISTS (SELECT 1 FROM target_group g WHERE g.id = c.target_group_id)
        ON CONFLICT DO NOTHING`,
      this.db.$executeRaw`
        DELETE FROM target_group_request_sample
         WHERE sampled_at < now() AT TIME ZONE 'UTC' - ${REQUEST_SAMPLE_RETENTION_SECONDS} * interval '1 second'`,
    ]);
  }
}
