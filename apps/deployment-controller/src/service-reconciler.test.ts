import { createLogger } from '@berth/config';
import { SERVICE_DEFAULT_STRATEGY } from '@berth/scheduler-core';
import { InMemoryBerth, type MemService, type MemTask } from './testing/in-memory-stores.js';
import { ServiceReconciler } from './service-reconciler.js';
import { TaskReconciler } from './task-reconciler.js';

/**
 * Services keeping their tasks, rolling out, tripping the breaker and going away, against the
 * in-memory stores. The world's helpers play the API, the scheduler and the agents.
 */

const logger = createLogger('test', 'silent');

function harness(
  over: Partial<MemService> = {},
  containers?: Parameters<InMemoryBerth['addTaskDefinition']>[1],
) {
  const world = new InMemoryBerth();
  const placed: string[] = [];
  const told: string[] = [];
  const trips: boolean[] = [];
  const edges = {
    placeInCluster: async (clusterId: string) => void placed.push(clusterId),
    tellAgent: async (_instanceId: string, taskIds: string[]) => void told.push(...taskIds),
    circuitBreakerTripped: (rollback: boolean) => void trips.push(rollback),
  };
  const reconciler = new ServiceReconciler(world.serviceStore, edges, logger, () => world.now);
  const taskReconciler = new TaskReconciler(world.taskStore, edges.tellAgent, logger);
  const cluster = world.addCluster('c');
  const hosts = [world.addInstance(cluster.id), world.addInstance(cluster.id), world.addInstance(cluster.id)];
  const v1 = world.addTaskDefinition('web', containers);
  const service = world.addService(cluster.id, v1.id, { name: 'web', desiredCount: 3, ...over });
  const reconcile = () => reconciler.reconcile(service.id);
  const converge = (on = hosts) => world.converge(on.map((h) => h.id));
  /** Reconciles and lets the scheduler and agents catch up, until nothing is left to do. */
  const settle = async () => {
    for (let round = 0; round < 20; round++) {
      await reconcile();
      converge();
    }
  };
  const live = () => world.liveTasksOf(service.id);
  /** RUNNING and still wanted (these task definitions have no health check). */
  const serving = () => live().filter((t) => t.lastStatus === 'RUNNING' && t.desiredStatus === 'RUNNING');
  const deployments = () => world.deploymentsOf(service.id);
  const primary = () => deployments().find((d) => d.status === 'PRIMARY')!;
  const events = () => world.eventsOf(service.id);
  const svc = () => world.services.get(service.id)!;
  return {
    world,
    placed,
    told,
    trips,
    reconciler,
    taskReconciler,
    cluster,
    hosts,
    v1,
    service,
    reconcile,
    converge,
    settle,
    live,
    serving,
    deployments,
    primary,
    events,
    svc,
  };
}

const short = (t: MemTask) => t.id.slice(0, 8);

it('starts desiredCount tasks once, with the service’s placement, and hints the scheduler', async () => {
  const { placed, cluster, reconcile, live, primary, events } = harness();
  await reconcile();
  await reconcile();
  const tasks = live();
  expect(tasks).toHaveLength(3);
  for (const t of tasks) {
    expect(t).toMatchObject({
      lastStatus: 'PROVISIONING',
      desiredStatus: 'RUNNING',
      startedBy: `ecs-svc/${primary().id}`,
      group: 'service:web',
      placementStrategy: [...SERVICE_DEFAULT_STRATEGY],
    });
  }
  expect(events()).toEqual([
    `(service web) has started 3 tasks: ${tasks.map((t) => `(task ${short(t)})`).join(' ')}.`,
  ]);
  expect(placed).toEqual([cluster.id]);
});

it('starts desiredCount tasks once however many reconciles run at once', async () => {
  const { reconcile, live, events } = harness();
  await Promise.all(Array.from({ length: 10 }, reconcile));
  expect(live()).toHaveLength(3);
  expect(events()).toHaveLength(1);
});

it('completes the deployment and reaches a steady state once its tasks run, and says so once', async () => {
  const { reconcile, converge, primary, events, svc } = harness();
  await reconcile();
  converge();
  await reconcile();
  await reconcile();
  expect(primary()).toMatchObject({
    rolloutState: 'COMPLETED',
    rolloutStateReason: 'ECS deployment completed.',
  });
  expect(svc().steady).toBe(true);
  expect(events().slice(1)).toEqual([
    `(service web) (deployment ${primary().id}) deployment completed.`,
    '(service web) has reached a steady state.',
  ]);
});

it('replaces a task that stopped on its own, and is steady again once the replacement runs', async () => {
  const { world, settle, reconcile, converge, live, events, svc } = harness();
  await settle();
  const [gone] = live();
  world.stopped(gone!.id, 'Essential container in task exited');
  await reconcile();
  expect(svc().steady).toBe(false);
  const replacement = live().find((t) => t.lastStatus === 'PROVISIONING')!;
  expect(events().at(-1)).toBe(`(service web) has started 1 tasks: (task ${short(replacement)}).`);
  converge();
  await reconcile();
  expect(live().map((t) => t.lastStatus)).toEqual(['RUNNING', 'RUNNING', 'RUNNING']);
  expect(events().at(-1)).toBe('(service web) has reached a steady state.');
});

it('scales up, and scales in tasks not yet serving first, then the newest, telling the agents of placed ones', async () => {
  const { world, told, service, settle, reconcile, converge, live } = harness();
  await settle();
  world.advance(60_000);
  const [gone] = live();
  world.stopped(gone!.id);
  await settle();
  const newest = live().find((t) => t.createdAt.getTime() === world.now.getTime())!;

  world.updateService(service.id, { desiredCount: 5 });
  await reconcile();
  expect(live().map((t) => t.lastStatus)).toEqual([
    'RUNNING',
    'RUNNING',
    'RUNNING',
    'PROVISIONING',
    'PROVISIONING',
  ]);

  // Scaled in before the scheduler placed the new ones.
  world.updateService(service.id, { desiredCount: 2 });
  await reconcile();
  const stopped = world.tasksOf(service.id).filter((t) => t.desiredStatus === 'STOPPED');
  expect(stopped).toHaveLength(3);
  for (const t of stopped) {
    expect(t).toMatchObject({
      stopCode: 'ServiceSchedulerInitiated',
      stoppedReason: 'Scaling activity: the service has more tasks than its desired count',
      failed: false,
    });
  }
  // Unplaced tasks stop at once; only the placed one's agent is told.
  expect(stopped.filter((t) => t.lastStatus === 'STOPPED').map((t) => t.containerInstanceId)).toEqual([
    null,
    null,
  ]);
  expect(told).toEqual([newest.id]);
  converge();
  expect(live()).toHaveLength(2);
});

it('rolls out a new task definition within 100% healthy and 150% at most, then retires the old deployment', async () => {
  const h = harness({ desiredCount: 4, minimumHealthyPercent: 100, maximumPercent: 150 });
  await h.settle();
  const first = h.primary();
  const v2 = h.world.addTaskDefinition('web');
  h.world.advance(1000);
  h.world.updateService(h.service.id, { taskDefinitionId: v2.id });

  await h.reconcile();
  // The first step starts two new tasks and stops none: all four old ones are needed to serve.
  expect(h.live().map((t) => t.taskDefinitionId === v2.id)).toEqual([false, false, false, false, true, true]);
  for (let round = 0; round < 10; round++) {
    h.converge();
    await h.reconcile();
    expect(h.live().length).toBeLessThanOrEqual(6);
    expect(h.serving().length).toBeGreaterThanOrEqual(4);
  }
  expect(h.live().map((t) => t.taskDefinitionId)).toEqual([v2.id, v2.id, v2.id, v2.id]);
  expect(h.deployments().map((d) => [d.id, d.status, d.rolloutState])).toEqual([
    [first.id, 'INACTIVE', 'COMPLETED'],
    [h.primary().id, 'PRIMARY', 'COMPLETED'],
  ]);
  expect(
    h.world.tasksOf(h.service.id).filter((t) => t.stoppedReason === 'Replaced by a newer deployment'),
  ).toHaveLength(4);
  expect(h.events().at(-1)).toBe('(service web) has reached a steady state.');
});

it('with 50% healthy and 100% at most, stops old tasks before it starts new ones, never below half', async () => {
  const h = harness({ desiredCount: 4, minimumHealthyPercent: 50, maximumPercent: 100 });
  await h.settle();
  const v2 = h.world.addTaskDefinition('web');
  h.world.updateService(h.service.id, { taskDefinitionId: v2.id });
  await h.reconcile();
  expect(h.live().filter((t) => t.desiredStatus === 'STOPPED')).toHaveLength(2);
  for (let round = 0; round < 10; round++) {
    h.converge();
    await h.reconcile();
    expect(h.live().length).toBeLessThanOrEqual(4);
    expect(h.serving().length).toBeGreaterThanOrEqual(2);
  }
  expect(h.live().map((t) => t.taskDefinitionId)).toEqual([v2.id, v2.id, v2.id, v2.id]);
  expect(h.primary().rolloutState).toBe('COMPLETED');
});

it('replaces a task that fails its health checks once the grace period is over, and counts it as failed', async () => {
  const h = harness({ healthCheckGracePeriodSeconds: 60 }, [
    { name: 'app', image: 'nginx', memory: 64, healthCheck: { command: ['CMD', 'true'] } },
  ]);
  await h.reconcile();
  h.converge();
  for (const t of h.live()) h.world.setHealth(t.id, 'app', 'HEALTHY');
  await h.reconcile();
  expect(h.svc().steady).toBe(true);

  const [sick] = h.live();
  h.world.setHealth(sick!.id, 'app', 'UNHEALTHY');
  h.world.advance(30_000);
  await h.reconcile();
  expect(h.world.task(sick!.id).desiredStatus).toBe('RUNNING');

  h.world.advance(31_000);
  await h.reconcile();
  expect(h.world.task(sick!.id)).toMatchObject({
    desiredStatus: 'STOPPED',
    stopCode: 'ServiceSchedulerInitiated',
    stoppedReason: 'Task failed container health checks',
    failed: true,
  });
  expect(h.told).toEqual([sick!.id]);
  expect(h.events().slice(-3)).toEqual([
    `(service web) has stopped 1 running tasks: (task ${short(sick!)}).`,
    expect.stringMatching(/^\(service web\) has started 1 tasks: /),
    `(service web) (task ${short(sick!)}) failed container health checks.`,
  ]);
});

describe('the deployment circuit breaker', () => {
  /** Rolls out a task definition whose image cannot be pulled: every new task fails to start. */
  async function badRollout(h: ReturnType<typeof harness>, rounds = 6) {
    await h.settle();
    const bad = h.world.addTaskDefinition('web');
    h.world.advance(1000);
    h.world.updateService(h.service.id, { taskDefinitionId: bad.id });
    for (let round = 0; round < rounds; round++) {
      h.world.advance(1000);
      await h.reconcile();
      for (const t of h
        .live()
        .filter((t) => t.taskDefinitionId === bad.id && t.desiredStatus === 'RUNNING')) {
        h.world.place(t.id, h.hosts[0]!.id);
        h.world.containerStopped(t.id, 'app', { reason: 'CannotPullContainerError: manifest unknown' });
        await h.taskReconciler.reconcile(t.id);
        h.world.stopped(t.id);
      }
    }
    return bad;
  }

  it('fails a rollout once its failed tasks reach the threshold, starts no more, and keeps the old tasks serving', async () => {
    const h = harness({ desiredCount: 3, circuitBreakerEnable: true });
    const bad = await badRollout(h);
    const failed = h.primary();
    expect(failed).toMatchObject({
      taskDefinitionId: bad.id,
      rolloutState: 'FAILED',
      rolloutStateReason:
        'ECS deployment circuit breaker: 3 tasks failed to start or stay healthy (threshold 3).',
    });
    expect(h.events()).toContain(
      `(service web) (deployment ${failed.id}) deployment failed: 3 tasks failed to start or stay healthy (circuit breaker threshold 3).`,
    );
    expect(h.world.tasksOf(h.service.id).filter((t) => t.taskDefinitionId === bad.id)).toHaveLength(3);
    expect(h.serving().map((t) => t.taskDefinitionId)).toEqual([h.v1.id, h.v1.id, h.v1.id]);
    // One trip, told once (berth_circuit_breaker_trips_total), however often the service reconciles after.
    await h.settle();
    expect(h.trips).toEqual([false]);
  });

  it('with rollback, goes back to the task definition of the last deployment that completed', async () => {
    const h = harness({ desiredCount: 3, circuitBreakerEnable: true, circuitBreakerRollback: true });
    const [completed] = h.deployments();
    await badRollout(h);
    const [, failed, rollback] = h.deployments();
    expect(rollback).toMatchObject({
      status: 'PRIMARY',
      taskDefinitionId: h.v1.id,
      rolledBackFrom: failed!.id,
      rolloutStateReason: `Rolling back from deployment ${failed!.id} to the task definition of deployment ${completed!.id}.`,
    });
    expect([completed!.rolledBackFrom, failed!.rolledBackFrom]).toEqual([null, null]);
    expect(h.svc().taskDefinitionId).toBe(h.v1.id);
    expect(h.trips).toEqual([true]);
    expect(h.events()).toContain(
      `(service web) (deployment ${failed!.id}) rolling back to the task definition of deployment ${completed!.id}, the last that completed.`,
    );
    await h.settle();
    expect(h.deployments().map((d) => [d.status, d.rolloutState])).toEqual([
      ['INACTIVE', 'COMPLETED'],
      ['INACTIVE', 'FAILED'],
      ['PRIMARY', 'COMPLETED'],
    ]);
    // The reason text has moved on; the column still says what the deployment is.
    expect(h.primary()).toMatchObject({
      rolloutStateReason: 'ECS deployment completed.',
      rolledBackFrom: failed!.id,
    });
    expect(h.live().map((t) => [t.deploymentId, t.lastStatus])).toEqual([
      [rollback!.id, 'RUNNING'],
      [rollback!.id, 'RUNNING'],
      [rollback!.id, 'RUNNING'],
    ]);
  });
});

it('moves tasks off a DRAINING instance: the replacement starts first, then the old task stops', async () => {
  const h = harness({ desiredCount: 2 });
  const [a, b, c] = h.hosts;
  await h.reconcile();
  h.converge([a!, b!]);
  await h.reconcile();
  h.world.instances.get(a!.id)!.status = 'DRAINING';
  const [onA] = h.world.tasksOn(a!.id);

  await h.reconcile();
  expect(h.world.task(onA!.id).desiredStatus).toBe('RUNNING');
  expect(h.live()).toHaveLength(3);
  h.converge([b!, c!]);
  await h.reconcile();
  expect(h.world.task(onA!.id)).toMatchObject({
    desiredStatus: 'STOPPED',
    stoppedReason: 'Container instance is DRAINING: replaced elsewhere',
  });
  h.converge([b!, c!]);
  await h.settle();
  expect(h.live().map((t) => t.containerInstanceId === a!.id)).toEqual([false, false]);
});

it('stops every task of a deleted service, then makes it and its deployments INACTIVE', async () => {
  const h = harness();
  await h.settle();
  const running = h.live().map((t) => t.id);
  h.world.deleteService(h.service.id);
  await h.reconcile();
  for (const id of running) {
    expect(h.world.task(id)).toMatchObject({
      desiredStatus: 'STOPPED',
      stoppedReason: 'Service is being deleted',
    });
  }
  expect(h.told.sort()).toEqual([...running].sort());
  h.converge();
  await h.reconcile();
  expect(h.svc()).toMatchObject({ status: 'INACTIVE', steady: false });
  expect(h.deployments().map((d) => d.status)).toEqual(['INACTIVE']);
  const eventsBefore = h.events().length;
  await h.reconciler.sweep();
  expect(h.events()).toHaveLength(eventsBefore);
});

it('starts no task the container policy refuses, says so once, and starts them once the policy allows', async () => {
  const h = harness({}, [{ name: 'app', image: 'nginx', memory: 64, privileged: true }]);
  for (let i = 0; i < 3; i++) await h.reconcile();
  expect(h.live()).toEqual([]);
  expect(h.events()).toEqual([
    '(service web) was unable to start a task: container policy baseline of cluster c refuses web:1: containerDefinitions[0].privileged: privileged containers are refused: they own their host.',
  ]);
  expect(h.primary().rolloutState).toBe('IN_PROGRESS');
  h.world.clusters.get(h.cluster.id)!.containerPolicyLevel = 'privileged';
  await h.reconcile();
  expect(h.live()).toHaveLength(3);
});

it('sweeps every live service', async () => {
  const h = harness();
  const other = h.world.addService(h.cluster.id, h.v1.id, { name: 'api', desiredCount: 2 });
  await h.reconciler.sweep();
  expect([h.live().length, h.world.liveTasksOf(other.id).length]).toEqual([3, 2]);
});
