import type { InstanceSnapshot, TaskToPlace } from './types.js';
import { portKey } from './types.js';

/**
 * A feasibility check: null when the instance can take the task, otherwise the reason it
 * cannot, phrased to complete "N had ..." in the explanation of an unplaced task.
 */
export type FeasibilityCheck = (instance: InstanceSnapshot, task: TaskToPlace) => string | null;

export const isActive: FeasibilityCheck = (i) => (i.status === 'ACTIVE' ? null : `status ${i.status}`);

export const isConnected: FeasibilityCheck = (i) => (i.agentConnected ? null : 'a disconnected agent');

export const hasCpu: FeasibilityCheck = (i, t) =>
  i.reservedCpu + t.cpu <= i.registeredCpu ? null : 'insufficient CPU';

export const hasMemory: FeasibilityCheck = (i, t) =>
  i.reservedMemory + t.memory <= i.registeredMemory ? null : 'insufficient memory';

export const hasFreePorts: FeasibilityCheck = (i, t) =>
  t.hostPorts.some((p) => i.reservedPorts.has(portKey(p))) ? 'a port conflict' : null;

/** The checks, in the order they run; the first failing one is the instance's reason. */
export const FEASIBILITY_CHECKS: readonly FeasibilityCheck[] = [
  isActive,
  isConnected,
  hasCpu,
  hasMemory,
  hasFreePorts,
];

export function firstFailure(
  instance: InstanceSnapshot,
  task: TaskToPlace,
  checks: readonly FeasibilityCheck[] = FEASIBILITY_CHECKS,
): string | null {
  for (const check of checks) {
    const reason = check(instance, task);
    if (reason) return reason;
  }
  return null;
}
