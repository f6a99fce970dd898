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
  const working: Working[] = instances.map((i) => ({
    ...i,
    reservedPorts: new Set(i.reservedPorts),
    groupCounts: new Map(i.groupCounts),
  }));
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
    best.reservedCpu += task.cpu;
    best.reservedMemory += task.memory;
    for (const p of task.hostPorts) best.reservedPorts.add(portKey(p));
    best.groupCounts.set(task.group, (best.groupCounts.get(task.group) ?? 0) + 1);
    spread.placed(task.group, best);
    plan.placements.push({ taskId: task.id, instanceId: best.id });
  }
  return plan;
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
