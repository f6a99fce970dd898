/**
 * Task lifecycle, as ECS has it. Observed state only moves forward along this order. DEACTIVATING
 * (written by the control plane, not by agents) is a task with load-balancer targets that is
 * leaving them before it stops: ranked after RUNNING, so an agent's RUNNING report cannot move
 * it back.
 */
export const TASK_LAST_STATUSES = [
  'PROVISIONING',
  'PENDING',
  'RUNNING',
  'DEACTIVATING',
  'STOPPING',
  'STOPPED',
] as const;
export type TaskLastStatus = (typeof TASK_LAST_STATUSES)[number];

export const TASK_DESIRED_STATUSES = ['RUNNING', 'STOPPED'] as const;
export type TaskDesiredStatus = (typeof TASK_DESIRED_STATUSES)[number];

export const CONTAINER_STATUSES = ['PENDING', 'RUNNING', 'STOPPED'] as const;
export type ContainerLastStatus = (typeof CONTAINER_STATUSES)[number];

export const CONTAINER_INSTANCE_STATUSES = ['ACTIVE', 'DRAINING', 'INACTIVE'] as const;
export type ContainerInstanceStatus = (typeof CONTAINER_INSTANCE_STATUSES)[number];

export type StopCode =
  | 'TaskFailedToStart'
  | 'EssentialContainerExited'
  | 'UserInitiated'
  | 'ServiceSchedulerInitiated'
  | 'InstanceLost';

export function taskStatusRank(status: TaskLastStatus): number {
  return TASK_LAST_STATUSES.indexOf(status);
}

/** A report may only move a task forward: RUNNING after STOPPED is a stale message. */
export function isTaskStatusAdvance(from: TaskLastStatus, to: TaskLastStatus): boolean {
  return taskStatusRank(to) > taskStatusRank(from);
}

export function isContainerStatusAdvance(from: ContainerLastStatus, to: ContainerLastStatus): boolean {
  return CONTAINER_STATUSES.indexOf(to) > CONTAINER_STATUSES.indexOf(from);
}

export const DEPLOYMENT_STATUSES = ['PRIMARY', 'ACTIVE', 'INACTIVE'] as const;
export const ROLLOUT_STATES = ['IN_PROGRESS', 'COMPLETED', 'FAILED'] as const;
export const SERVICE_STATUSES = ['ACTIVE', 'DRAINING', 'INACTIVE'] as const;
export const HEALTH_STATUSES = ['HEALTHY', 'UNHEALTHY', 'UNKNOWN'] as const;
export type ServiceStatus = (typeof SERVICE_STATUSES)[number];

/** A status column that holds a value outside its set: a fault in Berth, or a hand-edited row. */
export class UnknownStatusError extends Error {
  constructor(kind: string, value: unknown) {
    super(`stored ${kind} "${String(value)}" is not one Berth knows`);
    this.name = 'UnknownStatusError';
  }
}

function statusParser<const S extends readonly string[]>(kind: string, values: S) {
  const known = new Set<string>(values);
  return (value: string): S[number] => {
    if (!known.has(value)) throw new UnknownStatusError(kind, value);
    return value as S[number];
  };
}

/**
 * The one way a status column (a Postgres text) becomes a typed status: checked against its set,
 * so a stray value fails where it is read instead of falling through a switch.
 */
export const parseStatus = {
  taskLast: statusParser('task lastStatus', TASK_LAST_STATUSES),
  taskDesired: statusParser('task desiredStatus', TASK_DESIRED_STATUSES),
  container: statusParser('container lastStatus', CONTAINER_STATUSES),
  containerInstance: statusParser('container instance status', CONTAINER_INSTANCE_STATUSES),
  deployment: statusParser('deployment status', DEPLOYMENT_STATUSES),
  rolloutState: statusParser('deployment rolloutState', ROLLOUT_STATES),
  service: statusParser('service status', SERVICE_STATUSES),
  health: statusParser('healthStatus', HEALTH_STATUSES),
  schedulingStrategy: statusParser('service schedulingStrategy', ['REPLICA', 'DAEMON'] as const),
};
