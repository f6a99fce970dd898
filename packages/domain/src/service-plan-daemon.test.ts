import {
  isProtected,
  planService,
  type DaemonInstanceView,
  type DeploymentView,
  type ServiceAction,
  type ServiceSpec,
  type ServiceTaskView,
} from './service-plan.js';
import { actionsOf, servicePlanBuilders, stoppedIds } from './testing/service-plan-builders.js';

/** Task protection in the replica planner, and the DAEMON planner, as tables. */

const NOW = new Date('2026-11-27T12:00:00Z');
const inMinutes = (m: number) => new Date(NOW.getTime() + m * 60_000);
const { ago, spec, deployment, task, instance } = servicePlanBuilders(NOW);
const daemonSpec = (over: Partial<ServiceSpec> = {}) =>
  spec({ schedulingStrategy: 'DAEMON', minimumHealthyPercent: 0, maximumPercent: 100, ...over });
const of = actionsOf;
const startedOn = (actions: ServiceAction[]) => of(actions, 'startTasks').flatMap((a) => a.instanceIds ?? []);

describe('task protection', () => {
  it.each([
    ['null', null, false],
    ['past', ago(1), false],
    ['exactly now', NOW, false],
    ['future', inMinutes(1), true],
  ])('a task protected until %s is protected: %s', (_label, until, expected) => {
    expect(isProtected({ protectedUntil: until }, NOW)).toBe(expected);
  });

  it.each([
    // [desired, tasks, protected among them (oldest first), stopped count, protected kept]
    [2, 5, 2, 3, true],
    [2, 5, 3, 2, true],
    [0, 3, 3, 0, true],
    [1, 3, 0, 2, false],
  ])(
    'scales %i of %i tasks with %i protected: stops %i, never a protected one',
    (desired, total, protectedCount, stopCount) => {
      const tasks = Array.from({ length: total }, (_, i) =>
        task('d1', i < protectedCount ? { protectedUntil: inMinutes(60) } : {}),
      );
      const actions = planService(
        spec({ desiredCount: desired, minimumHealthyPercent: 0 }),
        [deployment('d1')],
        tasks,
        NOW,
      );
      const stopped = stoppedIds(actions);
      expect(stopped).toHaveLength(stopCount);
      for (const t of tasks.slice(0, protectedCount)) expect(stopped).not.toContain(t.id);
      expect(of(actions, 'startTasks')).toEqual([]);
    },
  );

  it('an expired protection no longer keeps a task from scale-in', () => {
    const tasks = [task('d1', { protectedUntil: ago(5) }), task('d1', { protectedUntil: ago(5) })];
    const actions = planService(spec({ desiredCount: 0 }), [deployment('d1')], tasks, NOW);
    expect(stoppedIds(actions).sort()).toEqual(tasks.map((t) => t.id).sort());
  });

  it('a deployment waits for a protected old task, and is not steady or complete meanwhile', () => {
    const old = [task('d1', { protectedUntil: inMinutes(30) }), task('d1')];
    const fresh = [task('d2'), task('d2')];
    const deployments = [deployment('d1', { status: 'ACTIVE' }), deployment('d2', { desiredCount: 2 })];
    const actions = planService(
      spec({ desiredCount: 2, minimumHealthyPercent: 50 }),
      deployments,
      [...old, ...fresh],
      NOW,
    );
    expect(stoppedIds(actions)).toEqual([old[1]!.id]);
    expect(of(actions, 'updateDeployment')).toEqual([]);
    // Once the protection has lapsed, the rollout stops the task and completes after it.
    const later = planService(
      spec({ desiredCount: 2, minimumHealthyPercent: 50 }),
      deployments,
      [old[0]!, ...fresh],
      inMinutes(31),
    );
    expect(stoppedIds(later)).toEqual([old[0]!.id]);
  });

  it('a protected task on a DRAINING instance stays until its protection expires', () => {
    const drained = task('d1', { onDrainingInstance: true, protectedUntil: inMinutes(10) });
    const actions = planService(
      spec({ desiredCount: 2, minimumHealthyPercent: 0 }),
      [deployment('d1')],
      [drained, task('d1')],
      NOW,
    );
    expect(stoppedIds(actions)).toEqual([]);
    expect(of(actions, 'startTasks')).toEqual([{ type: 'startTasks', deploymentId: 'd1', count: 1 }]);
  });

  it('a protected task that fails its health checks is still replaced', () => {
    const sick = task('d1', {
      hasHealthCheck: true,
      healthStatus: 'UNHEALTHY',
      protectedUntil: inMinutes(10),
    });
    const actions = planService(spec({ desiredCount: 1 }), [deployment('d1')], [sick], NOW);
    expect(stoppedIds(actions)).toEqual([sick.id]);
  });
});

describe('DAEMON services', () => {
  const plan = (
    instances: DaemonInstanceView[],
    tasks: ServiceTaskView[],
    over: Partial<ServiceSpec> = {},
    deployments: DeploymentView[] = [deployment('d1')],
  ) => planService(daemonSpec(over), deployments, tasks, NOW, instances);

  it('starts one task on each eligible instance, targeted at it, and sets desiredCount', () => {
    const actions = plan([instance('a'), instance('b'), instance('c')], [], { desiredCount: 0 });
    expect(of(actions, 'startTasks')).toEqual([
      { type: 'startTasks', deploymentId: 'd1', count: 3, instanceIds: ['a', 'b', 'c'] },
    ]);
    expect(of(actions, 'setDesiredCount')).toEqual([{ type: 'setDesiredCount', desiredCount: 3 }]);
  });

  it.each<[string, Partial<DaemonInstanceView>, boolean]>([
    ['ACTIVE', {}, true],
    ['DRAINING', { status: 'DRAINING' }, false],
    ['failing its constraints', { meetsConstraints: false }, false],
    ['without room', { canPlace: false }, false],
  ])('an instance %s gets a task: %s', (_label, over, gets) => {
    const actions = plan([instance('a', over)], [], { desiredCount: 0 });
    expect(startedOn(actions)).toEqual(gets ? ['a'] : []);
    expect(of(actions, 'setDesiredCount')).toEqual(
      gets ? [{ type: 'setDesiredCount', desiredCount: 1 }] : [],
    );
  });

  it('does nothing more once each instance runs its task: steady and complete', () => {
    const tasks = ['a', 'b'].map((id) => task('d1', { instanceId: id }));
    const actions = plan([instance('a', { canPlace: false }), instance('b')], tasks, { desiredCount: 2 });
    expect(of(actions, 'startTasks')).toEqual([]);
    expect(stoppedIds(actions)).toEqual([]);
    expect(of(actions, 'setSteady')).toEqual([{ type: 'setSteady', steady: true }]);
    expect(of(actions, 'updateDeployment')[0]).toMatchObject({ rolloutState: 'COMPLETED' });
  });

  it('a task still waiting for placement counts for its instance: no second one', () => {
    const waiting = task('d1', { lastStatus: 'PROVISIONING', instanceId: 'a', startedAt: null });
    const actions = plan([instance('a', { canPlace: true })], [waiting], { desiredCount: 1 });
    expect(of(actions, 'startTasks')).toEqual([]);
  });

  it('follows a new instance', () => {
    const tasks = ['a', 'b', 'c'].map((id) => task('d1', { instanceId: id }));
    const actions = plan(
      ['a', 'b', 'c', 'd'].map((id) => instance(id)),
      tasks,
      { desiredCount: 3 },
    );
    expect(startedOn(actions)).toEqual(['d']);
    expect(of(actions, 'setDesiredCount')).toEqual([{ type: 'setDesiredCount', desiredCount: 4 }]);
  });

  it('a DRAINING instance: its daemon task waits for the other tasks there, then stops', () => {
    const t = task('d1', { instanceId: 'a' });
    const busy = plan([instance('a', { status: 'DRAINING', otherLiveTasks: 2 })], [t], { desiredCount: 1 });
    expect(stoppedIds(busy)).toEqual([]);
    expect(of(busy, 'setDesiredCount')).toEqual([{ type: 'setDesiredCount', desiredCount: 0 }]);
    const empty = plan([instance('a', { status: 'DRAINING' })], [t], { desiredCount: 0 });
    expect(stoppedIds(empty)).toEqual([t.id]);
    expect(of(empty, 'stopTask')[0]!.reason).toBe('Container instance is DRAINING');
  });

  it('a protected daemon task on a DRAINING instance stays until its protection expires', () => {
    const t = task('d1', { instanceId: 'a', protectedUntil: inMinutes(5) });
    const draining = [instance('a', { status: 'DRAINING' })];
    expect(stoppedIds(plan(draining, [t], { desiredCount: 0 }))).toEqual([]);
    const later = planService(
      daemonSpec({ desiredCount: 0 }),
      [deployment('d1')],
      [t],
      inMinutes(6),
      draining,
    );
    expect(stoppedIds(later)).toEqual([t.id]);
  });

  it('stops the task of an instance that left, or no longer meets the constraints', () => {
    const gone = task('d1', { instanceId: 'gone' });
    const unfit = task('d1', { instanceId: 'b' });
    const actions = plan([instance('b', { meetsConstraints: false })], [gone, unfit], { desiredCount: 2 });
    expect(stoppedIds(actions).sort()).toEqual([gone.id, unfit.id].sort());
    expect(of(actions, 'setDesiredCount')).toEqual([{ type: 'setDesiredCount', desiredCount: 0 }]);
  });

  it('keeps one task per instance: a duplicate goes', () => {
    const first = task('d1', { instanceId: 'a' });
    const second = task('d1', { instanceId: 'a', lastStatus: 'PENDING' });
    const actions = plan([instance('a')], [first, second], { desiredCount: 1 });
    expect(stoppedIds(actions)).toEqual([second.id]);
  });

  it('rolls a new revision out instance by instance: old task stopped, new one once it has STOPPED', () => {
    const deployments = [deployment('d1', { status: 'ACTIVE' }), deployment('d2')];
    const old = ['a', 'b'].map((id) => task('d1', { instanceId: id }));
    const first = plan([instance('a'), instance('b')], old, { desiredCount: 2 }, deployments);
    expect(stoppedIds(first).sort()).toEqual(old.map((t) => t.id).sort());
    expect(of(first, 'startTasks')).toEqual([]);
    // Old task on a has STOPPED (left out); the one on b is still stopping.
    const stopping = { ...old[1]!, desiredStatus: 'STOPPED' as const };
    const second = plan([instance('a'), instance('b')], [stopping], { desiredCount: 2 }, deployments);
    expect(startedOn(second)).toEqual(['a']);
  });

  it('within minimumHealthyPercent: at 50% of 2, one old task at a time', () => {
    const deployments = [deployment('d1', { status: 'ACTIVE' }), deployment('d2')];
    const old = ['a', 'b'].map((id) => task('d1', { instanceId: id }));
    const actions = plan(
      [instance('a'), instance('b')],
      old,
      { desiredCount: 2, minimumHealthyPercent: 50 },
      deployments,
    );
    expect(stoppedIds(actions)).toHaveLength(1);
  });

  it('a protected old task is not replaced until its protection expires', () => {
    const deployments = [deployment('d1', { status: 'ACTIVE' }), deployment('d2')];
    const old = task('d1', { instanceId: 'a', protectedUntil: inMinutes(5) });
    const actions = plan([instance('a')], [old], { desiredCount: 1 }, deployments);
    expect(stoppedIds(actions)).toEqual([]);
    expect(of(actions, 'startTasks')).toEqual([]);
    expect(of(actions, 'setSteady')).toEqual([]);
  });

  it('a deleted DAEMON service stops everything', () => {
    const t = task('d1', { instanceId: 'a' });
    const actions = plan([instance('a')], [t], { status: 'DRAINING', desiredCount: 0 });
    expect(stoppedIds(actions)).toEqual([t.id]);
    expect(of(actions, 'startTasks')).toEqual([]);
  });
});
