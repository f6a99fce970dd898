import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { taskIdRange } from './partition.js';

const inRange = (id: string, r: { gte?: string; lt?: string }) =>
  (r.gte === undefined || id >= r.gte) && (r.lt === undefined || id < r.lt);

describe('taskIdRange', () => {
  it('one partition is every task', () => {
    expect(taskIdRange({ index: 0, count: 1 })).toEqual({});
  });

  it('splits the id space into adjacent ranges', () => {
    expect([0, 1, 2, 3].map((index) => taskIdRange({ index, count: 4 }))).toEqual([
      { lt: '40000000-0000-0000-0000-000000000000' },
      { gte: '40000000-0000-0000-0000-000000000000', lt: '80000000-0000-0000-0000-000000000000' },
      { gte: '80000000-0000-0000-0000-000000000000', lt: 'c0000000-0000-0000-0000-000000000000' },
      { gte: 'c0000000-0000-0000-0000-000000000000' },
    ]);
  });

  it('puts every task id in exactly one partition, whatever the count', () => {
    fc.assert(
      fc.property(fc.uuid(), fc.integer({ min: 1, max: 64 }), (id, count) => {
        const holders = Array.from({ length: count }, (_, index) => taskIdRange({ index, count })).filter(
          (r) => inRange(id, r),
        );
        expect(holders).toHaveLength(1);
      }),
    );
  });

  it('shares random task ids evenly', () => {
    const ranges = Array.from({ length: 3 }, (_, index) => taskIdRange({ index, count: 3 }));
    const counts = [0, 0, 0];
    for (let i = 0; i < 30_000; i++) {
      const id = randomUUID();
      counts[ranges.findIndex((r) => inRange(id, r))]!++;
    }
    for (const n of counts) expect(Math.abs(n - 10_000)).toBeLessThan(600);
  });

  it('refuses a partition that does not exist', () => {
    expect(() => taskIdRange({ index: 2, count: 2 })).toThrow(/partition 2 of 2/);
    expect(() => taskIdRange({ index: 0, count: 0 })).toThrow(RangeError);
  });
});
