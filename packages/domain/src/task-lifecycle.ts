import type { ContainerLastStatus, StopCode, TaskDesiredStatus, TaskLastStatus } from './status.js';
import type { ContainerDefinition, DependsOnCondition, VolumeDefinition } from './task-definition.js';
import { InvalidParameterError } from './errors.js';
import type { TaskOverrides } from './run-task.js';
import { DEFAULT_STOP_TIMEOUT_SECONDS, reservationOf } from './task-definition.js';

export interface TaskContainerView {
  name: string;
  essential: boolean;
  lastStatus: ContainerLastStatus;
  exitCode: number | null;
  reason: string | null;
}

export interface TaskView {
  lastStatus: TaskLastStatus;
  desiredStatus: TaskDesiredStatus;
  startedAt: Date | null;
  containers: TaskContainerView[];
}

export interface StopDecision {
  stopCode: StopCode;
  stoppedReason: string;
}

/**
 * What the controller concludes from a task's containers: a task that should run but whose
 * essential container has stopped must stop as a whole. A task that never reached RUNNING failed
 * to start (the container's reason, such as CannotPullContainerError, says why); otherwise its
 * essential container exited. Returns null when nothing needs to change.
 */
export function decideEssentialStop(task: TaskView): StopDecision | null {
  if (task.desiredStatus !== 'RUNNING') return null;
  const stopped = task.containers.find((c) => c.essential && c.lastStatus === 'STOPPED');
  if (!stopped) return null;
  if (!task.startedAt) {
    // The container that failed says why (a pull error, a dependency never met), even when it is
    // not the essential one that the failure then stopped.
    const failed = task.containers.find((c) => c.lastStatus === 'STOPPED' && c.reason);
    return {
      stopCode: 'TaskFailedToStart',
      stoppedReason: failed?.reason ?? `Essential container ${stopped.name} stopped before the task started`,
    };
  }
  return { stopCode: 'EssentialContainerExited', stoppedReason: 'Essential container in task exited' };
}

/** One container as the agent must run it: the definition with RunTask overrides applied. */
export interface EffectiveContainer {
  name: string;
  image: string;
  cpu: number;
  memory: number;
  memoryReservation: number;
  portMappings: { containerPort: number; hostPort: number; protocol: 'tcp' | 'udp' }[];
  environment: { name: string; value: string }[];
  command: string[];
  entryPoint: string[];
  workingDirectory: string;
  user: string;
  essential: boolean;
  dependsOn: { containerName: string; condition: DependsOnCondition }[];
  stopTimeout: number;
  /** How long the container may wait for its dependencies' conditions before the task fails. */
  startTimeout: number;
  initProcessEnabled: boolean;
  /** Docker's health check, with ECS defaults filled in; null without one. */
  healthCheck: {
    command: string[];
    interval: number;
    timeout: number;
    retries: number;
    startPeriod: number;
  } | null;
  restartPolicy: { ignoredExitCodes: number[]; restartAttemptPeriod: number } | null;
  mountPoints: { sourceVolume: string; containerPath: string; readOnly: boolean }[];
  volumesFrom: { sourceContainer: string; readOnly: boolean }[];
  ulimits: { name: string; softLimit: number; hardLimit: number }[];
  capabilities: { add: string[]; drop: string[] };
  readonlyRootFilesystem: boolean;
  privileged: boolean;
  dockerLabels: Record<string, string>;
  /** null: Docker's default driver. awslogs and awsfirelens fall back to json-file. */
  logConfiguration: { logDriver: string; options: Record<string, string> } | null;
  hostname: string;
  extraHosts: { hostname: string; ipAddress: string }[];
}

/** ECS's default container start timeout on EC2 (ECS_CONTAINER_START_TIMEOUT). */
export const DEFAULT_START_TIMEOUT_SECONDS = 180;
export const DEFAULT_RESTART_ATTEMPT_PERIOD_SECONDS = 300;

export function effectiveContainers(
  containerDefinitions: ContainerDefinition[],
  overrides: TaskOverrides | undefined,
): EffectiveContainer[] {
  return containerDefinitions.map((c) => {
    const o = overrides?.containerOverrides?.find((x) => x.name === c.name);
    const env = new Map((c.environment ?? []).map((e) => [e.name, e.value]));
    for (const e of o?.environment ?? []) env.set(e.name, e.value);
    const log = c.logConfiguration;
    return {
      name: c.name,
      image: c.image,
      cpu: o?.cpu ?? c.cpu ?? 0,
      memory: o?.memory ?? c.memory ?? 0,
      memoryReservation: o?.memoryReservation ?? c.memoryReservation ?? 0,
      portMappings: (c.portMappings ?? []).map((p) => ({
        containerPort: p.containerPort,
        hostPort: p.hostPort ?? 0,
        protocol: p.protocol ?? 'tcp',
      })),
      environment: [...env].map(([name, value]) => ({ name, value })),
      command: o?.command ?? c.command ?? [],
      entryPoint: c.entryPoint ?? [],
      workingDirectory: c.workingDirectory ?? '',
      user: c.user ?? '',
      essential: c.essential !== false,
      dependsOn: (c.dependsOn ?? []).map((d) => ({ containerName: d.containerName, condition: d.condition })),
      stopTimeout: c.stopTimeout ?? DEFAULT_STOP_TIMEOUT_SECONDS,
      startTimeout: c.startTimeout ?? DEFAULT_START_TIMEOUT_SECONDS,
      initProcessEnabled: c.linuxParameters?.initProcessEnabled === true,
      healthCheck: c.healthCheck
        ? {
            command: c.healthCheck.command,
            interval: c.healthCheck.interval ?? 30,
            timeout: c.healthCheck.timeout ?? 5,
            retries: c.healthCheck.retries ?? 3,
            startPeriod: c.healthCheck.startPeriod ?? 0,
          }
        : null,
      restartPolicy: c.restartPolicy?.enabled
        ? {
            ignoredExitCodes: c.restartPolicy.ignoredExitCodes ?? [],
            restartAttemptPeriod:
              c.restartPolicy.restartAttemptPeriod ?? DEFAULT_RESTART_ATTEMPT_PERIOD_SECONDS,
          }
        : null,
      mountPoints: (c.mountPoints ?? []).map((m) => ({
        sourceVolume: m.sourceVolume,
        containerPath: m.containerPath,
        readOnly: m.readOnly === true,
      })),
      volumesFrom: (c.volumesFrom ?? []).map((v) => ({
        sourceContainer: v.sourceContainer,
        readOnly: v.readOnly === true,
      })),
      ulimits: (c.ulimits ?? []).map((u) => ({
        name: u.name,
        softLimit: u.softLimit,
        hardLimit: u.hardLimit,
      })),
      capabilities: {
        add: c.linuxParameters?.capabilities?.add ?? [],
        drop: c.linuxParameters?.capabilities?.drop ?? [],
      },
      readonlyRootFilesystem: c.readonlyRootFilesystem === true,
      privileged: c.privileged === true,
      dockerLabels: c.dockerLabels ?? {},
      logConfiguration: log
        ? log.logDriver === 'awslogs' || log.logDriver === 'awsfirelens'
          ? { logDriver: 'json-file', options: {} }
          : { logDriver: log.logDriver, options: log.options ?? {} }
        : null,
      hostname: c.hostname ?? '',
      extraHosts: (c.extraHosts ?? []).map((h) => ({ hostname: h.hostname, ipAddress: h.ipAddress })),
    };
  });
}

/** A task definition's volumes as the agent provides them. */
export interface EffectiveVolume {
  name: string;
  /** host: a bind mount of sourcePath; docker: a Docker volume (a task-scoped one without either). */
  type: 'host' | 'docker';
  sourcePath: string;
  scope: 'task' | 'shared';
  autoprovision: boolean;
  driver: string;
  driverOpts: Record<string, string>;
  labels: Record<string, string>;
}

export function effectiveVolumes(volumes: VolumeDefinition[] | undefined): EffectiveVolume[] {
  return (volumes ?? []).map((v) => {
    const docker = v.dockerVolumeConfiguration;
    return {
      name: v.name,
      type: v.host?.sourcePath ? 'host' : 'docker',
      sourcePath: v.host?.sourcePath ?? '',
      scope: docker?.scope ?? 'task',
      autoprovision: docker?.autoprovision === true,
      driver: docker?.driver ?? 'local',
      driverOpts: docker?.driverOpts ?? {},
      labels: docker?.labels ?? {},
    };
  });
}

/**
 * What one task reserves: task-level cpu/memory (overridden by RunTask's task-level overrides)
 * when set, otherwise the sum over the containers with their overrides.
 */
export function taskReservation(
  definition: { cpu?: unknown; memory?: unknown; containerDefinitions: ContainerDefinition[] },
  overrides: TaskOverrides | undefined,
): { cpu: number; memory: number } {
  const task = {
    cpu: overrides?.cpu ?? (definition.cpu === undefined ? undefined : Number(definition.cpu)),
    memory: overrides?.memory ?? (definition.memory === undefined ? undefined : Number(definition.memory)),
  };
  return reservationOf(task, effectiveContainers(definition.containerDefinitions, overrides));
}

/** RunTask overrides checked against the definition they apply to, naming the field. */
export function validateOverrides(
  definition: { memory?: unknown; containerDefinitions: ContainerDefinition[] },
  ref: string,
  overrides: TaskOverrides | undefined,
): void {
  const taskMemory =
    overrides?.memory ?? (definition.memory === undefined ? undefined : Number(definition.memory));
  overrides?.containerOverrides?.forEach((o, i) => {
    const at = `overrides.containerOverrides[${i}]`;
    const c = definition.containerDefinitions.find((x) => x.name === o.name);
    if (!c)
      throw new InvalidParameterError(`${at}.name: no container named "${o.name}" in ${ref}`, `${at}.name`);
    const memory = o.memory ?? c.memory;
    if (taskMemory !== undefined && memory !== undefined && memory > taskMemory)
      throw new InvalidParameterError(
        `${at}.memory: ${memory} MiB exceeds the task's memory (${taskMemory} MiB)`,
        `${at}.memory`,
      );
    const reservation = o.memoryReservation ?? c.memoryReservation;
    if (memory !== undefined && reservation !== undefined && reservation > memory)
      throw new InvalidParameterError(
        `${at}.memoryReservation: must not exceed memory (${memory} MiB)`,
        `${at}.memoryReservation`,
      );
  });
}

/** Static host ports a task holds on its instance (dynamic ports, 0, are Docker's to pick). */
export function staticHostPorts(
  containerDefinitions: ContainerDefinition[],
  networkMode?: unknown,
): { hostPort: number; protocol: 'tcp' | 'udp' }[] {
  // In host mode a container listens on the host itself: every container port is a host port.
  const host = networkMode === 'host';
  return containerDefinitions.flatMap((c) =>
    (c.portMappings ?? [])
      .map((p) => ({ hostPort: host ? p.containerPort : (p.hostPort ?? 0), protocol: p.protocol ?? 'tcp' }))
      .filter((p) => p.hostPort > 0),
  );
}
