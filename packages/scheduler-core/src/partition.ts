/**
 * A share of a cluster's waiting tasks, so that several schedulers (or several jobs of one) plan
 * one cluster at once: partition `index` of `count` holds the tasks whose id falls in the
 * index-th of `count` equal ranges of the UUID space. Task ids are random (v4), so the shares are
 * even; each partition plans over every instance, and the commit's re-check under the instance
 * locks settles what two partitions chose at once (as Nomad's plan applier does for its workers).
 */
export interface Partition {
  index: number;
  count: number;
}

const SPACE = 2 ** 32;

/** The id range of a partition, as bounds on the UUID's text (Postgres orders uuids the same way). */
export function taskIdRange(p: Partition): { gte?: string; lt?: string } {
  if (
    !Number.isInteger(p.count) ||
    p.count < 1 ||
    !Number.isInteger(p.index) ||
    p.index < 0 ||
    p.index >= p.count
  )
    throw new RangeError(`partition ${p.index} of ${p.count} does not exist`);
  const bound = (i: number) => {
    const hex = Math.floor((i * SPACE) / p.count)
      .toString(16)
      .padStart(8, '0');
    return `${hex}-0000-0000-0000-000000000000`;
  };
  return {
    ...(p.index > 0 ? { gte: bound(p.index) } : {}),
    ...(p.index < p.count - 1 ? { lt: bound(p.index + 1) } : {}),
  };
}
