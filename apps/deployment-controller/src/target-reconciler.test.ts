import { createLogger } from '@berth/config';
import { InMemoryBerth } from './testing/in-memory-stores.js';
import { ServiceReconciler } from './service-reconciler.js';
import { TargetReconciler } from './target-reconciler.js';

/**
 * Load-balancer targets against the in-memory stores: tasks register when RUNNING, the load
 * balancers' health gates a rollout, and a stopping task drains before its agent is told.
 */

const logger = createLogger('test', 'silent');

function harness(
  deregistrationDelaySeconds = 30,
  serviceOver: Parameters<InMemoryBerth['addService']>[2] = {},
) {
  const world = new InMemoryBerth();
  const told: string[] = [];
  const hinted: string[] = [];
  const tellAgent = async (_instanceId: string, taskIds: string[]) => void told.push(...taskIds);
  const services = new ServiceReconciler(
    world.serviceStore,
    { placeInCluster: async () => {}, tellAgent },
    logger,
    () => world.now,
  );
  const targets = new TargetReconciler(
    world.targetStore,
    { tellAgent, serviceChanged: async (id) => void hinted.push(id) },
    logger,
  );
  const cluster = world.addCluster('c');
  const hosts = [world.addInstance(cluster.id), world.addInstance(cluster.id)];
  const container = { name: 'web', image: 'httpd', memory: 64, portMappings: [{ containerPort: 80 }] };
  const v1 = world.addTaskDefinition('web', [container]);
  const v2 = world.addTaskDefinition('web', [container]);
  const service = world.addService(cluster.id, v1.id, { name: 'web', desiredCount: 1, ...serviceOver });
  const tg = world.addTargetGroup('web-tg', { deregistrationDelaySeconds });
  world.bindService(service.id, tg.id, 'web', 80);
  let port = 32768;
  /** Reconcile, let the scheduler and agents act (publishing the port), then sweep targets. */
  const round = async () => {
    await services.reconcile(service.id);
    world.converge(hosts.map((h) => h.id));
    for (const t of world.liveTasksOf(service.id))
      if (t.lastStatus === 'RUNNING' && !t.containers[0]!.networkBindings)
        world.publish(t.id, 'web', 80, port++);
    await targets.sweep();
  };
  const live = () => world.liveTasksOf(service.id);
  return {
    world,
    told,
    hinted,
    service,
    v1,
    v2,
    tg,
    round,
    live,
    sweepTargets: () => targets.sweep(),
    events: () => world.eventsOf(service.id),
  };
}

it('registers a RUNNING task at its published host port, once', async () => {
  const { world, round, live, events, hinted, service } = harness();
  await round();
  await round();
  const [task] = live();
  expect(world.targetsOf(task!.id)).toEqual([
    expect.objectContaining({ host: '10.0.0.1', port: 32768, drainingSince: null }),
  ]);
  expect(events().filter((e) => e.includes('registered'))).toEqual([
    '(service web) registered 1 targets in (target-group web-tg)',
  ]);
  expect(hinted).toContain(service.id);
});

it('gates a rollout on the load balancers’ health, drains the old task, and stops it when the delay ends', async () => {
  const { world, told, service, v2, round, live, events } = harness(30);
  for (let i = 0; i < 3; i++) await round();
  const [old] = live();
  world.reportTargets(old!.id, 'lb-1', 'healthy');
  for (let i = 0; i < 3; i++) await round();
  expect(world.services.get(service.id)!.steady).toBe(true);

  world.updateService(service.id, { taskDefinitionId: v2.id });
  for (let i = 0; i < 3; i++) await round();
  const fresh = live().find((t) => t.id !== old!.id)!;
  expect(fresh.lastStatus).toBe('RUNNING');
  expect(world.targetsOf(fresh.id)).toHaveLength(1);
  // Not healthy in its target group yet: the old task keeps serving.
  expect(world.task(old!.id)).toMatchObject({ lastStatus: 'RUNNING', desiredStatus: 'RUNNING' });
  world.reportTargets(fresh.id, 'lb-1', 'initial');
  for (let i = 0; i < 3; i++) await round();
  expect(world.task(old!.id).desiredStatus).toBe('RUNNING');

  world.reportTargets(fresh.id, 'lb-1', 'healthy');
  // The old one still has a session open on the load balancer.
  world.reportTargets(old!.id, 'lb-1', 'healthy', 2);
  await round();
  expect(world.task(old!.id)).toMatchObject({ lastStatus: 'DEACTIVATING', desiredStatus: 'STOPPED' });
  expect(world.targetsOf(old!.id)[0]!.drainingSince).toEqual(world.now);
  // Its agent may hear of it, but is sent it as RUNNING while it drains (the world's converge).
  const toldOld = () => told.filter((id) => id === old!.id).length;
  const before = toldOld();

  world.advance(29_000);
  world.reportTargets(old!.id, 'lb-1', 'healthy', 1);
  await round();
  expect(world.task(old!.id).lastStatus).toBe('DEACTIVATING');
  expect(toldOld()).toBe(before);

  world.advance(1_000);
  await round();
  expect(world.targetsOf(old!.id)).toEqual([]);
  expect(toldOld()).toBe(before + 1);
  expect(events()).toContain('(service web) deregistered 1 targets in (target-group web-tg)');
  await round();
  expect(world.task(old!.id).lastStatus).toBe('STOPPED');
  expect(live().map((t) => t.id)).toEqual([fresh.id]);
});

it('ends a drain early once every load balancer has no session left on the target', async () => {
  const { world, told, service, round, live } = harness(300);
  for (let i = 0; i < 3; i++) await round();
  const [task] = live();
  world.reportTargets(task!.id, 'lb-1', 'healthy', 3);
  world.reportTargets(task!.id, 'lb-2', 'healthy', 0);
  world.updateService(service.id, { desiredCount: 0 });
  await round();
  expect(world.task(task!.id).lastStatus).toBe('DEACTIVATING');
  world.advance(1_000);
  world.reportTargets(task!.id, 'lb-1', 'healthy', 0);
  await round();
  expect(world.task(task!.id).lastStatus).toBe('DEACTIVATING');
  world.reportTargets(task!.id, 'lb-2', 'healthy', 0);
  await round();
  expect(world.targetsOf(task!.id)).toEqual([]);
  expect(told).toContain(task!.id);
  await round();
  expect(world.task(task!.id).lastStatus).toBe('STOPPED');
});

it('stops a task that has no target at once, as before', async () => {
  const { world, told, service, round, live } = harness();
  await round();
  const [task] = live();
  // Never reached RUNNING with a published port: no target.
  world.targets.clear();
  world.updateService(service.id, { desiredCount: 0 });
  await round();
  expect(told).toContain(task!.id);
  expect(world.task(task!.id).lastStatus).toBe('STOPPED');
});

it('with no grace period, a new task slow to listen is not replaced before its initial checks are over', async () => {
  const { world, round, live } = harness(30);
  for (let i = 0; i < 3; i++) await round();
  const [task] = live();
  // HAProxy marks a server that never passed a check DOWN at its first failure; ELB would wait
  // for unhealthyThresholdCount (2) checks 10 s apart.
  world.advance(5_000);
  world.reportTargets(task!.id, 'lb-1', 'unhealthy');
  await round();
  expect(world.task(task!.id).desiredStatus).toBe('RUNNING');
  world.advance(10_000);
  world.reportTargets(task!.id, 'lb-1', 'healthy');
  await round();
  expect(world.task(task!.id)).toMatchObject({ desiredStatus: 'RUNNING', failed: false });
});

it('replaces a task that fails ELB health checks past the grace period; its drain ends at once', async () => {
  const { world, told, round, live, events } = harness(300, { healthCheckGracePeriodSeconds: 30 });
  for (let i = 0; i < 3; i++) await round();
  const [task] = live();
  world.reportTargets(task!.id, 'lb-1', 'healthy');
  await round();
  // Within the grace period an unhealthy target is waited for.
  world.advance(20_000);
  world.reportTargets(task!.id, 'lb-1', 'unhealthy');
  world.reportTargets(task!.id, 'lb-2', 'unhealthy');
  await round();
  expect(world.task(task!.id).desiredStatus).toBe('RUNNING');

  world.advance(10_000);
  world.reportTargets(task!.id, 'lb-1', 'unhealthy');
  world.reportTargets(task!.id, 'lb-2', 'unhealthy');
  await round();
  expect(world.task(task!.id)).toMatchObject({
    desiredStatus: 'STOPPED',
    failed: true,
    stoppedReason: 'Task failed ELB health checks in (target-group web-tg)',
  });
  // No load balancer sends it anything: the drain does not wait for the 300 s delay.
  expect(world.targetsOf(task!.id)).toEqual([]);
  expect(told).toContain(task!.id);
  expect(events()).toEqual(
    expect.arrayContaining([
      `(service web) (task ${task!.id.slice(0, 8)}) failed ELB health checks in (target-group web-tg).`,
      '(service web) deregistered 1 targets in (target-group web-tg)',
    ]),
  );
  await round();
  expect(world.task(task!.id).lastStatus).toBe('STOPPED');
  expect(live()).toEqual([expect.objectContaining({ lastStatus: 'RUNNING' })]);
});

it('a task whose target is still initial is not replaced', async () => {
  const { world, round, live } = harness(30);
  for (let i = 0; i < 3; i++) await round();
  const [task] = live();
  for (let i = 0; i < 5; i++) {
    world.advance(10_000);
    world.reportTargets(task!.id, 'lb-1', 'initial');
    await round();
  }
  expect(world.task(task!.id)).toMatchObject({ lastStatus: 'RUNNING', desiredStatus: 'RUNNING' });
});

it('rolls back a revision whose targets never become healthy, and the old task serves throughout', async () => {
  const { world, service, v1, v2, round, live, events } = harness(30, {
    circuitBreakerEnable: true,
    circuitBreakerRollback: true,
  });
  for (let i = 0; i < 3; i++) await round();
  const [old] = live();
  world.reportTargets(old!.id, 'lb-1', 'healthy');
  await round();
  expect(world.services.get(service.id)!.steady).toBe(true);

  world.updateService(service.id, { taskDefinitionId: v2.id });
  // A new target counts as unhealthy once unhealthyThresholdCount (2) checks 10 s apart could have failed.
  for (let i = 0; i < 60 && world.services.get(service.id)!.taskDefinitionId !== v1.id; i++) {
    await round();
    world.advance(5_000);
    for (const t of live()) world.reportTargets(t.id, 'lb-1', t.id === old!.id ? 'healthy' : 'unhealthy');
  }
  const deployments = world.deploymentsOf(service.id);
  const failed = deployments.find((d) => d.taskDefinitionId === v2.id);
  expect(failed).toMatchObject({ rolloutState: 'FAILED' });
  expect(deployments.find((d) => d.rolledBackFrom === failed!.id)).toMatchObject({
    taskDefinitionId: v1.id,
    status: 'PRIMARY',
  });
  expect(events().filter((e) => e.includes('failed ELB health checks'))).toHaveLength(3);
  expect(world.task(old!.id)).toMatchObject({ lastStatus: 'RUNNING', desiredStatus: 'RUNNING' });
});

describe('a task that stops without a drain leaves its target group at once, with the event', () => {
  const deregistered = '(service web) deregistered 1 targets in (target-group web-tg)';

  it('an essential container exited: before the task is even asked to stop', async () => {
    const { world, round, live, events, sweepTargets, hinted, service } = harness(300);
    for (let i = 0; i < 3; i++) await round();
    const [task] = live();
    world.reportTargets(task!.id, 'lb-1', 'healthy', 2);
    world.containerStopped(task!.id, 'web', { exitCode: 137 });
    hinted.length = 0;
    await sweepTargets();
    expect(world.targetsOf(task!.id)).toEqual([]);
    expect(events().filter((e) => e === deregistered)).toHaveLength(1);
    expect(hinted).toEqual([service.id]);
  });

  it('the agent reported it STOPPED (it crashed, or its instance was lost)', async () => {
    const { world, round, live, events, sweepTargets } = harness(300);
    for (let i = 0; i < 3; i++) await round();
    const [task] = live();
    world.stopped(task!.id, 'Essential container in task exited');
    await sweepTargets();
    await sweepTargets();
    expect(world.targetsOf(task!.id)).toEqual([]);
    expect(events().filter((e) => e === deregistered)).toHaveLength(1);
  });

  it('asked to stop without a drain (the essential-container path)', async () => {
    const { world, round, live, events, sweepTargets } = harness(300);
    for (let i = 0; i < 3; i++) await round();
    const [task] = live();
    // As TasksRepository.requestStop: desired STOPPED, no drain begun.
    world.tasks.get(task!.id)!.desiredStatus = 'STOPPED';
    await sweepTargets();
    expect(world.targetsOf(task!.id)).toEqual([]);
    expect(events()).toContain(deregistered);
  });

  it('an essential container exited during a drain: the drain ends and the agent is told', async () => {
    const { world, told, service, round, live, events, sweepTargets } = harness(300);
    for (let i = 0; i < 3; i++) await round();
    const [task] = live();
    world.reportTargets(task!.id, 'lb-1', 'healthy', 4);
    world.updateService(service.id, { desiredCount: 0 });
    await round();
    expect(world.task(task!.id).lastStatus).toBe('DEACTIVATING');
    expect(world.targetsOf(task!.id)).toHaveLength(1);
    world.containerStopped(task!.id, 'web', { exitCode: 1 });
    await sweepTargets();
    expect(world.targetsOf(task!.id)).toEqual([]);
    expect(told).toContain(task!.id);
    expect(events()).toContain(deregistered);
  });
});

describe('UpdateService with new loadBalancers', () => {
  it('starts a deployment: the running task keeps its target, the new one registers per the new set', async () => {
    const { world, service, tg, round, live, events } = harness(30);
    for (let i = 0; i < 3; i++) await round();
    const [old] = live();
    world.reportTargets(old!.id, 'lb-1', 'healthy');
    await round();
    const deploymentsBefore = world.deploymentsOf(service.id).length;
    // The same set again changes nothing.
    world.updateService(service.id, {
      loadBalancers: [{ targetGroupId: tg.id, containerName: 'web', containerPort: 80 }],
    });
    expect(world.deploymentsOf(service.id)).toHaveLength(deploymentsBefore);

    const tg2 = world.addTargetGroup('web-tg-2');
    world.updateService(service.id, {
      loadBalancers: [{ targetGroupId: tg2.id, containerName: 'web', containerPort: 80 }],
    });
    expect(world.deploymentsOf(service.id)).toHaveLength(deploymentsBefore + 1);
    for (let i = 0; i < 3; i++) await round();
    const fresh = live().find((t) => t.id !== old!.id)!;
    expect(world.targetsOf(fresh.id).map((t) => t.targetGroupId)).toEqual([tg2.id]);
    expect(world.targetsOf(old!.id).map((t) => t.targetGroupId)).toEqual([tg.id]);
    // The gate is the new group's: the old task serves until the new one is healthy there.
    expect(world.task(old!.id).desiredStatus).toBe('RUNNING');
    world.reportTargets(fresh.id, 'lb-1', 'healthy');
    await round();
    expect(world.task(old!.id).lastStatus).toBe('DEACTIVATING');
    // The load balancer has drained the old target: no session left.
    world.reportTargets(old!.id, 'lb-1', 'healthy');
    for (let i = 0; i < 2; i++) await round();
    expect(world.task(old!.id).lastStatus).toBe('STOPPED');
    expect(events()).toEqual(
      expect.arrayContaining([
        '(service web) registered 1 targets in (target-group web-tg-2)',
        '(service web) deregistered 1 targets in (target-group web-tg)',
      ]),
    );
    await round();
    expect(world.services.get(service.id)!.steady).toBe(true);
  });

  it('a rollback restores the loadBalancers of the deployment it returns to', async () => {
    const { world, service, tg, round, live } = harness(30, {
      circuitBreakerEnable: true,
      circuitBreakerRollback: true,
    });
    for (let i = 0; i < 3; i++) await round();
    const [old] = live();
    world.reportTargets(old!.id, 'lb-1', 'healthy');
    await round();
    const tg2 = world.addTargetGroup('web-tg-2');
    world.updateService(service.id, {
      loadBalancers: [{ targetGroupId: tg2.id, containerName: 'web', containerPort: 80 }],
    });
    const rolledBack = () => world.deploymentsOf(service.id).find((d) => d.rolledBackFrom);
    for (let i = 0; i < 60 && !rolledBack(); i++) {
      await round();
      world.advance(5_000);
      for (const t of live()) world.reportTargets(t.id, 'lb-1', t.id === old!.id ? 'healthy' : 'unhealthy');
    }
    expect(rolledBack()!.loadBalancers).toEqual([
      { targetGroupId: tg.id, containerName: 'web', containerPort: 80 },
    ]);
    expect(world.serviceLoadBalancers.filter((b) => b.serviceId === service.id)).toEqual([
      { serviceId: service.id, targetGroupId: tg.id, containerName: 'web', containerPort: 80 },
    ]);
  });
});
