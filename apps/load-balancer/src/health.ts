import { backendsOf, serverName, type LoadBalancerState } from './desired-state.js';
import type { RuntimeServer, RuntimeSnapshot } from './runtime-api.js';

export type HealthState = 'healthy' | 'unhealthy' | 'initial';

/** One target's health as this load balancer sees it: a row of `target_health`. */
export interface TargetHealthReport {
  targetId: string;
  state: HealthState;
  /** ELB's reason codes: Elb.InitialHealthChecking, Target.Timeout, Target.DeregistrationInProgress... */
  reason: string | null;
  activeSessions: number;
}

/** Where health goes: the `target_health` table, or memory in tests. */
export interface HealthSink {
  report(reporter: string, reports: TargetHealthReport[]): Promise<void>;
}

/** One target group's cumulative requests on this load balancer's HAProxy since it started. */
export interface RequestCount {
  targetGroupId: string;
  requests: number;
}

/** Where request counts go: `target_group_request_sample`, or memory in tests. */
export interface RequestCountSink {
  report(reporter: string, counts: RequestCount[]): Promise<void>;
}

/**
 * Each target group's requests: the sum of its backends' counters (a TCP group may have two, with
 * and without the PROXY protocol). The current worker's counters only: a reload starts them again
 * from 0, which readers take as a counter reset (packages/domain/src/request-count.ts).
 */
export function targetGroupRequests(lb: LoadBalancerState, runtime: RuntimeSnapshot): RequestCount[] {
  const counts = new Map<string, number>();
  for (const backend of backendsOf(lb))
    counts.set(
      backend.group.id,
      (counts.get(backend.group.id) ?? 0) + (runtime.backendRequests[backend.name] ?? 0),
    );
  return [...counts].map(([targetGroupId, requests]) => ({ targetGroupId, requests }));
}

/** Why a check failed, in ELB's words, from HAProxy's `check_status`. */
function failureReason(checkStatus: string): string {
  if (checkStatus.startsWith('L7STS')) return 'Target.ResponseCodeMismatch';
  if (checkStatus.endsWith('TOUT')) return 'Target.Timeout';
  return 'Target.FailedHealthChecks';
}

function fromServer(server: RuntimeServer): Pick<TargetHealthReport, 'state' | 'reason'> {
  const status = server.status;
  if (status.startsWith('MAINT')) return { state: 'initial', reason: 'Elb.RegistrationInProgress' };
  if (status.startsWith('DOWN')) {
    // "DOWN 1/2": down, on its way up; before its first success it has never been healthy.
    if (/^DOWN \d+\/\d+/.test(status) || server.checkStatus === 'INI' || server.checkStatus === '')
      return { state: 'initial', reason: 'Elb.InitialHealthChecking' };
    return { state: 'unhealthy', reason: failureReason(server.checkStatus) };
  }
  // UP, "UP 1/2" (going down, still serving), DRAIN, NOLB, "no check".
  return { state: 'healthy', reason: null };
}

/**
 * Every target's health and open sessions (in the current worker and in the workers a reload
 * replaced, which still finish their requests). A target whose group has two backends (with and
 * without the PROXY protocol) takes the worse of the two and the sum of their sessions.
 */
export function targetHealth(lb: LoadBalancerState, runtime: RuntimeSnapshot): TargetHealthReport[] {
  const reports = new Map<string, TargetHealthReport>();
  const rank: Record<HealthState, number> = { healthy: 0, initial: 1, unhealthy: 2 };
  for (const backend of backendsOf(lb)) {
    for (const target of backend.group.targets) {
      const name = serverName(target);
      const server = runtime.servers.find((s) => s.backend === backend.name && s.name === name);
      const inOldWorkers = runtime.oldWorkerSessions?.[`${backend.name}/${name}`] ?? 0;
      let report: TargetHealthReport;
      if (!server) {
        report = target.drainingSince
          ? {
              targetId: target.id,
              state: 'unhealthy',
              reason: inOldWorkers > 0 ? 'Target.DeregistrationInProgress' : 'Target.NotRegistered',
              activeSessions: inOldWorkers,
            }
          : {
              targetId: target.id,
              state: 'initial',
              reason: 'Elb.RegistrationInProgress',
              activeSessions: inOldWorkers,
            };
      } else {
        const health = fromServer(server);
        report = {
          targetId: target.id,
          ...health,
          reason: target.drainingSince ? 'Target.DeregistrationInProgress' : health.reason,
          activeSessions: server.sessions + inOldWorkers,
        };
      }
      const before = reports.get(target.id);
      if (before) {
        report.activeSessions += before.activeSessions;
        if (rank[before.state] > rank[report.state]) {
          report.state = before.state;
          report.reason = before.reason;
        }
      }
      reports.set(target.id, report);
    }
  }
  return [...reports.values()];
}
