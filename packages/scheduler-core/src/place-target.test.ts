import { planPlacements, seededRandom } from './place.js';
import { instance, task as baseTask } from './testing/builders.js';
import type { InstanceSnapshot, TaskToPlace } from './types.js';

/** A task targeted at one instance (DAEMON services, StartTask): that instance or nothing. */

/** A daemon's task, binpacked: the strategy would prefer the fullest instance. */
const task = (id: string, over: Partial<TaskToPlace> = {}): TaskToPlace =>
  baseTask(id, { group: 'service:agent', strategies: [{ type: 'binpack', field: 'memory' }], ...over });

describe('targeted placement', () => {
  it('places each task on its own target, whatever the strategy prefers', () => {
    const instances = [instance('a', { reservedMemory: 512 }), instance('b'), instance('c')];
    const plan = planPlacements(
      instances,
      ['a', 'b', 'c'].map((id) => task(`t-${id}`, { targetInstanceId: id })),
      seededRandom(3),
    );
    expect(plan.placements).toEqual([
      { taskId: 't-a', instanceId: 'a' },
      { taskId: 't-b', instanceId: 'b' },
      { taskId: 't-c', instanceId: 'c' },
    ]);
    expect(plan.unplaced).toEqual([]);
  });

  it.each<[string, Partial<InstanceSnapshot> | null, string]>([
    ['full', { reservedMemory: 1000 }, 'The container instance it targets (a) had insufficient memory.'],
    ['DRAINING', { status: 'DRAINING' }, 'The container instance it targets (a) was DRAINING.'],
    [
      'disconnected',
      { agentConnected: false },
      'The container instance it targets (a) had a disconnected agent.',
    ],
    ['gone', null, 'The container instance it targets (a) is not registered in the cluster.'],
  ])('waits when its target is %s, and never goes elsewhere', (_label, over, reason) => {
    const instances = [...(over ? [instance('a', over)] : []), instance('b')];
    const plan = planPlacements(instances, [task('t', { targetInstanceId: 'a' })], seededRandom(1));
    expect(plan.placements).toEqual([]);
    expect(plan.unplaced).toEqual([{ taskId: 't', reason }]);
  });

  it('counts earlier placements on the target in the same pass', () => {
    const plan = planPlacements(
      [instance('a', { registeredMemory: 256 })],
      [task('first'), task('second', { targetInstanceId: 'a' })],
      seededRandom(1),
    );
    expect(plan.placements).toEqual([{ taskId: 'first', instanceId: 'a' }]);
    expect(plan.unplaced[0]!.reason).toBe('The container instance it targets (a) had insufficient memory.');
  });
});
