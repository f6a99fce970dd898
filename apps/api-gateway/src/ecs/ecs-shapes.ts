import { storedTags, type ArnContext } from '@berth/domain';
import type { ClusterWithCounts } from '../clusters/clusters.service.js';
import type { ServiceWithRelations, TaskCountRow } from '../services/services.repository.js';
import type { ContainerInstanceModel, TaskDefinitionModel } from '@berth/db';
import {
  clusterView,
  containerInstanceView,
  serviceView,
  taskDefinitionView,
  taskView,
  type InstanceCounts,
  type TaskWithRelations,
} from '../http/views.js';

/**
 * The REST views (http/views.ts) in the shapes of the ECS API reference: only the members ECS
 * defines, timestamps as epoch seconds (what awsJson1_1 carries), nothing Berth-only.
 */

/** awsJson1_1 timestamps: seconds since the epoch, with the milliseconds as a fraction. */
const epoch = (iso: unknown) => (typeof iso === 'string' ? new Date(iso).getTime() / 1000 : undefined);

function pick<T extends Record<string, unknown>>(
  from: T,
  members: readonly string[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const m of members) if (from[m] !== undefined && from[m] !== null) out[m] = from[m];
  return out;
}

function withEpochs(obj: Record<string, unknown>, fields: readonly string[]): Record<string, unknown> {
  for (const f of fields) if (obj[f] !== undefined) obj[f] = epoch(obj[f]);
  return obj;
}

export function ecsCluster(ctx: ArnContext, c: ClusterWithCounts, status?: string) {
  return pick(clusterView(ctx, c.cluster, c.counts, status), [
    'clusterArn',
    'clusterName',
    'status',
    'registeredContainerInstancesCount',
    'runningTasksCount',
    'pendingTasksCount',
    'activeServicesCount',
  ]);
}

const TASK_DEFINITION_MEMBERS = [
  'taskDefinitionArn',
  'containerDefinitions',
  'family',
  'taskRoleArn',
  'executionRoleArn',
  'networkMode',
  'revision',
  'volumes',
  'status',
  'requiresAttributes',
  'placementConstraints',
  'compatibilities',
  'runtimePlatform',
  'requiresCompatibilities',
  'cpu',
  'memory',
  'inferenceAccelerators',
  'pidMode',
  'ipcMode',
  'proxyConfiguration',
  'registeredAt',
  'deregisteredAt',
  'registeredBy',
  'ephemeralStorage',
  'enableFaultInjection',
];

export function ecsTaskDefinition(ctx: ArnContext, td: TaskDefinitionModel) {
  const view = taskDefinitionView(ctx, td);
  const out = pick({ compatibilities: ['EC2'], ...view }, TASK_DEFINITION_MEMBERS);
  // ECS answers task-level cpu and memory as strings ("256"); Berth stores what was sent.
  for (const f of ['cpu', 'memory']) if (typeof out[f] === 'number') out[f] = String(out[f]);
  return withEpochs(out, ['registeredAt', 'deregisteredAt']);
}

/** A task definition's tags: given at registration, changed by TagResource and UntagResource. */
export const taskDefinitionTags = (td: TaskDefinitionModel) => storedTags(td.tags);

const TASK_MEMBERS = [
  'taskArn',
  'clusterArn',
  'taskDefinitionArn',
  'containerInstanceArn',
  'lastStatus',
  'desiredStatus',
  'cpu',
  'memory',
  'startedBy',
  'group',
  'overrides',
  'tags',
  'healthStatus',
  'stopCode',
  'stoppedReason',
  'enableExecuteCommand',
  'containers',
  'launchType',
  'createdAt',
  'pullStartedAt',
  'pullStoppedAt',
  'startedAt',
  'stoppingAt',
  'stoppedAt',
];
const CONTAINER_MEMBERS = [
  'taskArn',
  'name',
  'image',
  'runtimeId',
  'lastStatus',
  'exitCode',
  'reason',
  'networkBindings',
  'healthStatus',
];

export function ecsTask(ctx: ArnContext, t: TaskWithRelations) {
  const view = taskView(ctx, t);
  const out = pick({ ...view, launchType: 'EC2' }, TASK_MEMBERS);
  out.overrides = { containerOverrides: [], ...view.overrides };
  out.containers = view.containers.map((c) => ({
    ...pick(c, CONTAINER_MEMBERS),
    networkBindings: c.networkBindings.map((b) =>
      pick(b, ['bindIP', 'containerPort', 'hostPort', 'protocol']),
    ),
  }));
  return withEpochs(out, [
    'createdAt',
    'pullStartedAt',
    'pullStoppedAt',
    'startedAt',
    'stoppingAt',
    'stoppedAt',
  ]);
}

const SERVICE_MEMBERS = [
  'serviceArn',
  'serviceName',
  'clusterArn',
  'status',
  'desiredCount',
  'runningCount',
  'pendingCount',
  'launchType',
  'taskDefinition',
  'deploymentConfiguration',
  'deployments',
  'events',
  'createdAt',
  'placementConstraints',
  'placementStrategy',
  'loadBalancers',
  'healthCheckGracePeriodSeconds',
  'schedulingStrategy',
  'deploymentController',
  'propagateTags',
  'enableECSManagedTags',
  'enableExecuteCommand',
];
const DEPLOYMENT_MEMBERS = [
  'id',
  'status',
  'taskDefinition',
  'desiredCount',
  'pendingCount',
  'runningCount',
  'failedTasks',
  'createdAt',
  'updatedAt',
  'launchType',
  'rolloutState',
  'rolloutStateReason',
];

export function ecsService(ctx: ArnContext, s: ServiceWithRelations, counts: readonly TaskCountRow[]) {
  const view = serviceView(
    ctx,
    s,
    counts.filter((c) => s.deployments.some((d) => d.id === c.deploymentId)),
  );
  const out = pick(
    {
      ...view,
      deploymentController: { type: 'ECS' },
      propagateTags: s.propagateTags,
      enableECSManagedTags: s.enableEcsManagedTags,
      enableExecuteCommand: s.enableExecuteCommand,
    },
    SERVICE_MEMBERS,
  );
  out.deployments = view.deployments.map((d) =>
    withEpochs(pick({ ...d, launchType: 'EC2' }, DEPLOYMENT_MEMBERS), ['createdAt', 'updatedAt']),
  );
  out.events = view.events.map((e) => withEpochs({ ...e }, ['createdAt']));
  return withEpochs(out, ['createdAt']);
}

export function ecsContainerInstance(
  ctx: ArnContext,
  clusterName: string,
  i: { instance: ContainerInstanceModel; counts: InstanceCounts },
) {
  const view = containerInstanceView(ctx, clusterName, i.instance, i.counts);
  const out = pick(view, [
    'containerInstanceArn',
    'status',
    'agentConnected',
    'registeredResources',
    'remainingResources',
    'attributes',
    'runningTasksCount',
    'pendingTasksCount',
    'registeredAt',
  ]);
  out.versionInfo = { agentVersion: view.agentVersion };
  return withEpochs(out, ['registeredAt']);
}

/** A Describe* entry that names nothing: ECS's Failure with reason MISSING and the ARN asked for. */
export const missing = (arn: string) => ({ arn, reason: 'MISSING' });
