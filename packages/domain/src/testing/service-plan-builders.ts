import type {
  DaemonInstanceView,
  DeploymentView,
  ServiceAction,
  ServiceSpec,
  ServiceTaskView,
} from '../service-plan.js';

/**
 * Builders for the service planner's table tests (service-plan*.test.ts), around a fixed `now`.
 * Test code only: tsconfig.build.json leaves src/testing out of the package.
 */
export function servicePlanBuilders(now: Date) {
  const ago = (s: number) => new Date(now.getTime() - s * 1000);
  const spec = (over: Partial<ServiceSpec> = {}): ServiceSpec => ({
    name: 'web',
    status: 'ACTIVE',
    desiredCount: 3,
    minimumHealthyPercent: 100,
    maximumPercent: 200,
    circuitBreaker: { enable: false, rollback: false },
    healthCheckGracePeriodSeconds: 0,
    steady: false,
    ...over,
  });
  const deployment = (id: string, over: Partial<DeploymentView> = {}): DeploymentView => ({
    id,
    status: 'PRIMARY',
    taskDefinitionId: `td-${id}`,
    desiredCount: 3,
    rolloutState: 'IN_PROGRESS',
    createdAt: ago(600),
    failedTasks: 0,
    ...over,
  });
  let n = 0;
  /** A RUNNING task `t<n>`, each one created and started a second after the one before. */
  const task = (deploymentId: string, over: Partial<ServiceTaskView> = {}): ServiceTaskView => {
    n++;
    return {
      id: `t${n}`,
      deploymentId,
      lastStatus: 'RUNNING',
      desiredStatus: 'RUNNING',
      healthStatus: 'UNKNOWN',
      hasHealthCheck: false,
      startedAt: ago(300 - n),
      createdAt: ago(400 - n),
      ...over,
    };
  };
  const running = (deploymentId: string, count: number, over: Partial<ServiceTaskView> = {}) =>
    Array.from({ length: count }, () => task(deploymentId, over));
  const instance = (id: string, over: Partial<DaemonInstanceView> = {}): DaemonInstanceView => ({
    id,
    status: 'ACTIVE',
    meetsConstraints: true,
    canPlace: true,
    otherLiveTasks: 0,
    ...over,
  });
  return { ago, spec, deployment, task, running, instance };
}

/** The plan's actions of one type. */
export const actionsOf = <T extends ServiceAction['type']>(actions: ServiceAction[], type: T) =>
  actions.filter((a): a is Extract<ServiceAction, { type: T }> => a.type === type);
/** How many tasks the plan starts. */
export const started = (actions: ServiceAction[]) =>
  actionsOf(actions, 'startTasks').reduce((s, a) => s + a.count, 0);
/** The ids of the tasks the plan stops. */
export const stoppedIds = (actions: ServiceAction[]) => actionsOf(actions, 'stopTask').map((a) => a.taskId);
