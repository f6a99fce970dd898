import { InvalidParameterError } from './errors.js';

/**
 * Task and service resource use, from the samples agents report (docs/observability.md). A
 * service's utilisation is CloudWatch's ECS CPUUtilization / MemoryUtilization: what its tasks use
 * as a percentage of what they reserve, summed over the tasks before dividing, so a busy small
 * task weighs less than a busy large one.
 */

/** One container's numbers in one sample, as the agent reported them. */
export interface ContainerStats {
  name: string;
  /** CPU units used since the agent's previous sample (1024: one vCPU busy all the time). */
  cpuUnits: number;
  memoryBytes: number;
  memoryLimitBytes: number;
  networkRxBytes: number;
  networkTxBytes: number;
  restartCount: number;
}

/** One stored sample of a task: its containers' numbers summed, with when it was stored. */
export interface TaskSample {
  sampledAt: Date;
  cpuUnits: number;
  memoryBytes: number;
}

/** What a task reserves: `cpu` in CPU units (0: none reserved), `memory` in MiB. */
export interface TaskReservation {
  cpu: number;
  memory: number;
}

const MIB = 1024 * 1024;

/** Percent, to two decimals; null when nothing is reserved to compare with. */
const percent = (used: number, reserved: number): number | null =>
  reserved > 0 ? Math.round((used / reserved) * 10_000) / 100 : null;

/** A task's CPU and memory use as a percentage of its reservation. */
export function taskUtilization(
  reserved: TaskReservation,
  sample: Pick<TaskSample, 'cpuUnits' | 'memoryBytes'>,
) {
  return {
    cpuUtilization: percent(sample.cpuUnits, reserved.cpu),
    memoryUtilization: percent(sample.memoryBytes, reserved.memory * MIB),
  };
}

export interface ServiceUtilization {
  /** Tasks that reported at least one sample in the window: those the averages cover. */
  sampledTasks: number;
  cpuUtilization: number | null;
  memoryUtilization: number | null;
}

/**
 * A service's average CPU and memory utilisation over a window: each task's samples in the
 * window are averaged, then the tasks' averages are summed and divided by what those tasks
 * reserve. Tasks without a sample in the window count for nothing (neither use nor reservation);
 * for CPU, neither do tasks that reserve no CPU. Null when no task is left to average.
 */
export function serviceUtilization(
  tasks: readonly (TaskReservation & { samples: readonly TaskSample[] })[],
  window: { from: Date; to: Date },
): ServiceUtilization {
  let sampledTasks = 0;
  let cpuUsed = 0;
  let cpuReserved = 0;
  let memoryUsed = 0;
  let memoryReserved = 0;
  for (const task of tasks) {
    const inWindow = task.samples.filter((s) => s.sampledAt > window.from && s.sampledAt <= window.to);
    if (inWindow.length === 0) continue;
    sampledTasks++;
    const mean = (pick: (s: TaskSample) => number) =>
      inWindow.reduce((sum, s) => sum + pick(s), 0) / inWindow.length;
    if (task.cpu > 0) {
      cpuUsed += mean((s) => s.cpuUnits);
      cpuReserved += task.cpu;
    }
    memoryUsed += mean((s) => s.memoryBytes);
    memoryReserved += task.memory * MIB;
  }
  return {
    sampledTasks,
    cpuUtilization: percent(cpuUsed, cpuReserved),
    memoryUtilization: percent(memoryUsed, memoryReserved),
  };
}

export const DEFAULT_STATS_WINDOW_SECONDS = 60;
export const MAX_STATS_WINDOW_SECONDS = 3600;

/** `windowSeconds` of the service stats route: an integer from 1 to 3600, 60 when absent. */
export function parseStatsWindow(value: string | undefined): number {
  if (value === undefined) return DEFAULT_STATS_WINDOW_SECONDS;
  const n = /^[0-9]{1,4}$/.test(value) ? Number(value) : NaN;
  if (!(n >= 1 && n <= MAX_STATS_WINDOW_SECONDS))
    throw new InvalidParameterError(
      `windowSeconds: must be an integer from 1 to ${MAX_STATS_WINDOW_SECONDS}`,
      'windowSeconds',
    );
  return n;
}

/** The per-container numbers of a stored sample (`task_stats_sample.containers`), read defensively. */
export function readStoredContainerStats(value: unknown): ContainerStats[] {
  if (!Array.isArray(value)) return [];
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  return value
    .filter((c): c is Record<string, unknown> => typeof c === 'object' && c !== null)
    .map((c) => ({
      name: typeof c.name === 'string' ? c.name : '',
      cpuUnits: num(c.cpuUnits),
      memoryBytes: num(c.memoryBytes),
      memoryLimitBytes: num(c.memoryLimitBytes),
      networkRxBytes: num(c.networkRxBytes),
      networkTxBytes: num(c.networkTxBytes),
      restartCount: num(c.restartCount),
    }));
}
