import { firstFailure } from './feasibility.js';
import { score, SpreadCounts } from './strategies.js';
import type { InstanceSnapshot, PlacementPlan, Random, TaskToPlace } from './types.js';
import { portKey } from './types.js';

type Working = InstanceSnapshot & {
  reservedPorts: Set<string>;
  groupCounts: Map<string, number>;
};

/**
 * Places tasks one after another on a private copy of the snapshot, so each choice accounts for
 * the ones before it. The pipeline: feasibility checks filter the instances (every rejection is
 * counted by reason); the task's strategies then rank the survivors in order, each breaking the
 * ties of the one before; a seeded random breaks the last ties. Pure: no I/O, no clock.
 */
export function planPlacements(
  instances: readonly InstanceSnapshot[],
  tasks: readonly TaskToPlace[],
  random: Random,
): PlacementPlan {
  const working = instances.map(workingCopy);
  const spread = new SpreadCounts(working);
  const plan: PlacementPlan = { placements: [], unplaced: [] };

  for (const task of tasks) {
    const rejections = new Map<string, number>();
    let best: Working | undefined;
    let bestScores: number[] = [];
    const candidates = task.targetInstanceId
      ? working.filter((i) => i.id === task.targetInstanceId)
      : working;
    if (task.targetInstanceId && candidates.length === 0) {
      plan.unplaced.push({ taskId: task.id, reason: explainTargetUnplaced(task.targetInstanceId) });
      continue;
    }
    for (const instance of candidates) {
      const reason = firstFailure(instance, task);
      if (reason) {
        rejections.set(reason, (rejections.get(reason) ?? 0) + 1);
        continue;
      }
      const scores = [...task.strategies.map((s) => score(s, task, instance, spread, random)), random()];
      if (!best || lexicographicallyLess(scores, bestScores)) {
        best = instance;
        bestScores = scores;
      }
    }
    if (!best) {
      const reason = task.targetInstanceId
        ? explainTargetUnplaced(task.targetInstanceId, [...rejections.keys()][0])
        : explainUnplaced(working.length, rejections);
      plan.unplaced.push({ taskId: task.id, reason });
      continue;
    }
    reserve(best, task);
    spread.placed(task.group, best);
    plan.placements.push({ taskId: task.id, instanceId: best.id });
  }
  return plan;
}

/**
 * What the commit of a plan keeps, as Nomad's plan applier re-checks a plan with the same fit
 * rule its ranker used: every placement, in order, goes through the planning's feasibility checks
 * against the instances as they are now (read under their locks), each one kept counting for the
 * next. The rest were planned on a stale snapshot and go back to be planned again.
 */
export function admitPlan<P extends { task: TaskToPlace; instanceId: string }>(
  instances: readonly InstanceSnapshot[],
  plan: readonly P[],
): { admitted: P[]; rejected: P[] } {
  const working = new Map(instances.map((i) => [i.id, workingCopy(i)]));
  const admitted: P[] = [];
  const rejected: P[] = [];
  for (const p of plan) {
    const instance = working.get(p.instanceId);
    if (!instance || firstFailure(instance, p.task)) {
      rejected.push(p);
      continue;
    }
    reserve(instance, p.task);
    admitted.push(p);
  }
  return { admitted, rejected };
}

function workingCopy(i: InstanceSnapshot): Working {
  return { ...i, reservedPorts: new Set(i.reservedPorts), groupCounts: new Map(i.groupCounts) };
}

/** Accounts for a task placed on an instance, so that the next check sees it. */
function reserve(instance: Working, task: TaskToPlace): void {
  instance.reservedCpu += task.cpu;
  instance.reservedMemory += task.memory;
  for (const p of task.hostPorts) instance.reservedPorts.add(portKey(p));
  instance.groupCounts.set(task.group, (instance.groupCounts.get(task.group) ?? 0) + 1);
}

function lexicographicallyLess(a: number[], b: number[]): boolean {
  for (let k = 0; k < a.length; k++) {
    if (a[k]! < b[k]!) return true;
    if (a[k]! > b[k]!) return false;
  }
  return false;
}

/** "No container instance met all of its requirements: 2 had insufficient memory, 1 failed distinctInstance." */
export function explainUnplaced(instanceCount: number, rejections: ReadonlyMap<string, number>): string {
  if (instanceCount === 0) return 'No container instances are registered in the cluster.';
  const parts = [...rejections].sort((a, b) => b[1] - a[1]).map(([reason, n]) => `${n} ${reason}`);
  return `No container instance met all of its requirements: ${parts.join(', ')}.`;
}

/**
 * Why a task targeted at one instance waits: "The container instance it targets (<id>) had
 * insufficient memory." or, when the snapshot does not hold it, "... is not registered in the cluster."
 */
export function explainTargetUnplaced(instanceId: string, reason?: string): string {
  return reason
    ? `The container instance it targets (${instanceId}) ${reason.replace(/^were /, 'was ')}.`
    : `The container instance it targets (${instanceId}) is not registered in the cluster.`;
}

/** A small seeded generator (mulberry32) for reproducible plans. */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
