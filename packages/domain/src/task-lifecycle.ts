import type { ContainerLastStatus, StopCode, TaskDesiredStatus, TaskLastStatus } from './status.js';
import type { ContainerDefinition } from './task-definition.js';
import type { TaskOverrides } from './run-task.js';
import { DEFAULT_STOP_TIMEOUT_SECONDS } from './task-definition.js';

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
    return {
      stopCode: 'TaskFailedToStart',
      stoppedReason: stopped.reason
        ? `${stopped.reason}`
        : `Essential container ${stopped.name} stopped before the task started`,
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
  essential: boolean;
  stopTimeout: number;
  initProcessEnabled: boolean;
  /** Docker's health check, with ECS defaults filled in; null without one. */
  healthCheck: {
    command: string[];
    interval: number;
    timeout: number;
    retries: number;
    startPeriod: number;
  } | null;
}

export function effectiveContainers(
  containerDefinitions: ContainerDefinition[],
  overrides: TaskOverrides | undefined,
): EffectiveContainer[] {
  return containerDefinitions.map((c) => {
    const o = overrides?.containerOverrides?.find((x) => x.name === c.name);
    const env = new Map((c.environment ?? []).map((e) => [e.name, e.value]));
    for (const e of o?.environment ?? []) env.set(e.name, e.value);
    return {
      name: c.name,
      image: c.image,
      cpu: c.cpu ?? 0,
      memory: c.memory ?? 0,
      memoryReservation: c.memoryReservation ?? 0,
      portMappings: (c.portMappings ?? []).map((p) => ({
        containerPort: p.containerPort,
        hostPort: p.hostPort ?? 0,
        protocol: p.protocol ?? 'tcp',
      })),
      environment: [...env].map(([name, value]) => ({ name, value })),
      command: o?.command ?? c.command ?? [],
      entryPoint: c.entryPoint ?? [],
      essential: c.essential !== false,
      stopTimeout: c.stopTimeout ?? DEFAULT_STOP_TIMEOUT_SECONDS,
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
    };
  });
}

/** Static host ports a task holds on its instance (dynamic ports, 0, are Docker's to pick). */
export function staticHostPorts(
  containerDefinitions: ContainerDefinition[],
): { hostPort: number; protocol: 'tcp' | 'udp' }[] {
  return containerDefinitions.flatMap((c) =>
    (c.portMappings ?? [])
      .filter((p) => (p.hostPort ?? 0) > 0)
      .map((p) => ({ hostPort: p.hostPort!, protocol: p.protocol ?? 'tcp' })),
  );
}
