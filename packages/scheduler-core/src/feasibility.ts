import { evaluate } from './expression.js';
import type { InstanceSnapshot, TaskToPlace } from './types.js';
import { portKey } from './types.js';

/**
 * A feasibility check: null when the instance can take the task, otherwise why not, phrased to
 * follow a count in the explanation of an unplaced task ("3 had insufficient memory").
 */
export type FeasibilityCheck = (instance: InstanceSnapshot, task: TaskToPlace) => string | null;

export const isActive: FeasibilityCheck = (i) => (i.status === 'ACTIVE' ? null : `were ${i.status}`);

export const isConnected: FeasibilityCheck = (i) => (i.agentConnected ? null : 'had a disconnected agent');

export const hasCpu: FeasibilityCheck = (i, t) =>
  i.reservedCpu + t.cpu <= i.registeredCpu ? null : 'had insufficient CPU';

export const hasMemory: FeasibilityCheck = (i, t) =>
  i.reservedMemory + t.memory <= i.registeredMemory ? null : 'had insufficient memory';

export const hasFreePorts: FeasibilityCheck = (i, t) =>
  t.hostPorts.some((p) => i.reservedPorts.has(portKey(p))) ? 'had a port conflict' : null;

export const meetsConstraints: FeasibilityCheck = (i, t) => {
  for (const c of t.constraints) {
    if (c.type === 'distinctInstance') {
      if ((i.groupCounts.get(t.group) ?? 0) > 0) return 'failed distinctInstance';
    } else if (!evaluate(c.expression, (subject) => instanceSubject(i, subject))) {
      return `failed memberOf(${c.source})`;
    }
  }
  return null;
};

/** The value an expression sees for `attribute:<name>` or an instance field. */
export function instanceSubject(i: InstanceSnapshot, subject: string): string | undefined {
  if (subject.startsWith('attribute:')) return i.attributes[subject.slice('attribute:'.length)];
  switch (subject) {
    case 'instanceId':
      return i.id;
    case 'hostAddress':
      return i.hostAddress;
    case 'agentVersion':
      return i.agentVersion ?? undefined;
    case 'agentConnected':
      return String(i.agentConnected);
    case 'runningTasksCount':
      return String([...i.groupCounts.values()].reduce((a, b) => a + b, 0));
    case 'registeredCpu':
      return String(i.registeredCpu);
    case 'registeredMemory':
      return String(i.registeredMemory);
    case 'remainingCpu':
      return String(i.registeredCpu - i.reservedCpu);
    case 'remainingMemory':
      return String(i.registeredMemory - i.reservedMemory);
    default:
      return undefined;
  }
}

/**
 * The checks, in the order they run: the cheap state checks first, then resources, then the
 * task's constraints. The first failing one is the instance's reason.
 */
export const FEASIBILITY_CHECKS: readonly FeasibilityCheck[] = [
  isActive,
  isConnected,
  hasCpu,
  hasMemory,
  hasFreePorts,
  meetsConstraints,
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
