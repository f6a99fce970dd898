import {
  arns,
  elbArns,
  circuitBreakerThreshold,
  containerPolicyOf,
  instanceAttributes,
  readNetworkBindings,
  readTaskDefinition,
  readTaskOverrides,
  taskHealth,
  type ArnContext,
  type AttributeChange,
} from '@berth/domain';
import type { ServiceWithRelations, TaskCountRow } from '../services/services.repository.js';
import type { SecretMetadata } from '../secrets/secrets.repository.js';
import type {
  ClusterModel,
  ContainerInstanceModel,
  ScheduleModel,
  ScheduleRunModel,
  TaskContainerModel,
  TaskDefinitionModel,
  TaskModel,
} from '@berth/db';

/** Database rows → ECS-shaped JSON. The only place that knows both shapes. */

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : undefined);

export interface ClusterCounts {
  activeServicesCount: number;
  registeredContainerInstancesCount: number;
  runningTasksCount: number;
  pendingTasksCount: number;
}

export function clusterView(ctx: ArnContext, c: ClusterModel, counts: ClusterCounts, status?: string) {
  return {
    clusterArn: arns.cluster(ctx, c.name),
    clusterName: c.name,
    status: status ?? c.status,
    ...counts,
    createdAt: iso(c.createdAt),
  };
}

/** A cluster's container policy, as GET and PUT /v1/clusters/{cluster}/policy show it. */
export function containerPolicyView(ctx: ArnContext, c: ClusterModel) {
  const policy = containerPolicyOf(c);
  return {
    clusterArn: arns.cluster(ctx, c.name),
    clusterName: c.name,
    level: policy.level,
    allowedHostPathPrefixes: policy.allowedHostPathPrefixes,
  };
}

export function taskDefinitionView(ctx: ArnContext, td: TaskDefinitionModel) {
  return {
    ...readTaskDefinition(td.definition, `${td.family}:${td.revision}`),
    taskDefinitionArn: arns.taskDefinition(ctx, td.family, td.revision),
    family: td.family,
    revision: td.revision,
    status: td.status,
    registeredAt: iso(td.registeredAt),
    deregisteredAt: iso(td.deregisteredAt),
  };
}

export type TaskWithRelations = TaskModel & {
  containers: TaskContainerModel[];
  cluster: ClusterModel;
  taskDefinition: TaskDefinitionModel;
};

export function taskView(ctx: ArnContext, t: TaskWithRelations) {
  const taskArn = arns.task(ctx, t.cluster.name, t.id);
  const { family, revision } = t.taskDefinition;
  const definitions = readTaskDefinition(
    t.taskDefinition.definition,
    `${family}:${revision}`,
  ).containerDefinitions;
  return {
    taskArn,
    clusterArn: arns.cluster(ctx, t.cluster.name),
    taskDefinitionArn: arns.taskDefinition(ctx, t.taskDefinition.family, t.taskDefinition.revision),
    containerInstanceArn: t.containerInstanceId
      ? arns.containerInstance(ctx, t.cluster.name, t.containerInstanceId)
      : undefined,
    lastStatus: t.lastStatus,
    desiredStatus: t.desiredStatus,
    cpu: String(t.cpu),
    memory: String(t.memory),
    startedBy: t.startedBy ?? undefined,
    group: t.group ?? undefined,
    overrides: readTaskOverrides(t.overrides, t.id),
    tags: t.tags,
    placementConstraints: t.placementConstraints,
    placementStrategy: t.placementStrategy,
    provisioningReason: t.lastStatus === 'PROVISIONING' ? (t.provisioningReason ?? undefined) : undefined,
    healthStatus: taskHealth(t.containers),
    stopCode: t.stopCode ?? undefined,
    stoppedReason: t.stoppedReason ?? undefined,
    enableExecuteCommand: t.enableExecuteCommand,
    containers: [...t.containers]
      .sort(
        (a, b) =>
          definitions.findIndex((d) => d.name === a.name) - definitions.findIndex((d) => d.name === b.name),
      )
      .map((c) => ({
        taskArn,
        name: c.name,
        image: definitions.find((d) => d.name === c.name)?.image,
        runtimeId: c.runtimeId ?? undefined,
        lastStatus: c.lastStatus,
        exitCode: c.exitCode ?? undefined,
        reason: c.reason ?? undefined,
        essential: c.essential,
        healthStatus: c.healthStatus,
        networkBindings: readNetworkBindings(c.networkBindings, c.id).map((b) => ({
          ...b,
          // ECS names the address bindIP; hostIp is kept beside it for readers of the Docker API.
          hostIp: b.bindIP,
        })),
      })),
    createdAt: iso(t.createdAt),
    pullStartedAt: iso(t.pullStartedAt),
    pullStoppedAt: iso(t.pullStoppedAt),
    startedAt: iso(t.startedAt),
    stoppingAt: iso(t.stoppingAt),
    stoppedAt: iso(t.stoppedAt),
  };
}

export interface InstanceCounts {
  runningTasksCount: number;
  pendingTasksCount: number;
  reservedPorts: string[];
}

export function containerInstanceView(
  ctx: ArnContext,
  clusterName: string,
  i: ContainerInstanceModel,
  counts: InstanceCounts,
) {
  const resources = (cpu: number, memory: number, ports: string[]) => [
    { name: 'CPU', type: 'INTEGER', integerValue: cpu },
    { name: 'MEMORY', type: 'INTEGER', integerValue: memory },
    { name: 'PORTS', type: 'STRINGSET', stringSetValue: ports },
  ];
  return {
    containerInstanceArn: arns.containerInstance(ctx, clusterName, i.id),
    status: i.status,
    agentConnected: i.agentConnected,
    hostAddress: i.hostAddress,
    agentVersion: i.agentVersion ?? undefined,
    registeredResources: resources(i.registeredCpu, i.registeredMemory, []),
    remainingResources: resources(
      i.registeredCpu - i.reservedCpu,
      i.registeredMemory - i.reservedMemory,
      counts.reservedPorts,
    ),
    attributes: Object.entries(instanceAttributes(i)).map(([name, value]) => ({ name, value })),
    runningTasksCount: counts.runningTasksCount,
    pendingTasksCount: counts.pendingTasksCount,
    registeredAt: iso(i.registeredAt),
    lastHeartbeatAt: iso(i.lastHeartbeatAt),
  };
}

export function serviceView(ctx: ArnContext, s: ServiceWithRelations, counts: readonly TaskCountRow[]) {
  const count = (deploymentId: string | null, pred: (r: TaskCountRow) => boolean) =>
    counts
      .filter((r) => (deploymentId === null || r.deploymentId === deploymentId) && pred(r))
      .reduce((n, r) => n + r.count, 0);
  const isRunning = (r: TaskCountRow) => r.lastStatus === 'RUNNING';
  const isPending = (r: TaskCountRow) => r.lastStatus === 'PENDING' || r.lastStatus === 'PROVISIONING';
  return {
    serviceArn: arns.service(ctx, s.cluster.name, s.name),
    serviceName: s.name,
    clusterArn: arns.cluster(ctx, s.cluster.name),
    status: s.status,
    taskDefinition: arns.taskDefinition(ctx, s.taskDefinition.family, s.taskDefinition.revision),
    desiredCount: s.desiredCount,
    runningCount: count(null, isRunning),
    pendingCount: count(null, isPending),
    launchType: 'EC2',
    schedulingStrategy: s.schedulingStrategy,
    deploymentConfiguration: {
      minimumHealthyPercent: s.minimumHealthyPercent,
      maximumPercent: s.maximumPercent,
      deploymentCircuitBreaker: { enable: s.circuitBreakerEnable, rollback: s.circuitBreakerRollback },
    },
    healthCheckGracePeriodSeconds: s.healthCheckGracePeriodSeconds,
    enableExecuteCommand: s.enableExecuteCommand,
    disconnectedTaskBehavior: s.disconnectedTaskBehavior,
    placementConstraints: s.placementConstraints,
    placementStrategy: s.placementStrategy,
    loadBalancers: s.loadBalancers.map((b) => ({
      targetGroupArn: elbArns.targetGroup(ctx, b.targetGroup.name),
      containerName: b.containerName,
      containerPort: b.containerPort,
    })),
    deployments: s.deployments.map((d) => ({
      id: d.id,
      status: d.status,
      taskDefinition: arns.taskDefinition(ctx, d.taskDefinition.family, d.taskDefinition.revision),
      desiredCount: d.desiredCount,
      runningCount: count(d.id, isRunning),
      pendingCount: count(d.id, isPending),
      failedTasks: count(d.id, (r) => r.failed),
      circuitBreakerThreshold: circuitBreakerThreshold(d.desiredCount),
      rolloutState: d.rolloutState,
      rolloutStateReason: d.rolloutStateReason ?? undefined,
      /** A circuit-breaker rollback: the FAILED deployment it replaces. */
      rolledBackFrom: d.rolledBackFrom ?? undefined,
      createdAt: iso(d.createdAt),
      updatedAt: iso(d.updatedAt),
    })),
    events: s.events.map(serviceEventView),
    createdAt: iso(s.createdAt),
  };
}

export function serviceEventView(e: { id: string; createdAt: Date; message: string }) {
  return { id: e.id, createdAt: iso(e.createdAt), message: e.message };
}

/** Metadata only: a secret's value never leaves the gateway except in a task spec sent to an agent. */
export function secretView(ctx: ArnContext, clusterName: string, s: SecretMetadata) {
  return {
    secretArn: arns.secret(ctx, clusterName, s.name),
    name: s.name,
    description: s.description ?? undefined,
    createdAt: iso(s.createdAt),
    updatedAt: iso(s.updatedAt),
  };
}

/** An attribute PutAttributes set or DeleteAttributes cleared, with its target's ARN. */
export function attributeView(
  ctx: ArnContext,
  clusterName: string,
  a: AttributeChange,
  op: 'put' | 'delete',
) {
  return {
    name: a.name,
    value: op === 'put' ? a.value : undefined,
    targetType: 'container-instance',
    targetId: arns.containerInstance(ctx, clusterName, a.targetId),
  };
}

/** A schedule as CreateSchedule took it (its RunTask fields flat beside its own), with its ARN and times. */
export function scheduleView(ctx: ArnContext, clusterName: string, s: ScheduleModel) {
  return {
    ...(s.runTask as Record<string, unknown>),
    scheduleArn: arns.schedule(ctx, clusterName, s.name),
    clusterArn: arns.cluster(ctx, clusterName),
    name: s.name,
    description: s.description ?? undefined,
    scheduleExpression: s.scheduleExpression,
    scheduleExpressionTimezone: s.scheduleExpressionTimezone,
    flexibleTimeWindow: s.flexibleTimeWindow,
    state: s.state,
    /** The next firing (whether or not the schedule is ENABLED); absent when there is none. */
    nextFireTime: iso(s.nextFireAt),
    creationDate: iso(s.createdAt),
    lastModificationDate: iso(s.updatedAt),
  };
}

/** One firing: the tasks it started, or why it started none. */
export function scheduleRunView(ctx: ArnContext, clusterName: string, r: ScheduleRunModel) {
  return {
    scheduledTime: iso(r.scheduledAt),
    status: r.status,
    taskArns: r.taskIds.map((id) => arns.task(ctx, clusterName, id)),
    reason: r.reason ?? undefined,
    recordedAt: iso(r.createdAt),
  };
}
