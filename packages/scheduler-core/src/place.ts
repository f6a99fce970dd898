import { firstFailure } from './feasibility.js';
import type { InstanceSnapshot, PlacementPlan, Random, TaskToPlace } from './types.js';
import { portKey } from './types.js';

/**
 * Places tasks one after another on a private copy of the snapshot, so each choice accounts for
 * the ones before it. Feasibility filters the instances; among the feasible ones the choice is
 * random (ECS's default for RunTask). Pure: no I/O, no clock; randomness is passed in.
 */
export function planPlacements(
  instances: readonly InstanceSnapshot[],
  tasks: readonly TaskToPlace[],
  random: Random,
): PlacementPlan {
  const working = instances.map((i) => ({ ...i, reservedPorts: new Set(i.reservedPorts) }));
  const plan: PlacementPlan = { placements: [], unplaced: [] };

  for (const task of tasks) {
    const rejections = new Map<string, number>();
    const feasible = working.filter((instance) => {
      const reason = firstFailure(instance, task);
      if (reason) rejections.set(reason, (rejections.get(reason) ?? 0) + 1);
      return reason === null;
    });
    if (feasible.length === 0) {
      plan.unplaced.push({ taskId: task.id, reason: explainUnplaced(working.length, rejections) });
      continue;
    }
    const chosen = feasible[Math.floor(random() * feasible.length)]!;
    chosen.reservedCpu += task.cpu;
    chosen.reservedMemory += task.memory;
    for (const p of task.hostPorts) chosen.reservedPorts.add(portKey(p));
    plan.placements.push({ taskId: task.id, instanceId: chosen.id });
  }
  return plan;
}

/** "No container instance met all of its requirements: 2 had insufficient memory, 1 had a port conflict." */
export function explainUnplaced(instanceCount: number, rejections: ReadonlyMap<string, number>): string {
  if (instanceCount === 0) return 'No container instances are registered in the cluster.';
  const parts = [...rejections].sort((a, b) => b[1] - a[1]).map(([reason, n]) => `${n} had ${reason}`);
  return `No container instance met all of its requirements: ${parts.join(', ')}.`;
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
