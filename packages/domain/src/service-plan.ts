import type { TaskDesiredStatus, TaskLastStatus } from './status.js';

/**
 * The service reconciler's pure core: from a service's desired spec, its deployments and its
 * live tasks, decide what to do now. No I/O, no clock (now is passed in). The controller applies
 * the actions; running the plan again on the result changes nothing more (level-triggered).
 */

export type HealthStatus = 'HEALTHY' | 'UNHEALTHY' | 'UNKNOWN';
export type DeploymentStatus = 'PRIMARY' | 'ACTIVE' | 'INACTIVE';
export type RolloutState = 'IN_PROGRESS' | 'COMPLETED' | 'FAILED';

export interface ServiceSpec {
  name: string;
  status: 'ACTIVE' | 'DRAINING';
  desiredCount: number;
  minimumHealthyPercent: number;
  maximumPercent: number;
  circuitBreaker: { enable: boolean; rollback: boolean };
  healthCheckGracePeriodSeconds: number;
  steady: boolean;
}

export interface DeploymentView {
  id: string;
  status: DeploymentStatus;
  taskDefinitionId: string;
  desiredCount: number;
  rolloutState: RolloutState;
  createdAt: Date;
  /** Tasks of this deployment that failed: did not start, exited, or failed health checks. */
  failedTasks: number;
  /** Started by the breaker to roll back; a rollback that fails too is not rolled back again. */
  isRollback?: boolean;
}

export interface ServiceTaskView {
  id: string;
  deploymentId: string | null;
  lastStatus: TaskLastStatus;
  desiredStatus: TaskDesiredStatus;
  healthStatus: HealthStatus;
  hasHealthCheck: boolean;
  startedAt: Date | null;
  createdAt: Date;
  /** On a DRAINING instance: replaced elsewhere first, stopped after, within the healthy minimum. */
  onDrainingInstance?: boolean;
}

export type ServiceAction =
  | { type: 'startTasks'; deploymentId: string; count: number }
  | { type: 'stopTask'; taskId: string; reason: string; failed: boolean }
  | {
      type: 'updateDeployment';
      deploymentId: string;
      status?: DeploymentStatus;
      rolloutState?: RolloutState;
      rolloutStateReason?: string;
    }
  /** A new PRIMARY deployment (a rollback); the current PRIMARY becomes ACTIVE. */
  | { type: 'createDeployment'; taskDefinitionId: string; rolloutStateReason: string }
  | { type: 'setSteady'; steady: boolean }
  /** A deleted (DRAINING) service whose tasks are all gone. */
  | { type: 'markInactive' }
  | { type: 'event'; message: string };

/** How a rollback deployment's rolloutStateReason starts, until it completes or fails. */
export const ROLLBACK_REASON_PREFIX = 'Rolling back from deployment';

/** ECS's breaker threshold: half the desired count, at least 3 and at most 200. */
export function circuitBreakerThreshold(desiredCount: number): number {
  return Math.min(200, Math.max(3, Math.ceil(desiredCount / 2)));
}

/** ECS rounding: the healthy floor rounds up, the ceiling on running tasks rounds down. */
export function rolloutBounds(desiredCount: number, minimumHealthyPercent: number, maximumPercent: number) {
  return {
    minHealthy: Math.ceil((desiredCount * minimumHealthyPercent) / 100),
    maxTotal: Math.floor((desiredCount * maximumPercent) / 100),
  };
}

/** A task's health: HEALTHY only when every essential container that has a check is healthy. */
export function taskHealth(
  containers: { essential: boolean; hasHealthCheck: boolean; healthStatus: string }[],
): HealthStatus {
  const checked = containers.filter((c) => c.essential && c.hasHealthCheck);
  if (checked.length === 0) return 'UNKNOWN';
  if (checked.some((c) => c.healthStatus === 'UNHEALTHY')) return 'UNHEALTHY';
  return checked.every((c) => c.healthStatus === 'HEALTHY') ? 'HEALTHY' : 'UNKNOWN';
}

/** A task that serves: RUNNING, still wanted, and healthy if it has a health check. */
export function isServing(t: ServiceTaskView): boolean {
  return (
    t.lastStatus === 'RUNNING' &&
    t.desiredStatus === 'RUNNING' &&
    (!t.hasHealthCheck || t.healthStatus === 'HEALTHY')
  );
}

const shortId = (id: string) => id.slice(0, 8);

export const serviceEvents = {
  started: (service: string, taskIds: string[]) =>
    `(service ${service}) has started ${taskIds.length} tasks: ${taskIds.map((id) => `(task ${shortId(id)})`).join(' ')}.`,
  stopped: (service: string, taskIds: string[]) =>
    `(service ${service}) has stopped ${taskIds.length} running tasks: ${taskIds.map((id) => `(task ${shortId(id)})`).join(' ')}.`,
  steady: (service: string) => `(service ${service}) has reached a steady state.`,
  unhealthy: (service: string, taskId: string) =>
    `(service ${service}) (task ${shortId(taskId)}) failed container health checks.`,
  deploymentCompleted: (service: string, deploymentId: string) =>
    `(service ${service}) (deployment ${deploymentId}) deployment completed.`,
  deploymentFailed: (service: string, deploymentId: string, failed: number, threshold: number) =>
    `(service ${service}) (deployment ${deploymentId}) deployment failed: ${failed} tasks failed to start or stay healthy (circuit breaker threshold ${threshold}).`,
  rollingBack: (service: string, from: string, to: string) =>
    `(service ${service}) (deployment ${from}) rolling back to the task definition of deployment ${to}, the last that completed.`,
  unableToStart: (service: string, reason: string) =>
    `(service ${service}) was unable to start a task: ${reason}.`,
  unableToPlace: (service: string, reason: string) =>
    `(service ${service}) was unable to place a task because no container instance met all of its requirements. ${reason
      .replace(/^No container instance met all of its requirements: /, 'Of the instances, ')
      .replace(
        /^No container instances are registered in the cluster\./,
        'The cluster has no registered container instances.',
      )}`,
};

/** Which surplus task to stop first: not yet serving, then the newest. */
function stopOrder(a: ServiceTaskView, b: ServiceTaskView): number {
  const serving = Number(isServing(a)) - Number(isServing(b));
  if (serving !== 0) return serving;
  return b.createdAt.getTime() - a.createdAt.getTime();
}

export function planService(
  spec: ServiceSpec,
  deployments: readonly DeploymentView[],
  tasks: readonly ServiceTaskView[],
  now: Date,
): ServiceAction[] {
  const actions: ServiceAction[] = [];
  const stopped = new Set<string>();
  const stop = (t: ServiceTaskView, reason: string, failed = false) => {
    stopped.add(t.id);
    actions.push({ type: 'stopTask', taskId: t.id, reason, failed });
  };
  // Tasks that still occupy room: everything not yet STOPPED, even those already asked to stop.
  const alive = tasks.filter((t) => t.lastStatus !== 'STOPPED');
  const wanted = () => alive.filter((t) => t.desiredStatus === 'RUNNING' && !stopped.has(t.id));

  if (spec.status === 'DRAINING') {
    for (const t of wanted()) stop(t, 'Service is being deleted');
    if (alive.length === 0) actions.push({ type: 'markInactive' });
    return actions;
  }

  const primary = deployments.find((d) => d.status === 'PRIMARY');
  if (!primary) return actions;
  const D = spec.desiredCount;
  const { minHealthy, maxTotal } = rolloutBounds(D, spec.minimumHealthyPercent, spec.maximumPercent);
  const graceMs = spec.healthCheckGracePeriodSeconds * 1000;

  // 1. Replace tasks that fail their health checks (past the grace period).
  let newFailures = 0;
  for (const t of wanted()) {
    const inGrace = !t.startedAt || now.getTime() - t.startedAt.getTime() < graceMs;
    if (t.lastStatus === 'RUNNING' && t.healthStatus === 'UNHEALTHY' && !inGrace) {
      stop(t, 'Task failed container health checks', true);
      actions.push({ type: 'event', message: serviceEvents.unhealthy(spec.name, t.id) });
      if (t.deploymentId === primary.id) newFailures++;
    }
  }

  // 2. The circuit breaker: too many failed tasks in the rollout fail it, and maybe roll back.
  const threshold = circuitBreakerThreshold(D);
  const failures = primary.failedTasks + newFailures;
  let rolloutState = primary.rolloutState;
  if (spec.circuitBreaker.enable && rolloutState === 'IN_PROGRESS' && failures >= threshold) {
    rolloutState = 'FAILED';
    const reason = `ECS deployment circuit breaker: ${failures} tasks failed to start or stay healthy (threshold ${threshold}).`;
    actions.push({
      type: 'updateDeployment',
      deploymentId: primary.id,
      rolloutState,
      rolloutStateReason: reason,
    });
    actions.push({
      type: 'event',
      message: serviceEvents.deploymentFailed(spec.name, primary.id, failures, threshold),
    });
    const lastCompleted = [...deployments]
      .filter((d) => d.id !== primary.id && d.rolloutState === 'COMPLETED')
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())[0];
    if (spec.circuitBreaker.rollback && lastCompleted && !primary.isRollback) {
      actions.push({
        type: 'createDeployment',
        taskDefinitionId: lastCompleted.taskDefinitionId,
        rolloutStateReason: `${ROLLBACK_REASON_PREFIX} ${primary.id} to the task definition of deployment ${lastCompleted.id}.`,
      });
      actions.push({
        type: 'event',
        message: serviceEvents.rollingBack(spec.name, primary.id, lastCompleted.id),
      });
      // The new PRIMARY takes over at the next reconcile.
      return actions;
    }
  }

  // Tasks the primary keeps, and tasks to move: those of older deployments, and those on
  // DRAINING instances (replaced elsewhere like an old deployment's tasks).
  const moving = (t: ServiceTaskView) => t.deploymentId !== primary.id || t.onDrainingInstance === true;
  const fromPrimary = () => wanted().filter((t) => !moving(t));
  const toMove = () => wanted().filter(moving);
  const servingCount = () => wanted().filter(isServing).length;
  const moveReason = (t: ServiceTaskView) =>
    t.deploymentId !== primary.id
      ? 'Replaced by a newer deployment'
      : 'Container instance is DRAINING: replaced elsewhere';

  // 3. Drain older deployments and DRAINING instances without dropping below the healthy minimum.
  // A FAILED rollout without rollback keeps whatever old tasks still serve.
  if (rolloutState !== 'FAILED') {
    for (const t of toMove().filter((t) => !isServing(t))) stop(t, moveReason(t));
    const oldServing = toMove()
      .filter(isServing)
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
    const canStop = Math.max(0, servingCount() - minHealthy);
    for (const t of oldServing.slice(0, canStop)) stop(t, moveReason(t));
  }

  // 4. Scale the primary down to the desired count.
  const surplus = fromPrimary().length - D;
  if (surplus > 0) {
    const ordered = [...fromPrimary()].sort(stopOrder);
    // Never stop a serving task if that would leave fewer than the healthy minimum.
    let canStopServing = Math.max(0, servingCount() - Math.min(minHealthy, D));
    for (const t of ordered.slice(0, surplus)) {
      if (isServing(t)) {
        if (canStopServing === 0) continue;
        canStopServing--;
      }
      stop(t, 'Scaling activity: the service has more tasks than its desired count');
    }
  }

  // 5. Start what the primary lacks, within the ceiling on tasks that still occupy room.
  if (rolloutState !== 'FAILED') {
    const want = D - fromPrimary().length;
    const room = maxTotal - alive.length;
    const count = Math.min(want, room);
    if (count > 0) actions.push({ type: 'startTasks', deploymentId: primary.id, count });
  }

  // 6. Completion and steady state.
  const primaryServing = fromPrimary().filter(isServing).length;
  const othersAlive = alive.some(moving);
  const done =
    primaryServing === D &&
    fromPrimary().length === D &&
    !othersAlive &&
    !actions.some((a) => a.type !== 'event');
  if (done && rolloutState === 'IN_PROGRESS') {
    actions.push({
      type: 'updateDeployment',
      deploymentId: primary.id,
      rolloutState: 'COMPLETED',
      rolloutStateReason: 'ECS deployment completed.',
    });
    actions.push({ type: 'event', message: serviceEvents.deploymentCompleted(spec.name, primary.id) });
  }
  if (done) {
    for (const d of deployments) {
      if (d.status === 'ACTIVE')
        actions.push({ type: 'updateDeployment', deploymentId: d.id, status: 'INACTIVE' });
    }
  }
  if (done !== spec.steady) {
    actions.push({ type: 'setSteady', steady: done });
    if (done) actions.push({ type: 'event', message: serviceEvents.steady(spec.name) });
  }
  return actions;
}
