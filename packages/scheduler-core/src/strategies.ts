import type { InstanceSnapshot, PlacementStrategy, Random, TaskToPlace } from './types.js';

/** ECS defaults: RunTask places at random; a service spreads over zones, then instances. */
export const RUN_TASK_DEFAULT_STRATEGY: readonly PlacementStrategy[] = [{ type: 'random' }];
export const SERVICE_DEFAULT_STRATEGY: readonly PlacementStrategy[] = [
  { type: 'spread', field: 'attribute:zone' },
  { type: 'spread', field: 'instanceId' },
];

/** The value an instance has for a spread field; instances without the attribute share one bucket. */
export function spreadValue(i: InstanceSnapshot, field: string): string {
  if (field === 'instanceId' || field === 'host') return i.id;
  if (field.startsWith('attribute:')) return i.attributes[field.slice('attribute:'.length)] ?? '';
  return '';
}

/**
 * How many tasks of each group sit on each value of a spread field, kept up to date as a pass
 * places tasks, so that spreading costs O(1) per candidate instead of a scan of the cluster.
 */
export class SpreadCounts {
  private readonly cache = new Map<string, Map<string, number>>();

  constructor(private readonly instances: readonly InstanceSnapshot[]) {}

  placed(group: string, instance: InstanceSnapshot): void {
    for (const [key, table] of this.cache) {
      const [g, field] = key.split('\u0000') as [string, string];
      if (g !== group) continue;
      const v = spreadValue(instance, field);
      table.set(v, (table.get(v) ?? 0) + 1);
    }
  }

  /** Tasks of the group per value of the field; kept current by `placed`. */
  table(group: string, field: string): ReadonlyMap<string, number> {
    const key = `${group}\u0000${field}`;
    let table = this.cache.get(key);
    if (!table) {
      table = new Map();
      for (const i of this.instances) {
        const n = i.groupCounts.get(group) ?? 0;
        const v = spreadValue(i, field);
        table.set(v, (table.get(v) ?? 0) + n);
      }
      this.cache.set(key, table);
    }
    return table;
  }
}

/**
 * A strategy's scorer for one task: its score for placing the task on an instance, lower is
 * better. Made once per task, so that the lookups a spread needs (its counts table, the attribute
 * name) are not redone for each of thousands of instances; the table is the live one, so each
 * placement of the pass counts for the next task's scores.
 */
export function scorer(
  strategy: PlacementStrategy,
  task: TaskToPlace,
  spread: SpreadCounts,
  random: Random,
): (i: InstanceSnapshot) => number {
  switch (strategy.type) {
    case 'binpack':
      // The least room left after placing: fill the fullest instance that fits.
      return strategy.field === 'cpu'
        ? (i) => i.registeredCpu - i.reservedCpu - task.cpu
        : (i) => i.registeredMemory - i.reservedMemory - task.memory;
    case 'spread': {
      const table = spread.table(task.group, strategy.field);
      const field = strategy.field;
      if (field === 'instanceId' || field === 'host') return (i) => table.get(i.id) ?? 0;
      if (!field.startsWith('attribute:')) return () => table.get('') ?? 0;
      const name = field.slice('attribute:'.length);
      return (i) => table.get(i.attributes[name] ?? '') ?? 0;
    }
    case 'random':
      return random;
  }
}
