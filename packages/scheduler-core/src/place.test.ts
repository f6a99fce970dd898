import fc from 'fast-check';
import { planPlacements, seededRandom } from './place.js';
import type { InstanceSnapshot, TaskToPlace } from './types.js';
import { portKey } from './types.js';

const instance = (id: string, over: Partial<InstanceSnapshot> = {}): InstanceSnapshot => ({
  id,
  status: 'ACTIVE',
  agentConnected: true,
  registeredCpu: 1024,
  registeredMemory: 1024,
  reservedCpu: 0,
  reservedMemory: 0,
  reservedPorts: new Set(),
  attributes: {},
  ...over,
});
const task = (id: string, over: Partial<TaskToPlace> = {}): TaskToPlace => ({
  id,
  cpu: 256,
  memory: 256,
  hostPorts: [],
  ...over,
});

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
