/** Task lifecycle, as ECS has it. Observed state only moves forward along this order. */
export const TASK_LAST_STATUSES = ['PROVISIONING', 'PENDING', 'RUNNING', 'STOPPING', 'STOPPED'] as const;
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
