import fc from 'fast-check';
import {
  circuitBreakerThreshold,
  isServing,
  planService,
  rolloutBounds,
  taskHealth,
  type ServiceTaskView,
} from './service-plan.js';
import { actionsOf, servicePlanBuilders, started, stoppedIds } from './testing/service-plan-builders.js';

const NOW = new Date('2026-11-23T12:00:00Z');
const { ago, spec, deployment, task, running } = servicePlanBuilders(NOW);
const of = actionsOf;

describe('ECS arithmetic', () => {
  it.each([
    [1, 3],
    [6, 3],
    [7, 4],
    [10, 5],
    [1000, 200],
  ])('breaker threshold at desired %i is %i', (desired, threshold) => {
    expect(circuitBreakerThreshold(desired)).toBe(threshold);
  });

  it('rounds the healthy minimum up and the maximum down', () => {
    expect(rolloutBounds(3, 50, 150)).toEqual({ minHealthy: 2, maxTotal: 4 });
    expect(rolloutBounds(1, 0, 100)).toEqual({ minHealthy: 0, maxTotal: 1 });
  });

  it('calls a task HEALTHY only when every essential checked container is', () => {
    expect(
      taskHealth([
        { essential: true, hasHealthCheck: true, healthStatus: 'HEALTHY' },
        { essential: false, hasHealthCheck: true, healthStatus: 'UNHEALTHY' },
      ]),
    ).toBe('HEALTHY');
    expect(
      taskHealth([
        { essential: true, hasHealthCheck: true, healthStatus: 'HEALTHY' },
        { essential: true, hasHealthCheck: true, healthStatus: 'UNKNOWN' },
      ]),
    ).toBe('UNKNOWN');
    expect(taskHealth([{ essential: true, hasHealthCheck: true, healthStatus: 'UNHEALTHY' }])).toBe(
      'UNHEALTHY',
    );
    expect(taskHealth([{ essential: true, hasHealthCheck: false, healthStatus: 'UNKNOWN' }])).toBe('UNKNOWN');
  });
});

describe('self-healing and scaling', () => {
  it('starts the missing tasks of a new service', () => {
    const actions = planService(spec(), [deployment('d1')], [], NOW);
    expect(actions).toEqual([{ type: 'startTasks', deploymentId: 'd1', count: 3 }]);
  });

  it('replaces a task that stopped', () => {
    const tasks = [...running('d1', 2), task('d1', { lastStatus: 'STOPPED', desiredStatus: 'STOPPED' })];
    expect(started(planService(spec(), [deployment('d1')], tasks, NOW))).toBe(1);
  });

  it('stops the surplus when scaled down, newest and not-yet-serving first', () => {
    const old = running('d1', 3, { createdAt: ago(100) });
    const pending = task('d1', { lastStatus: 'PENDING', startedAt: null });
    const actions = planService(
      spec({ desiredCount: 1 }),
      [deployment('d1', { desiredCount: 1 })],
      [...old, pending],
      NOW,
    );
    expect(stoppedIds(actions)).toHaveLength(3);
    expect(stoppedIds(actions)).toContain(pending.id);
    expect(started(actions)).toBe(0);
  });

  it('reports a steady state once, when it is reached', () => {
    const tasks = running('d1', 3);
    const first = planService(spec(), [deployment('d1', { rolloutState: 'COMPLETED' })], tasks, NOW);
    expect(first).toEqual([
      { type: 'setSteady', steady: true },
      { type: 'event', message: '(service web) has reached a steady state.' },
    ]);
    expect(
      planService(spec({ steady: true }), [deployment('d1', { rolloutState: 'COMPLETED' })], tasks, NOW),
    ).toEqual([]);
  });

  it('completes the first deployment when desiredCount tasks serve', () => {
    const actions = planService(spec(), [deployment('d1')], running('d1', 3), NOW);
    expect(of(actions, 'updateDeployment')).toEqual([
      {
        type: 'updateDeployment',
        deploymentId: 'd1',
        rolloutState: 'COMPLETED',
        rolloutStateReason: 'ECS deployment completed.',
      },
    ]);
  });

  it('does not count a task with a health check until it is HEALTHY', () => {
    const tasks = running('d1', 3, { hasHealthCheck: true, healthStatus: 'UNKNOWN' });
    const actions = planService(spec(), [deployment('d1')], tasks, NOW);
    expect(of(actions, 'updateDeployment')).toEqual([]);
  });

  it('replaces an UNHEALTHY task after the grace period, not before', () => {
    const sick = task('d1', { hasHealthCheck: true, healthStatus: 'UNHEALTHY', startedAt: ago(10) });
    const tasks = [...running('d1', 2), sick];
    expect(
      stoppedIds(planService(spec({ healthCheckGracePeriodSeconds: 60 }), [deployment('d1')], tasks, NOW)),
    ).toEqual([]);
    const actions = planService(spec({ healthCheckGracePeriodSeconds: 5 }), [deployment('d1')], tasks, NOW);
    expect(of(actions, 'stopTask')).toEqual([
      { type: 'stopTask', taskId: sick.id, reason: 'Task failed container health checks', failed: true },
    ]);
  });

  it('stops everything of a deleted service, then marks it INACTIVE', () => {
    const tasks = running('d1', 2);
    expect(
      stoppedIds(planService(spec({ status: 'DRAINING', desiredCount: 0 }), [deployment('d1')], tasks, NOW)),
    ).toHaveLength(2);
    expect(planService(spec({ status: 'DRAINING', desiredCount: 0 }), [deployment('d1')], [], NOW)).toEqual([
      { type: 'markInactive' },
    ]);
  });
});

describe('rolling deployments', () => {
  const d1 = deployment('d1', { status: 'ACTIVE', rolloutState: 'COMPLETED', createdAt: ago(600) });
  const d2 = deployment('d2');

  it('min 100 / max 200: starts all new tasks first, stops old ones only as new ones serve', () => {
    const old = running('d1', 3);
    const step1 = planService(spec(), [d1, d2], old, NOW);
    expect(started(step1)).toBe(3);
    expect(stoppedIds(step1)).toEqual([]);
    const newNotHealthy = running('d2', 3, { hasHealthCheck: true, healthStatus: 'UNKNOWN' });
    expect(stoppedIds(planService(spec(), [d1, d2], [...old, ...newNotHealthy], NOW))).toEqual([]);
    const twoHealthy = [
      ...running('d2', 2, { hasHealthCheck: true, healthStatus: 'HEALTHY' }),
      newNotHealthy[0]!,
    ];
    expect(stoppedIds(planService(spec(), [d1, d2], [...old, ...twoHealthy], NOW))).toHaveLength(2);
  });

  it('min 50 / max 100: stops half the old tasks first to make room', () => {
    const s = spec({ desiredCount: 4, minimumHealthyPercent: 50, maximumPercent: 100 });
    const old = running('d1', 4);
    const step1 = planService(s, [d1, { ...d2, desiredCount: 4 }], old, NOW);
    expect(stoppedIds(step1)).toHaveLength(2);
    expect(started(step1)).toBe(0);
    const afterStop = [
      ...old.slice(0, 2),
      ...old
        .slice(2)
        .map((t) => ({ ...t, lastStatus: 'STOPPED' as const, desiredStatus: 'STOPPED' as const })),
    ];
    expect(started(planService(s, [d1, { ...d2, desiredCount: 4 }], afterStop, NOW))).toBe(2);
  });

  it('min 0 / max 100: stops every old task at once', () => {
    const s = spec({ desiredCount: 1, minimumHealthyPercent: 0, maximumPercent: 100 });
    const actions = planService(s, [d1, { ...d2, desiredCount: 1 }], running('d1', 1), NOW);
    expect(stoppedIds(actions)).toHaveLength(1);
  });

  it('completes when the primary serves and the old deployment has no tasks left', () => {
    const actions = planService(spec(), [d1, d2], running('d2', 3), NOW);
    expect(of(actions, 'updateDeployment')).toEqual([
      {
        type: 'updateDeployment',
        deploymentId: 'd2',
        rolloutState: 'COMPLETED',
        rolloutStateReason: 'ECS deployment completed.',
      },
      { type: 'updateDeployment', deploymentId: 'd1', status: 'INACTIVE' },
    ]);
  });

  it('a superseding deployment drains both older ones', () => {
    const d2active = { ...d2, status: 'ACTIVE' as const };
    const d3 = deployment('d3', { createdAt: NOW });
    const tasks = [...running('d1', 2), ...running('d2', 1, { lastStatus: 'PENDING', startedAt: null })];
    const actions = planService(spec(), [d1, d2active, d3], tasks, NOW);
    // The pending task of d2 never served: it goes at once; d1's serving tasks stay for now.
    expect(stoppedIds(actions)).toEqual([tasks[2]!.id]);
    expect(started(actions)).toBe(3);
  });

  it('scaling during a rollout targets the new count', () => {
    const s = spec({ desiredCount: 5 });
    const actions = planService(
      s,
      [d1, { ...d2, desiredCount: 5 }],
      [...running('d1', 3), ...running('d2', 3)],
      NOW,
    );
    expect(started(actions)).toBe(2);
  });
});

describe('draining instances', () => {
  const d1 = deployment('d1', { rolloutState: 'COMPLETED', desiredCount: 4 });
  const four = spec({ desiredCount: 4, steady: true });

  it('min 100 / max 200: starts replacements first, stops drained tasks as they serve', () => {
    const staying = running('d1', 2);
    const draining = running('d1', 2, { onDrainingInstance: true });
    const step1 = planService(four, [d1], [...staying, ...draining], NOW);
    expect(started(step1)).toBe(2);
    expect(stoppedIds(step1)).toEqual([]);
    const replaced = running('d1', 2);
    const step2 = planService(four, [d1], [...staying, ...draining, ...replaced], NOW);
    expect(stoppedIds(step2).sort()).toEqual(draining.map((t) => t.id).sort());
    expect(of(step2, 'stopTask')[0]!.reason).toBe('Container instance is DRAINING: replaced elsewhere');
  });

  it('min 50 / max 100: stops drained tasks down to the minimum, then replaces them', () => {
    const s = spec({ desiredCount: 4, minimumHealthyPercent: 50, maximumPercent: 100, steady: true });
    const actions = planService(
      s,
      [d1],
      [...running('d1', 2), ...running('d1', 2, { onDrainingInstance: true })],
      NOW,
    );
    expect(stoppedIds(actions)).toHaveLength(2);
    expect(started(actions)).toBe(0);
  });

  it('is not steady while a task runs on a draining instance', () => {
    const actions = planService(
      four,
      [d1],
      [...running('d1', 3), ...running('d1', 1, { onDrainingInstance: true })],
      NOW,
    );
    expect(of(actions, 'setSteady')).toEqual([{ type: 'setSteady', steady: false }]);
  });
});

describe('circuit breaker', () => {
  const d1 = deployment('d1', { status: 'ACTIVE', rolloutState: 'COMPLETED', createdAt: ago(600) });
  const breaker = spec({ circuitBreaker: { enable: true, rollback: true } });

  it('fails the deployment at the threshold and rolls back to the last completed one', () => {
    const d2 = deployment('d2', { failedTasks: 3 });
    const actions = planService(breaker, [d1, d2], running('d1', 3), NOW);
    expect(of(actions, 'updateDeployment')[0]).toMatchObject({ deploymentId: 'd2', rolloutState: 'FAILED' });
    expect(of(actions, 'createDeployment')).toEqual([
      {
        type: 'createDeployment',
        taskDefinitionId: 'td-d1',
        restores: 'd1',
        rolledBackFrom: 'd2',
        rolloutStateReason: expect.stringContaining('Rolling back'),
      },
    ]);
    expect(stoppedIds(actions)).toEqual([]);
  });

  it('does not roll back a rollback that fails too (no endless loop)', () => {
    const d2 = deployment('d2', { failedTasks: 3, rolledBackFrom: 'd0' });
    const actions = planService(breaker, [d1, d2], running('d1', 3), NOW);
    expect(of(actions, 'updateDeployment')[0]).toMatchObject({ deploymentId: 'd2', rolloutState: 'FAILED' });
    expect(of(actions, 'createDeployment')).toEqual([]);
  });

  it('counts an unhealthy new task toward the threshold in the same pass', () => {
    const d2 = deployment('d2', { failedTasks: 2 });
    const sick = task('d2', { hasHealthCheck: true, healthStatus: 'UNHEALTHY' });
    const actions = planService(breaker, [d1, d2], [...running('d1', 3), sick], NOW);
    expect(of(actions, 'updateDeployment')[0]).toMatchObject({ rolloutState: 'FAILED' });
  });

  it('stays below the threshold and keeps trying', () => {
    const d2 = deployment('d2', { failedTasks: 2 });
    const actions = planService(breaker, [d1, d2], running('d1', 3), NOW);
    expect(of(actions, 'updateDeployment')).toEqual([]);
    expect(started(actions)).toBe(3);
  });

  it('without rollback, stops launching and keeps the old tasks', () => {
    const d2 = deployment('d2', { failedTasks: 5 });
    const actions = planService(
      spec({ circuitBreaker: { enable: true, rollback: false } }),
      [d1, d2],
      running('d1', 3),
      NOW,
    );
    expect(of(actions, 'createDeployment')).toEqual([]);
    expect(started(actions)).toBe(0);
    expect(stoppedIds(actions)).toEqual([]);
  });

  it('at desired 1000 the threshold is 200', () => {
    const big = spec({ desiredCount: 1000, circuitBreaker: { enable: true, rollback: false } });
    expect(
      of(
        planService(big, [deployment('d2', { desiredCount: 1000, failedTasks: 199 })], [], NOW),
        'updateDeployment',
      ),
    ).toEqual([]);
    expect(
      of(
        planService(big, [deployment('d2', { desiredCount: 1000, failedTasks: 200 })], [], NOW),
        'updateDeployment',
      )[0],
    ).toMatchObject({
      rolloutState: 'FAILED',
    });
  });
});

describe('a simulated rollout never breaks its bounds', () => {
  /**
   * Applies each plan to a toy cluster: started tasks come up (and serve) one tick later, stopped
   * tasks disappear one tick later. Whatever the counts and percentages, the serving count never
   * falls below the minimum (once reached) and the live count never exceeds the maximum.
   */
  it.each([
    [1, 0, 100],
    [3, 50, 150],
    [4, 50, 100],
    [3, 100, 200],
    [6, 100, 150],
  ])('desired %i, min %i%%, max %i%%', (desired, min, max) => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 }), (bootTicks) => {
        const s = spec({ desiredCount: desired, minimumHealthyPercent: min, maximumPercent: max });
        const { minHealthy, maxTotal } = rolloutBounds(desired, min, max);
        let tasks: (ServiceTaskView & { age: number })[] = running('d1', desired).map((t) => ({
          ...t,
          age: 99,
        }));
        const deps = [
          deployment('d1', { status: 'ACTIVE', rolloutState: 'COMPLETED' }),
          deployment('d2', { desiredCount: desired }),
        ];
        for (let tick = 0; tick < 40; tick++) {
          const actions = planService({ ...s, steady: false }, deps, tasks, NOW);
          const stop = new Set(stoppedIds(actions));
          tasks = tasks
            .filter((t) => !(t.desiredStatus === 'STOPPED' && t.lastStatus === 'STOPPED'))
            .map((t) => (stop.has(t.id) ? { ...t, desiredStatus: 'STOPPED' as const } : t))
            .map((t) => (t.desiredStatus === 'STOPPED' ? { ...t, lastStatus: 'STOPPED' as const } : t));
          for (const a of of(actions, 'startTasks')) {
            for (let i = 0; i < a.count; i++)
              tasks.push({ ...task(a.deploymentId, { lastStatus: 'PENDING', startedAt: null }), age: 0 });
          }
          tasks = tasks.map((t) => ({
            ...t,
            age: t.age + 1,
            ...(t.lastStatus === 'PENDING' && t.age + 1 >= bootTicks
              ? { lastStatus: 'RUNNING' as const, startedAt: NOW }
              : {}),
          }));
          const live = tasks.filter((t) => t.lastStatus !== 'STOPPED');
          expect(live.length).toBeLessThanOrEqual(maxTotal);
          expect(tasks.filter(isServing).length).toBeGreaterThanOrEqual(minHealthy);
        }
        // Converged: desired tasks of d2 serve, none of d1 remain.
        expect(tasks.filter((t) => t.deploymentId === 'd2' && isServing(t))).toHaveLength(desired);
        expect(tasks.filter((t) => t.deploymentId === 'd1' && t.lastStatus !== 'STOPPED')).toHaveLength(0);
      }),
      { numRuns: 20 },
    );
  });
});
