import type { StopCode } from '@berth/domain';

/**
 * What the agent concludes from its containers: each one's status from what the runtime says,
 * whether an exited one is restarted, what an exit means for its task, and the order in which a
 * task's containers are stopped. Plain data in, decisions out, so the rules are tested without
 * Docker; the task engine only applies them.
 */

export type ContainerState = 'PENDING' | 'RUNNING' | 'STOPPED';
export type TaskState = 'PENDING' | 'RUNNING' | 'STOPPING' | 'STOPPED';

/** The part of a runtime observation that decides a container's status. */
export interface RuntimeState {
  running: boolean;
  /** Set once the container has exited. */
  exitCode: number | null;
}

/**
 * The container's lastStatus once the runtime has been looked at. Forward only: a STOPPED
 * container stays STOPPED, as the control plane records it.
 */
export function containerState(current: ContainerState, runtime: RuntimeState): ContainerState {
  if (current === 'STOPPED') return 'STOPPED';
  if (runtime.running) return 'RUNNING';
  // Created but never started (an agent that died between create and start): still PENDING.
  return runtime.exitCode === null ? current : 'STOPPED';
}

/** A task's status, derived from its containers and whether it was asked to stop. */
export function taskState(stopping: boolean, containers: ContainerState[]): TaskState {
  if (containers.every((s) => s === 'STOPPED')) return 'STOPPED';
  if (stopping) return 'STOPPING';
  if (containers.some((s) => s === 'PENDING')) return 'PENDING';
  return 'RUNNING';
}

export interface RestartPolicy {
  ignoredExitCodes: number[];
  restartAttemptPeriodSeconds: number;
}

export interface ExitedContainer {
  /** Absent: the container definition has no restartPolicy. */
  restartPolicy?: RestartPolicy;
  /** Its status before this exit: only a container that was running is restarted. */
  state: ContainerState;
  exitCode: number;
  /** How long it ran since its last (re)start. */
  ranMs: number;
}

/** Whether an exited container is started again in place, as ECS's restartPolicy does. */
export function mayRestart(taskStopping: boolean, c: ExitedContainer): boolean {
  if (!c.restartPolicy || taskStopping || c.state !== 'RUNNING') return false;
  if (c.restartPolicy.ignoredExitCodes.includes(c.exitCode)) return false;
  // As ECS: a container that exits before running a whole attempt period is not restarted.
  return c.ranMs >= c.restartPolicy.restartAttemptPeriodSeconds * 1000;
}

export interface ContainerView {
  name: string;
  state: ContainerState;
  /** Unknown for a container adopted without its definition (created by an older agent). */
  essential?: boolean;
  exitCode?: number;
  /** The containers it depends on (dependsOn), whatever the condition. */
  dependsOn: string[];
}

export interface StopDecision {
  stopCode: StopCode;
  reason: string;
}

/**
 * What the exits seen so far mean for a task that is not stopping yet: an essential container
 * that stopped stops the whole task, as in ECS; other exits change nothing. Null: nothing to do.
 */
export function exitDecision(stopping: boolean, containers: ContainerView[]): StopDecision | null {
  if (stopping) return null;
  const exited = containers.find((c) => c.essential === true && c.state === 'STOPPED');
  if (!exited) return null;
  const how = exited.exitCode === undefined ? 'stopped' : `exited with code ${exited.exitCode}`;
  return {
    stopCode: 'EssentialContainerExited',
    reason: `Essential container in task exited: container ${exited.name} ${how}`,
  };
}

/**
 * The containers to stop, in waves that may each be stopped at once: the ECS shutdown order, where
 * a container stops only after every container that depends on it has stopped. STOPPED containers
 * are left out and hold nothing up. A dependency cycle (refused at registration) ends in one last
 * wave rather than never.
 */
export function stopWaves(containers: ContainerView[]): string[][] {
  let left = containers.filter((c) => c.state !== 'STOPPED');
  const waves: string[][] = [];
  while (left.length) {
    const neededBy = new Set(left.flatMap((c) => c.dependsOn));
    const free = left.filter((c) => !neededBy.has(c.name));
    const wave = free.length ? free : left;
    waves.push(wave.map((c) => c.name));
    left = left.filter((c) => !wave.includes(c));
  }
  return waves;
}
