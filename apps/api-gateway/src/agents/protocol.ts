import {
  ContainerStatus,
  HealthStatus,
  TaskStatus,
  type ContainerStateReport,
  type TaskSpec,
} from '@berth/proto';
import {
  arns,
  containerPolicyOf,
  effectiveContainers,
  effectiveNetworkMode,
  effectiveVolumes,
  readTaskDefinition,
  readTaskOverrides,
  registryOf,
  type ArnContext,
  type ContainerLastStatus,
  type TaskLastStatus,
  type TaskSecrets,
} from '@berth/domain';
import type { TaskDefinitionModel, TaskModel } from '@berth/db';

/** Conversions between generated proto types and domain values, kept at the edge. */

export function taskStatusFromProto(status: TaskStatus): TaskLastStatus | null {
  switch (status) {
    case TaskStatus.TASK_STATUS_PENDING:
      return 'PENDING';
    case TaskStatus.TASK_STATUS_RUNNING:
      return 'RUNNING';
    case TaskStatus.TASK_STATUS_STOPPING:
      return 'STOPPING';
    case TaskStatus.TASK_STATUS_STOPPED:
      return 'STOPPED';
    default:
      return null;
  }
}

export function containerStatusFromProto(status: ContainerStatus): ContainerLastStatus | null {
  switch (status) {
    case ContainerStatus.CONTAINER_STATUS_PENDING:
      return 'PENDING';
    case ContainerStatus.CONTAINER_STATUS_RUNNING:
      return 'RUNNING';
    case ContainerStatus.CONTAINER_STATUS_STOPPED:
      return 'STOPPED';
    default:
      return null;
  }
}

export function healthFromProto(status: HealthStatus): 'HEALTHY' | 'UNHEALTHY' | 'UNKNOWN' | null {
  switch (status) {
    case HealthStatus.HEALTH_STATUS_HEALTHY:
      return 'HEALTHY';
    case HealthStatus.HEALTH_STATUS_UNHEALTHY:
      return 'UNHEALTHY';
    case HealthStatus.HEALTH_STATUS_UNKNOWN:
      return 'UNKNOWN';
    default:
      return null;
  }
}

export function bindingsFromProto(c: ContainerStateReport) {
  return c.networkBindings.map((b) => ({
    bindIP: b.bindIp,
    containerPort: b.containerPort,
    hostPort: b.hostPort,
    protocol: b.protocol || 'tcp',
  }));
}

export type TaskForAgent = TaskModel & {
  taskDefinition: TaskDefinitionModel;
  /** The cluster's name and its container policy as it is now. */
  cluster: { name: string; containerPolicyLevel: string; allowedHostPathPrefixes: string[] };
  /** The cluster's opened registry credentials, by registry host. */
  pullCredentials: ReadonlyMap<string, { username: string; password: string }>;
  /** What the containers get from the cluster's secrets; null unless the task may still be launched. */
  secrets: TaskSecrets | null;
};

/** A container's own repositoryCredentials win over the cluster's credentials for the registry. */
function registryAuth(t: TaskForAgent, image: string, own?: { username: string; password: string }) {
  const registry = registryOf(image);
  const credentials = own ?? t.pullCredentials.get(registry);
  return credentials ? { serverAddress: registry, ...credentials } : undefined;
}

export function taskSpec(ctx: ArnContext, t: TaskForAgent): TaskSpec {
  const { family, revision } = t.taskDefinition;
  const definition = readTaskDefinition(t.taskDefinition.definition, `${family}:${revision}`);
  const fromSecrets = t.secrets?.ok ? t.secrets.containers : undefined;
  return {
    taskId: t.id,
    taskArn: arns.task(ctx, t.cluster.name, t.id),
    cluster: t.cluster.name,
    family: t.taskDefinition.family,
    revision: t.taskDefinition.revision,
    desiredStatus: t.desiredStatus,
    lastStatus: t.lastStatus,
    networkMode: effectiveNetworkMode(definition.networkMode),
    volumes: effectiveVolumes(definition.volumes),
    containerPolicy: {
      level: containerPolicyOf(t.cluster).level,
      allowedHostPathPrefixes: t.cluster.allowedHostPathPrefixes,
    },
    launchError: t.secrets?.ok === false ? t.secrets.stoppedReason : '',
    // A service's task is in the group `service:<name>` (set when the controller creates it).
    serviceName: t.serviceId && t.group?.startsWith('service:') ? t.group.slice('service:'.length) : '',
    containers: effectiveContainers(
      definition.containerDefinitions,
      readTaskOverrides(t.overrides, t.id),
    ).map((c) => ({
      name: c.name,
      image: c.image,
      cpu: c.cpu,
      memory: c.memory,
      memoryReservation: c.memoryReservation,
      portMappings: c.portMappings,
      environment: c.environment,
      command: c.command,
      entryPoint: c.entryPoint,
      workingDirectory: c.workingDirectory,
      user: c.user,
      essential: c.essential,
      dependsOn: c.dependsOn,
      stopTimeoutSeconds: c.stopTimeout,
      startTimeoutSeconds: c.startTimeout,
      initProcessEnabled: c.initProcessEnabled,
      healthCheck: c.healthCheck
        ? {
            command: c.healthCheck.command,
            intervalSeconds: c.healthCheck.interval,
            timeoutSeconds: c.healthCheck.timeout,
            retries: c.healthCheck.retries,
            startPeriodSeconds: c.healthCheck.startPeriod,
          }
        : undefined,
      restartPolicy: c.restartPolicy
        ? {
            ignoredExitCodes: c.restartPolicy.ignoredExitCodes,
            restartAttemptPeriodSeconds: c.restartPolicy.restartAttemptPeriod,
          }
        : undefined,
      mountPoints: c.mountPoints,
      volumesFrom: c.volumesFrom,
      ulimits: c.ulimits,
      capabilitiesAdd: c.capabilities.add,
      capabilitiesDrop: c.capabilities.drop,
      readonlyRootFilesystem: c.readonlyRootFilesystem,
      privileged: c.privileged,
      dockerLabels: c.dockerLabels,
      logConfiguration: c.logConfiguration ?? undefined,
      hostname: c.hostname,
      extraHosts: c.extraHosts,
      secrets: fromSecrets?.get(c.name)?.environment ?? [],
      registryAuth: registryAuth(t, c.image, fromSecrets?.get(c.name)?.registryAuth),
    })),
  };
}
