import { circuitBreakerThreshold } from './service-plan.js';

/**
 * Berth's deployments as ECS service deployments (DescribeServiceDeployments,
 * ListServiceDeployments). Pure: the status of one deployment follows from its own status and
 * rollout state and from the rollback that the circuit breaker may have started for it.
 */

export const SERVICE_DEPLOYMENT_STATUSES = [
  'PENDING',
  'SUCCESSFUL',
  'STOPPED',
  'STOP_REQUESTED',
  'IN_PROGRESS',
  'ROLLBACK_REQUESTED',
  'ROLLBACK_IN_PROGRESS',
  'ROLLBACK_SUCCESSFUL',
  'ROLLBACK_FAILED',
] as const;
export type ServiceDeploymentStatus = (typeof SERVICE_DEPLOYMENT_STATUSES)[number];

export interface DeploymentFacts {
  id: string;
  /** PRIMARY, ACTIVE or INACTIVE. */
  status: string;
  /** IN_PROGRESS, COMPLETED or FAILED. */
  rolloutState: string;
  rolloutStateReason: string | null;
  /** Set on a circuit-breaker rollback: the FAILED deployment it replaces. */
  rolledBackFrom: string | null;
  desiredCount: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface ServiceDeploymentState {
  status: ServiceDeploymentStatus;
  statusReason?: string;
  /** When it ended (undefined while it runs). */
  finishedAt?: Date;
  /** The deployment the circuit breaker rolled back to, if it did. */
  rollback?: DeploymentFacts;
}

const SUPERSEDED = 'a newer deployment of the service replaced it before it completed';

/**
 * - COMPLETED: SUCCESSFUL.
 * - IN_PROGRESS: IN_PROGRESS while PRIMARY; STOPPED once a newer deployment replaced it.
 * - FAILED (circuit breaker): with a rollback, ROLLBACK_IN_PROGRESS, then ROLLBACK_SUCCESSFUL or
 *   ROLLBACK_FAILED as the rollback goes (STOPPED if something newer replaced the rollback);
 *   without one, STOPPED.
 */
export function serviceDeploymentState(
  d: DeploymentFacts,
  all: readonly DeploymentFacts[],
): ServiceDeploymentState {
  const reason = d.rolloutStateReason ?? undefined;
  if (d.rolloutState === 'COMPLETED')
    return { status: 'SUCCESSFUL', statusReason: reason, finishedAt: d.updatedAt };
  if (d.rolloutState === 'IN_PROGRESS')
    return d.status === 'PRIMARY'
      ? { status: 'IN_PROGRESS', statusReason: reason }
      : { status: 'STOPPED', statusReason: SUPERSEDED, finishedAt: d.updatedAt };
  const rollback = all.find((r) => r.rolledBackFrom === d.id);
  if (!rollback) return { status: 'STOPPED', statusReason: reason, finishedAt: d.updatedAt };
  if (rollback.rolloutState === 'COMPLETED')
    return { status: 'ROLLBACK_SUCCESSFUL', statusReason: reason, finishedAt: rollback.updatedAt, rollback };
  if (rollback.rolloutState === 'FAILED')
    return { status: 'ROLLBACK_FAILED', statusReason: reason, finishedAt: rollback.updatedAt, rollback };
  return rollback.status === 'PRIMARY'
    ? { status: 'ROLLBACK_IN_PROGRESS', statusReason: reason, rollback }
    : { status: 'STOPPED', statusReason: SUPERSEDED, finishedAt: rollback.updatedAt, rollback };
}

/** The circuit breaker as ECS reports it on a service deployment. */
export function circuitBreakerState(
  enabled: boolean,
  d: DeploymentFacts,
  failedTasks: number,
): {
  status: 'DISABLED' | 'MONITORING' | 'MONITORING_COMPLETE' | 'TRIGGERED';
  failureCount: number;
  threshold: number;
} {
  const threshold = circuitBreakerThreshold(d.desiredCount);
  if (!enabled) return { status: 'DISABLED', failureCount: failedTasks, threshold };
  if (d.rolloutState === 'FAILED') return { status: 'TRIGGERED', failureCount: failedTasks, threshold };
  if (d.rolloutState === 'COMPLETED' || d.status !== 'PRIMARY')
    return { status: 'MONITORING_COMPLETE', failureCount: failedTasks, threshold };
  return { status: 'MONITORING', failureCount: failedTasks, threshold };
}

/** ListServiceDeployments' `status` filter: known values only. */
export function isServiceDeploymentStatus(value: unknown): value is ServiceDeploymentStatus {
  return typeof value === 'string' && (SERVICE_DEPLOYMENT_STATUSES as readonly string[]).includes(value);
}
