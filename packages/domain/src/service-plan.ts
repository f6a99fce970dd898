import type { TaskDesiredStatus, TaskLastStatus } from './status.js';

/**
 * The service reconciler's pure core: from a service's desired spec, its deployments and its
 * live tasks, decide what to do now. No I/O, no clock (now is passed in). The controller applies
 * the actions; running the plan again on the result changes nothing more (level-triggered).
 */

export type HealthStatus = 'HEALTHY' | 'UNHEALTHY' | 'UNKNOWN';
export type DeploymentStatus = 'PRIMARY' | 'ACTIVE' | 'INACTIVE';
export type RolloutState = 'IN_PROGRESS' | 'COMPLETED' | 'FAILED';
/** REPLICA keeps desiredCount tasks; DAEMON one task on each eligible ACTIVE instance. */
export type SchedulingStrategy = 'REPLICA' | 'DAEMON';

export interface ServiceSpec {
  name: string;
  status: 'ACTIVE' | 'DRAINING';
  desiredCount: number;
  minimumHealthyPercent: number;
  maximumPercent: number;
  circuitBreaker: { enable: boolean; rollback: boolean };
  healthCheckGracePeriodSeconds: number;
  steady: boolean;
  /** REPLICA when absent. A DAEMON service's desiredCount is what the plan says it is. */
  schedulingStrategy?: SchedulingStrategy;
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
  /**
   * Set when the breaker started this deployment to roll back: the FAILED deployment it replaces
   * (column `deployment.rolled_back_from`). A rollback that fails too is not rolled back again.
   */
  rolledBackFrom?: string | null;
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
  /**
   * UpdateTaskProtection: until then the task is never chosen for scale-in nor replaced by a
   * deployment (nor moved off a DRAINING instance); the rollout waits. Null or past: unprotected.
   */
  protectedUntil?: Date | null;
  /** The instance the task is placed on or, while it waits, targeted at (DAEMON services). */
  instanceId?: string | null;
  /**
   * A task of a service with loadBalancers: whether each of its targets is registered and healthy
   * in every load balancer (targetsPassGate). Absent for a service without load balancers.
   */
  loadBalancersHealthy?: boolean;
  /**
   * The target groups whose load balancers find the task's target unhealthy (taskLoadBalancerHealth):
   * past the grace period, the task is replaced as a failure, as one failing container health checks.
   */
  unhealthyTargetGroups?: readonly string[];
}

/**
 * A container instance of the cluster as a DAEMON service sees it (ACTIVE or DRAINING; INACTIVE
 * and deregistered ones are left out, and their daemon tasks are stopped).
 */
export interface DaemonInstanceView {
  id: string;
  status: 'ACTIVE' | 'DRAINING';
  /** The instance satisfies the service's placementConstraints (and the definition's memberOf). */
  meetsConstraints: boolean;
  /**
   * A new task of the PRIMARY deployment could be placed there now: agent connected, enough CPU
   * and memory left, its static ports free.
   */
  canPlace: boolean;
  /** Live tasks on the instance that are not daemon tasks: a DRAINING instance's daemon task waits for them. */
  otherLiveTasks: number;
}

export type ServiceAction =
  /** With instanceIds (a DAEMON service), one task targeted at each of them; count is their number. */
  | { type: 'startTasks'; deploymentId: string; count: number; instanceIds?: string[] }
  | { type: 'stopTask'; taskId: string; reason: string; failed: boolean }
  | {
      type: 'updateDeployment';
      deploymentId: string;
      status?: DeploymentStatus;
      rolloutState?: RolloutState;
      rolloutStateReason?: string;
    }
  /**
   * A new PRIMARY deployment (a rollback from `rolledBackFrom`) with the task definition and the
   * loadBalancers of the deployment it `restores`; the current PRIMARY becomes ACTIVE.
   */
  | {
      type: 'createDeployment';
      taskDefinitionId: string;
      restores: string;
      rolledBackFrom: string;
      rolloutStateReason: string;
    }
  | { type: 'setSteady'; steady: boolean }
  /** A DAEMON service's desiredCount (service and PRIMARY deployment): its eligible instances. */
  | { type: 'setDesiredCount'; desiredCount: number }
  /** A deleted (DRAINING) service whose tasks are all gone. */
  | { type: 'markInactive' }
  | { type: 'event'; message: string };

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

/** Protected by UpdateTaskProtection at `now`. */
export function isProtected(t: Pick<ServiceTaskView, 'protectedUntil'>, now: Date): boolean {
  return !!t.protectedUntil && t.protectedUntil.getTime() > now.getTime();
}

/**
 * A task that serves: RUNNING, still wanted, healthy if it has a health check, and, for a service
 * with load balancers, healthy in each of its target groups (the load balancers gate the rollout).
 */
export function isServing(t: ServiceTaskView): boolean {
  return (
    t.lastStatus === 'RUNNING' &&
    t.desiredStatus === 'RUNNING' &&
    (!t.hasHealthCheck || t.healthStatus === 'HEALTHY') &&
    t.loadBalancersHealthy !== false
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
  elbUnhealthy: (service: string, taskId: string, targetGroups: readonly string[]) =>
    `(service ${service}) (task ${shortId(taskId)}) failed ELB health checks in ${targetGroups.map((g) => `(target-group ${g})`).join(' ')}.`,
  deploymentCompleted: (service: string, deploymentId: string) =>
    `(service ${service}) (deployment ${deploymentId}) deployment completed.`,
  deploymentFailed: (service: string, deploymentId: string, failed: number, threshold: number) =>
    `(service ${service}) (deployment ${deploymentId}) deployment failed: ${failed} tasks failed to start or stay healthy (circuit breaker threshold ${threshold}).`,
  rollingBack: (service: string, from: string, to: string) =>
    `(service ${service}) (deployment ${from}) rolling back to the task definition of deployment ${to}, the last that completed.`,
  daemonCount: (service: string, count: number) =>
    `(service ${service}) now has ${count} eligible container instances for its daemon tasks.`,
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

/**
 * `instances` matters only to a DAEMON service: the cluster's ACTIVE and DRAINING instances. A
 * DAEMON service runs one task of its PRIMARY deployment on each eligible instance (ACTIVE, meets
 * its constraints, and either runs its task already or has room for one), and that count is its
 * desiredCount.
 */
export function planService(
  spec: ServiceSpec,
  deployments: readonly DeploymentView[],
  tasks: readonly ServiceTaskView[],
  now: Date,
  instances: readonly DaemonInstanceView[] = [],
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
  const daemon = spec.schedulingStrategy === 'DAEMON' ? daemonView(instances, alive) : undefined;
  const D = daemon ? daemon.eligible.length : spec.desiredCount;
  if (daemon && D !== spec.desiredCount) {
    actions.push({ type: 'setDesiredCount', desiredCount: D });
    actions.push({ type: 'event', message: serviceEvents.daemonCount(spec.name, D) });
  }
  const { minHealthy, maxTotal } = rolloutBounds(D, spec.minimumHealthyPercent, spec.maximumPercent);
  const graceMs = spec.healthCheckGracePeriodSeconds * 1000;

  // 1. Replace tasks that fail their container or load balancers' health checks (past the grace
  // period): failures, which the circuit breaker counts.
  let newFailures = 0;
  for (const t of wanted()) {
    const inGrace = !t.startedAt || now.getTime() - t.startedAt.getTime() < graceMs;
    if (t.lastStatus !== 'RUNNING' || inGrace) continue;
    const unhealthyIn = t.unhealthyTargetGroups ?? [];
    if (t.healthStatus === 'UNHEALTHY') {
      stop(t, 'Task failed container health checks', true);
      actions.push({ type: 'event', message: serviceEvents.unhealthy(spec.name, t.id) });
    } else if (unhealthyIn.length > 0) {
      const groups = unhealthyIn.map((g) => `(target-group ${g})`).join(' ');
      stop(t, `Task failed ELB health checks in ${groups}`, true);
      actions.push({ type: 'event', message: serviceEvents.elbUnhealthy(spec.name, t.id, unhealthyIn) });
    } else continue;
    if (t.deploymentId === primary.id) newFailures++;
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
    if (spec.circuitBreaker.rollback && lastCompleted && !primary.rolledBackFrom) {
      actions.push({
        type: 'createDeployment',
        taskDefinitionId: lastCompleted.taskDefinitionId,
        restores: lastCompleted.id,
        rolledBackFrom: primary.id,
        rolloutStateReason: `Rolling back from deployment ${primary.id} to the task definition of deployment ${lastCompleted.id}.`,
      });
      actions.push({
        type: 'event',
        message: serviceEvents.rollingBack(spec.name, primary.id, lastCompleted.id),
      });
      // The new PRIMARY takes over at the next reconcile.
      return actions;
    }
  }

  if (daemon) {
    planDaemon(alive, primary, rolloutState, daemon, wanted, stop, actions, minHealthy, now);
    const onEligible = (t: ServiceTaskView) => !!t.instanceId && daemon.eligibleIds.has(t.instanceId);
    const primaryTasks = wanted().filter((t) => t.deploymentId === primary.id && onEligible(t));
    const done =
      primaryTasks.filter(isServing).length === D &&
      primaryTasks.length === D &&
      alive.every((t) => t.deploymentId === primary.id && onEligible(t) && t.desiredStatus === 'RUNNING') &&
      !actions.some((a) => a.type !== 'event' && a.type !== 'setDesiredCount');
    finish(spec, deployments, primary, rolloutState, done, actions);
    return actions;
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
  // A FAILED rollout without rollback keeps whatever old tasks still serve. A protected task
  // stays until its protection expires: the rollout waits for it.
  const movable = () => toMove().filter((t) => !isProtected(t, now));
  if (rolloutState !== 'FAILED') {
    for (const t of movable().filter((t) => !isServing(t))) stop(t, moveReason(t));
    const oldServing = movable()
      .filter(isServing)
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
    const canStop = Math.max(0, servingCount() - minHealthy);
    for (const t of oldServing.slice(0, canStop)) stop(t, moveReason(t));
  }

  // 4. Scale the primary down to the desired count; never a protected task.
  const surplus = fromPrimary().length - D;
  if (surplus > 0) {
    const ordered = fromPrimary()
      .filter((t) => !isProtected(t, now))
      .sort(stopOrder);
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
  finish(spec, deployments, primary, rolloutState, done, actions);
  return actions;
}

/** Step 6: completion of the rollout, older deployments INACTIVE, and the steady state. */
function finish(
  spec: ServiceSpec,
  deployments: readonly DeploymentView[],
  primary: DeploymentView,
  rolloutState: RolloutState,
  done: boolean,
  actions: ServiceAction[],
): void {
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
}

interface DaemonView {
  /** Instances that should run one task: ACTIVE, meeting the constraints, running it or with room. */
  eligible: DaemonInstanceView[];
  eligibleIds: Set<string>;
  byId: Map<string, DaemonInstanceView>;
}

function daemonView(instances: readonly DaemonInstanceView[], alive: readonly ServiceTaskView[]): DaemonView {
  const occupied = new Set(alive.flatMap((t) => (t.instanceId ? [t.instanceId] : [])));
  const eligible = instances.filter(
    (i) => i.status === 'ACTIVE' && i.meetsConstraints && (occupied.has(i.id) || i.canPlace),
  );
  return {
    eligible,
    eligibleIds: new Set(eligible.map((i) => i.id)),
    byId: new Map(instances.map((i) => [i.id, i])),
  };
}

/**
 * A DAEMON service after the health and breaker steps: stop what runs where it should not, roll
 * the older deployments' tasks over instance by instance (an instance gets its new task once the
 * old one has STOPPED, so ports and room are free), and start a task on each eligible instance
 * that has none.
 */
function planDaemon(
  alive: readonly ServiceTaskView[],
  primary: DeploymentView,
  rolloutState: RolloutState,
  daemon: DaemonView,
  wanted: () => ServiceTaskView[],
  stop: (t: ServiceTaskView, reason: string) => void,
  actions: ServiceAction[],
  minHealthy: number,
  now: Date,
): void {
  // Where a task must not be: an instance gone or INACTIVE, one that no longer meets the
  // constraints, and a DRAINING one once its other tasks are gone (ECS stops daemon tasks last)
  // and its protection, if any, has expired.
  for (const t of wanted()) {
    const instance = t.instanceId ? daemon.byId.get(t.instanceId) : undefined;
    if (!instance) stop(t, 'Container instance is no longer registered');
    else if (instance.status === 'DRAINING') {
      if (instance.otherLiveTasks === 0 && !isProtected(t, now)) stop(t, 'Container instance is DRAINING');
    } else if (!instance.meetsConstraints)
      stop(t, 'Container instance no longer meets the placement constraints');
  }
  // One task per instance: a second one there (a race, a retry) goes, the newest first.
  const seen = new Set<string>();
  const byAge = [...wanted()].sort(
    (a, b) =>
      Number(b.deploymentId === primary.id) - Number(a.deploymentId === primary.id) ||
      Number(isServing(b)) - Number(isServing(a)) ||
      a.createdAt.getTime() - b.createdAt.getTime(),
  );
  for (const t of byAge) {
    if (!t.instanceId) continue;
    if (seen.has(t.instanceId) && !isProtected(t, now))
      stop(t, 'Only one daemon task per container instance');
    seen.add(t.instanceId);
  }
  // Older deployments: replaced within the healthy minimum, never while protected.
  if (rolloutState !== 'FAILED') {
    const old = () => wanted().filter((t) => t.deploymentId !== primary.id && !isProtected(t, now));
    for (const t of old().filter((t) => !isServing(t))) stop(t, 'Replaced by a newer deployment');
    const canStop = Math.max(0, wanted().filter(isServing).length - minHealthy);
    const oldServing = old()
      .filter(isServing)
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
    for (const t of oldServing.slice(0, canStop)) stop(t, 'Replaced by a newer deployment');
  }
  // Start one task on each eligible instance with no live task of the service (not even one
  // still stopping).
  if (rolloutState === 'FAILED') return;
  const occupied = new Set(alive.flatMap((t) => (t.instanceId ? [t.instanceId] : [])));
  const instanceIds = daemon.eligible.filter((i) => i.canPlace && !occupied.has(i.id)).map((i) => i.id);
  if (instanceIds.length > 0)
    actions.push({ type: 'startTasks', deploymentId: primary.id, count: instanceIds.length, instanceIds });
}
