import fc from 'fast-check';
import { admitPlan, planPlacements, seededRandom } from './place.js';
import { portKey } from './types.js';
import { parseExpression } from './expression.js';
import { SERVICE_DEFAULT_STRATEGY } from './strategies.js';
import { instance, task } from './testing/builders.js';

describe('planPlacements', () => {
  it('accounts for earlier choices in the same pass', () => {
    const plan = planPlacements(
      [instance('a'), instance('b')],
      ['1', '2', '3', '4', '5'].map((id) => task(id, { cpu: 512 })),
      seededRandom(1),
    );
    expect(plan.placements).toHaveLength(4);
    const perInstance = (id: string) => plan.placements.filter((p) => p.instanceId === id).length;
    expect(perInstance('a')).toBe(2);
    expect(perInstance('b')).toBe(2);
    expect(plan.unplaced).toEqual([
      { taskId: '5', reason: 'No container instance met all of its requirements: 2 had insufficient CPU.' },
    ]);
  });

  it('skips instances that are not ACTIVE or whose agent is disconnected', () => {
    const plan = planPlacements(
      [
        instance('draining', { status: 'DRAINING' }),
        instance('gone', { agentConnected: false }),
        instance('ok'),
      ],
      [task('t')],
      seededRandom(7),
    );
    expect(plan.placements).toEqual([{ taskId: 't', instanceId: 'ok' }]);
  });

  it('never gives one static host port twice on an instance', () => {
    const plan = planPlacements(
      [instance('a', { reservedPorts: new Set(['8080/tcp']) }), instance('b')],
      [
        task('1', { hostPorts: [{ hostPort: 8080, protocol: 'tcp' }] }),
        task('2', { hostPorts: [{ hostPort: 8080, protocol: 'tcp' }] }),
      ],
      seededRandom(3),
    );
    expect(plan.placements).toEqual([{ taskId: '1', instanceId: 'b' }]);
    expect(plan.unplaced[0]!.reason).toBe(
      'No container instance met all of its requirements: 2 had a port conflict.',
    );
  });

  it('counts every reason when nothing fits', () => {
    const plan = planPlacements(
      [
        instance('a', { reservedMemory: 1000 }),
        instance('b', { reservedMemory: 1000 }),
        instance('c', { reservedCpu: 1000 }),
        instance('d', { agentConnected: false }),
      ],
      [task('t')],
      seededRandom(3),
    );
    expect(plan.unplaced[0]!.reason).toBe(
      'No container instance met all of its requirements: 2 had insufficient memory, 1 had insufficient CPU, 1 had a disconnected agent.',
    );
  });

  it('explains an empty cluster', () => {
    const plan = planPlacements([], [task('t')], seededRandom(1));
    expect(plan.unplaced[0]!.reason).toBe('No container instances are registered in the cluster.');
  });

  it('does not change the snapshot it was given', () => {
    const a = instance('a');
    planPlacements([a], [task('t', { hostPorts: [{ hostPort: 80, protocol: 'tcp' }] })], seededRandom(1));
    expect(a.reservedCpu).toBe(0);
    expect(a.reservedPorts.size).toBe(0);
  });

  it('never overcommits an instance, whatever the tasks', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            cpu: fc.integer({ min: 128, max: 4096 }),
            memory: fc.integer({ min: 128, max: 4096 }),
          }),
          {
            minLength: 1,
            maxLength: 8,
          },
        ),
        fc.array(
          fc.record({
            cpu: fc.integer({ min: 0, max: 1024 }),
            memory: fc.integer({ min: 1, max: 1024 }),
            port: fc.option(fc.integer({ min: 80, max: 85 })),
          }),
          { maxLength: 60 },
        ),
        fc.integer(),
        (hosts, tasks, seed) => {
          const instances = hosts.map((h, i) =>
            instance(`i${i}`, { registeredCpu: h.cpu, registeredMemory: h.memory }),
          );
          const toPlace = tasks.map((t, i) =>
            task(`t${i}`, {
              cpu: t.cpu,
              memory: t.memory,
              hostPorts: t.port === null ? [] : [{ hostPort: t.port, protocol: 'tcp' }],
            }),
          );
          const plan = planPlacements(instances, toPlace, seededRandom(seed));
          expect(plan.placements.length + plan.unplaced.length).toBe(tasks.length);
          for (const inst of instances) {
            const mine = plan.placements
              .filter((p) => p.instanceId === inst.id)
              .map((p) => toPlace.find((t) => t.id === p.taskId)!);
            expect(mine.reduce((n, t) => n + t.cpu, 0)).toBeLessThanOrEqual(inst.registeredCpu);
            expect(mine.reduce((n, t) => n + t.memory, 0)).toBeLessThanOrEqual(inst.registeredMemory);
            const ports = mine.flatMap((t) => t.hostPorts.map(portKey));
            expect(new Set(ports).size).toBe(ports.length);
          }
        },
      ),
    );
  });
});

describe('constraints', () => {
  it('distinctInstance keeps a group to one task per instance, counting tasks already there', () => {
    const plan = planPlacements(
      [instance('a', { groupCounts: new Map([['service:web', 1]]) }), instance('b'), instance('c')],
      ['1', '2', '3'].map((id) =>
        task(id, { group: 'service:web', constraints: [{ type: 'distinctInstance' }] }),
      ),
      seededRandom(5),
    );
    expect(plan.placements.map((p) => p.instanceId).sort()).toEqual(['b', 'c']);
    expect(plan.unplaced[0]!.reason).toBe(
      'No container instance met all of its requirements: 3 failed distinctInstance.',
    );
  });

  it('distinctInstance only counts the same group', () => {
    const plan = planPlacements(
      [instance('a', { groupCounts: new Map([['service:other', 3]]) })],
      [task('1', { group: 'service:web', constraints: [{ type: 'distinctInstance' }] })],
      seededRandom(5),
    );
    expect(plan.placements).toHaveLength(1);
  });

  it('memberOf keeps tasks on the instances its expression selects', () => {
    const expr = 'attribute:zone in [eu-1a, eu-1b] and not(attribute:arch == arm64)';
    const plan = planPlacements(
      [
        instance('a', { attributes: { zone: 'eu-1a', arch: 'x86_64' } }),
        instance('b', { attributes: { zone: 'eu-1b', arch: 'arm64' } }),
        instance('c', { attributes: { zone: 'eu-1c', arch: 'x86_64' } }),
      ],
      ['1', '2'].map((id) =>
        task(id, { constraints: [{ type: 'memberOf', expression: parseExpression(expr), source: expr }] }),
      ),
      seededRandom(1),
    );
    expect(plan.placements.map((p) => p.instanceId)).toEqual(['a', 'a']);
  });

  it('explains a memberOf failure with its expression', () => {
    const expr = 'attribute:gpu exists';
    const plan = planPlacements(
      [instance('a')],
      [task('1', { constraints: [{ type: 'memberOf', expression: parseExpression(expr), source: expr }] })],
      seededRandom(1),
    );
    expect(plan.unplaced[0]!.reason).toBe(
      'No container instance met all of its requirements: 1 failed memberOf(attribute:gpu exists).',
    );
  });
});

describe('strategies', () => {
  it('binpack on memory fills the fullest instance that fits', () => {
    const plan = planPlacements(
      [
        instance('empty'),
        instance('half', { reservedMemory: 512 }),
        instance('full', { reservedMemory: 1000 }),
      ],
      [task('1', { strategies: [{ type: 'binpack', field: 'memory' }] })],
      seededRandom(1),
    );
    expect(plan.placements).toEqual([{ taskId: '1', instanceId: 'half' }]);
  });

  it('binpack on cpu packs one instance before the next', () => {
    const plan = planPlacements(
      [instance('a'), instance('b')],
      ['1', '2', '3', '4', '5'].map((id) => task(id, { strategies: [{ type: 'binpack', field: 'cpu' }] })),
      seededRandom(9),
    );
    const first = plan.placements[0]!.instanceId;
    expect(plan.placements.slice(0, 4).every((p) => p.instanceId === first)).toBe(true);
    expect(plan.placements[4]!.instanceId).not.toBe(first);
  });

  it('spread on instanceId evens out a group, counting tasks already there', () => {
    const plan = planPlacements(
      [instance('a', { groupCounts: new Map([['g', 2]]) }), instance('b'), instance('c')],
      ['1', '2', '3', '4'].map((id) =>
        task(id, { group: 'g', cpu: 1, memory: 1, strategies: [{ type: 'spread', field: 'instanceId' }] }),
      ),
      seededRandom(2),
    );
    const counts = (id: string) => plan.placements.filter((p) => p.instanceId === id).length;
    expect([counts('a'), counts('b'), counts('c')]).toEqual([0, 2, 2]);
  });

  it('spread on a zone attribute, then instanceId, balances zones first', () => {
    const hosts = [
      instance('a1', { attributes: { zone: 'a' } }),
      instance('a2', { attributes: { zone: 'a' } }),
      instance('a3', { attributes: { zone: 'a' } }),
      instance('b1', { attributes: { zone: 'b' } }),
    ];
    const plan = planPlacements(
      hosts,
      ['1', '2', '3', '4'].map((id) => task(id, { cpu: 1, memory: 1, strategies: SERVICE_DEFAULT_STRATEGY })),
      seededRandom(3),
    );
    const zone = (id: string) => hosts.find((h) => h.id === id)!.attributes.zone;
    expect(plan.placements.filter((p) => zone(p.instanceId) === 'b')).toHaveLength(2);
    const inA = plan.placements.filter((p) => zone(p.instanceId) === 'a').map((p) => p.instanceId);
    expect(new Set(inA).size).toBe(2);
  });

  it('combines: spread over zones, then binpack within a zone', () => {
    const hosts = [
      instance('a-empty', { attributes: { zone: 'a' } }),
      instance('a-busy', { attributes: { zone: 'a' }, reservedCpu: 512 }),
      instance('b-empty', { attributes: { zone: 'b' } }),
      instance('b-busy', { attributes: { zone: 'b' }, reservedCpu: 768 }),
    ];
    const plan = planPlacements(
      hosts,
      ['1', '2'].map((id) =>
        task(id, {
          cpu: 128,
          memory: 1,
          strategies: [
            { type: 'spread', field: 'attribute:zone' },
            { type: 'binpack', field: 'cpu' },
          ],
        }),
      ),
      seededRandom(4),
    );
    expect(plan.placements.map((p) => p.instanceId).sort()).toEqual(['a-busy', 'b-busy']);
  });

  it('random uses the seed: the same seed gives the same plan, and it reaches every instance', () => {
    const hosts = ['a', 'b', 'c', 'd'].map((id) => instance(id));
    const tasks = Array.from({ length: 100 }, (_, i) => task(`t${i}`, { cpu: 1, memory: 1 }));
    expect(planPlacements(hosts, tasks, seededRandom(42))).toEqual(
      planPlacements(hosts, tasks, seededRandom(42)),
    );
    const used = new Set(planPlacements(hosts, tasks, seededRandom(42)).placements.map((p) => p.instanceId));
    expect(used.size).toBe(4);
  });

  it('random picks evenly among the instances that fit, however few of them fit', () => {
    // 3 of 200 instances have room: random draws mostly miss, and the full pass must find them.
    const hosts = Array.from({ length: 200 }, (_, i) =>
      instance(`h${i}`, i % 70 === 0 ? {} : { reservedMemory: 1024 }),
    );
    const tasks = Array.from({ length: 300 }, (_, i) => task(`t${i}`, { cpu: 1, memory: 1 }));
    const plan = planPlacements(hosts, tasks, seededRandom(7));
    expect(plan.unplaced).toEqual([]);
    const perHost = new Map<string, number>();
    for (const p of plan.placements) perHost.set(p.instanceId, (perHost.get(p.instanceId) ?? 0) + 1);
    expect([...perHost.keys()].sort()).toEqual(['h0', 'h140', 'h70']);
    for (const n of perHost.values()) expect(n).toBeGreaterThan(60);
  });

  it('random over many instances that all fit spreads evenly and says nothing is unplaced', () => {
    const hosts = Array.from({ length: 1000 }, (_, i) => instance(`h${i}`, { registeredCpu: 100_000 }));
    const tasks = Array.from({ length: 20_000 }, (_, i) => task(`t${i}`, { cpu: 1, memory: 1 }));
    const plan = planPlacements(hosts, tasks, seededRandom(11));
    const perHost = new Map<string, number>();
    for (const p of plan.placements) perHost.set(p.instanceId, (perHost.get(p.instanceId) ?? 0) + 1);
    // 20 per instance on average; a uniform choice keeps every instance within a few deviations.
    expect(perHost.size).toBe(1000);
    expect(Math.min(...perHost.values())).toBeGreaterThan(3);
    expect(Math.max(...perHost.values())).toBeLessThan(45);
  });

  it('random with no instance that fits says why, as the full pass does', () => {
    const hosts = [instance('a', { reservedMemory: 1024 }), instance('b', { status: 'DRAINING' })];
    const plan = planPlacements(hosts, [task('t', { memory: 64 })], seededRandom(3));
    expect(plan.unplaced[0]!.reason).toMatch(/^No container instance met all of its requirements: /);
  });
});

describe('admitPlan', () => {
  const on = (instanceId: string, t = task(`t-${instanceId}`)) => ({ task: t, instanceId });

  it('keeps a plan that still fits, each placement counting for the next', () => {
    const plan = ['1', '2', '3', '4', '5'].map((id) => on('a', task(id, { cpu: 256 })));
    const { admitted, rejected } = admitPlan([instance('a')], plan);
    expect(admitted.map((p) => p.task.id)).toEqual(['1', '2', '3', '4']);
    expect(rejected.map((p) => p.task.id)).toEqual(['5']);
  });

  it.each([
    ['has less room', instance('a', { reservedMemory: 900 }), task('t')],
    [
      'holds its static port',
      instance('a', { reservedPorts: new Set(['80/tcp']) }),
      task('t', { hostPorts: [{ hostPort: 80, protocol: 'tcp' }] }),
    ],
    ['was drained', instance('a', { status: 'DRAINING' }), task('t')],
    ['lost its agent', instance('a', { agentConnected: false }), task('t')],
    [
      'got a task of the group (distinctInstance)',
      instance('a', { groupCounts: new Map([['family:web', 1]]) }),
      task('t', { constraints: [{ type: 'distinctInstance' }] }),
    ],
    [
      'lost an attribute its memberOf needs',
      instance('a', { attributes: {} }),
      task('t', {
        constraints: [
          {
            type: 'memberOf',
            expression: parseExpression('attribute:gpu exists'),
            source: 'attribute:gpu exists',
          },
        ],
      }),
    ],
  ])('gives back a placement when, since the snapshot, the instance %s', (_what, now, t) => {
    expect(admitPlan([now], [on('a', t)])).toEqual({ admitted: [], rejected: [on('a', t)] });
  });

  it('gives back a placement on an instance that is no longer there', () => {
    expect(admitPlan([instance('b')], [on('a')]).rejected).toEqual([on('a')]);
  });

  it('admits exactly what planPlacements chose on the same snapshot (one fit rule)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer(),
        (n, m, seed) => {
          const instances = Array.from({ length: n }, (_, i) =>
            instance(`i${i}`, { reservedCpu: (i * 97) % 700 }),
          );
          const tasks = Array.from({ length: m }, (_, k) =>
            task(`t${k}`, {
              cpu: 64 + ((k * 131) % 400),
              hostPorts: k % 3 === 0 ? [{ hostPort: 8000 + (k % 4), protocol: 'tcp' }] : [],
              constraints: k % 5 === 0 ? [{ type: 'distinctInstance' }] : [],
            }),
          );
          const plan = planPlacements(instances, tasks, seededRandom(seed));
          const byId = new Map(tasks.map((t) => [t.id, t]));
          const placements = plan.placements.map((p) => ({
            task: byId.get(p.taskId)!,
            instanceId: p.instanceId,
          }));
          expect(admitPlan(instances, placements)).toEqual({ admitted: placements, rejected: [] });
        },
      ),
    );
  });
});
