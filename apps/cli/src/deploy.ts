import type { Deployment, Service, ServiceEvent } from '@berth/api-client';
import { lastPart } from './views.js';

/**
 * `berth deploy`: what to show, and whether the wait is over, after each look at the service.
 * Pure: the command's loop fetches the service and prints what this returns.
 */
export type DeployOutcome =
  { done: false } | { done: true; ok: true } | { done: true; ok: false; reason: string };

export interface DeployView {
  /** One line: the deployment's state and its task counts. */
  line: string;
  outcome: DeployOutcome;
}

const short = (id: string) => id.slice(0, 8);

/**
 * `finalReason`: the deployment's reason from ListServiceDeployments, for when it is no longer
 * on the service (a rollback that completes at once drops the failed deployment before a look).
 */
export function deployProgress(service: Service, deploymentId: string, finalReason?: string): DeployView {
  const d = service.deployments.find((x) => x.id === deploymentId);
  const rollback = service.deployments.find((x) => x.rolledBackFrom === deploymentId);
  if (!d && rollback) {
    return {
      line: `deployment ${short(deploymentId)} failed and was rolled back`,
      outcome: { done: true, ok: false, reason: failure(deploymentId, finalReason, rollback) },
    };
  }
  if (!d) {
    const primary = service.deployments.find((x) => x.status === 'PRIMARY');
    return {
      line: `deployment ${short(deploymentId)} is gone`,
      outcome: {
        done: true,
        ok: false,
        reason: `deployment ${deploymentId} was replaced${primary ? ` by deployment ${primary.id} (${lastPart(primary.taskDefinition)})` : ''} before it completed`,
      },
    };
  }
  const others = service.deployments.filter((x) => x.id !== d.id);
  const old = others.reduce((n, x) => n + x.runningCount, 0);
  const line =
    `${lastPart(d.taskDefinition)} ${d.rolloutState}: ${d.runningCount}/${d.desiredCount} running, ` +
    `${d.pendingCount} pending, ${d.failedTasks} failed (circuit breaker at ${d.circuitBreakerThreshold})` +
    (old > 0 ? `; ${old} old tasks running` : '');
  if (d.rolloutState === 'COMPLETED') return { line, outcome: { done: true, ok: true } };
  if (d.rolloutState === 'FAILED')
    return {
      line,
      outcome: { done: true, ok: false, reason: failure(d.id, d.rolloutStateReason, rollback) },
    };
  return { line, outcome: { done: false } };
}

/** This deployment needs a look at ListServiceDeployments for its reason: it failed and is gone. */
export function needsFinalReason(service: Service, deploymentId: string): boolean {
  return (
    !service.deployments.some((x) => x.id === deploymentId) &&
    service.deployments.some((x) => x.rolledBackFrom === deploymentId)
  );
}

function failure(id: string, reason: string | null | undefined, rollback: Deployment | undefined): string {
  return (
    (reason ?? `deployment ${id} failed`) +
    (rollback ? ` Rolled back to ${lastPart(rollback.taskDefinition)} (deployment ${rollback.id}).` : '')
  );
}

/** The events not shown yet, oldest first (the API lists the newest first). */
export function newEvents(events: readonly ServiceEvent[], shown: Set<string>, since: Date): ServiceEvent[] {
  return [...events]
    .filter((e) => !shown.has(e.id) && new Date(e.createdAt).getTime() >= since.getTime())
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}

/** A file given to `berth deploy`: a task definition as ECS writes it, or DescribeTaskDefinition's output. */
export function taskDefinitionFromFile(text: string, file: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file}: not JSON: ${(err as Error).message}`, { cause: err });
  }
  const td =
    typeof parsed === 'object' && parsed !== null && 'taskDefinition' in parsed
      ? (parsed as { taskDefinition: unknown }).taskDefinition
      : parsed;
  if (typeof td !== 'object' || td === null || !('family' in td) || !('containerDefinitions' in td))
    throw new Error(`${file}: not a task definition: it needs family and containerDefinitions`);
  return td as Record<string, unknown>;
}
