import { firstFailure } from './feasibility.js';
import { scorer, SpreadCounts } from './strategies.js';
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
  const place = (task: TaskToPlace, instance: Working) => {
    reserve(instance, task);
    spread.placed(task.group, instance);
    plan.placements.push({ taskId: task.id, instanceId: instance.id });
  };

  for (const task of tasks) {
    if (task.targetInstanceId) {
      const target = working.find((i) => i.id === task.targetInstanceId);
      const reason = target ? firstFailure(target, task) : null;
      if (!target || reason) {
        plan.unplaced.push({
          taskId: task.id,
          reason: explainTargetUnplaced(task.targetInstanceId, reason ?? undefined),
        });
        continue;
      }
      place(task, target);
      continue;
    }
    const best = choosesAtRandom(task) ? sampleFeasible(working, task, random) : undefined;
    const chosen = best ?? bestRanked(working, task, spread, random);
    if (typeof chosen === 'string') {
      plan.unplaced.push({ taskId: task.id, reason: chosen });
      continue;
    }
    place(task, chosen);
  }
  return plan;
}

/** Draws before a random placement scans every instance: enough when most instances fit. */
const RANDOM_DRAWS = 32;

/**
 * A first strategy of `random` (RunTask's default) leaves nothing for later strategies to rank:
 * any feasible instance is as good as another. So draw instances until one fits, instead of
 * scoring all of them: the first feasible draw is uniform over the feasible instances, as the full
 * ranking is, at O(1) instead of O(instances) per task. Nomad's ranker likewise stops early.
 */
function choosesAtRandom(task: TaskToPlace): boolean {
  return task.strategies.length === 0 || task.strategies[0]!.type === 'random';
}

function sampleFeasible(working: readonly Working[], task: TaskToPlace, random: Random): Working | undefined {
  if (working.length === 0) return undefined;
  for (let draw = 0; draw < RANDOM_DRAWS; draw++) {
    const instance = working[Math.floor(random() * working.length)]!;
    if (!firstFailure(instance, task)) return instance;
  }
  // Few instances fit: the full pass finds them, or says why none does.
  return undefined;
}

/**
 * Every instance through the feasibility checks, the survivors ranked by the task's strategies
 * in order (each breaking the ties of the one before, a random number the last ties): the best
 * one, or why none fits.
 */
function bestRanked(
  working: readonly Working[],
  task: TaskToPlace,
  spread: SpreadCounts,
  random: Random,
): Working | string {
  const rejections = new Map<string, number>();
  const scorers = task.strategies.map((s) => scorer(s, task, spread, random));
  const n = scorers.length + 1;
  // Two score buffers swapped as the best changes: no allocation per candidate.
  let scores = new Array<number>(n);
  let bestScores = new Array<number>(n);
  let best: Working | undefined;
  for (const instance of working) {
    const reason = firstFailure(instance, task);
    if (reason) {
      rejections.set(reason, (rejections.get(reason) ?? 0) + 1);
      continue;
    }
    for (let k = 0; k < n - 1; k++) scores[k] = scorers[k]!(instance);
    scores[n - 1] = random();
    if (!best || lexicographicallyLess(scores, bestScores)) {
      best = instance;
      [scores, bestScores] = [bestScores, scores];
    }
  }
  return best ?? explainUnplaced(working.length, rejections);
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
