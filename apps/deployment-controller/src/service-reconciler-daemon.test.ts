import { createLogger } from '@berth/config';
import { InMemoryBerth, type MemService } from './testing/in-memory-stores.js';
import { ServiceReconciler } from './service-reconciler.js';

/**
 * Task protection and DAEMON services through the reconciler, against the in-memory stores.
 * The world's helpers play the API, the scheduler and the agents.
 */

const logger = createLogger('test', 'silent');

function harness(over: Partial<MemService> = {}, instances = 3) {
  const world = new InMemoryBerth();
  const placed: string[] = [];
  const told: string[] = [];
  const reconciler = new ServiceReconciler(
    world.serviceStore,
    {
      placeInCluster: async (clusterId: string) => void placed.push(clusterId),
      tellAgent: async (_instanceId: string, taskIds: string[]) => void told.push(...taskIds),
    },
    logger,
    () => world.now,
  );
  const cluster = world.addCluster('c');
  const hosts = Array.from({ length: instances }, () => world.addInstance(cluster.id));
  const v1 = world.addTaskDefinition('web');
  const service = world.addService(cluster.id, v1.id, { name: 'web', desiredCount: 3, ...over });
  const settle = async (on = hosts) => {
    for (let round = 0; round < 20; round++) {
      await reconciler.reconcile(service.id);
      world.converge(on.map((h) => h.id));
    }
  };
  const live = () => world.liveTasksOf(service.id);
  const svc = () => world.services.get(service.id)!;
  return { world, placed, told, reconciler, cluster, hosts, v1, service, settle, live, svc };
}

describe('task protection', () => {
  it('scale 5 → 2 with 2 protected tasks keeps the protected ones', async () => {
    const { world, service, settle, live } = harness({ desiredCount: 5 });
    await settle();
    expect(live()).toHaveLength(5);
    const [a, b] = live();
    world.protect(a!.id, 60);
    world.protect(b!.id, 60);
    world.updateService(service.id, { desiredCount: 2 });
    await settle();
    expect(
      live()
        .map((t) => t.id)
        .sort(),
    ).toEqual([a!.id, b!.id].sort());
    expect(live().every((t) => t.lastStatus === 'RUNNING' && t.desiredStatus === 'RUNNING')).toBe(true);
  });

  it('a protected surplus waits for its protection to expire, then goes', async () => {
    const { world, service, settle, live } = harness({ desiredCount: 3 });
    await settle();
    for (const t of live()) world.protect(t.id, 10);
    world.updateService(service.id, { desiredCount: 1 });
    await settle();
    expect(live()).toHaveLength(3);
    world.advance(10 * 60_000 + 1);
    await settle();
    expect(live()).toHaveLength(1);
  });

  it('a rollout replaces a protected task only once its protection expires', async () => {
    const { world, service, settle, live, v1 } = harness({ desiredCount: 2, minimumHealthyPercent: 50 });
    await settle();
    const [kept] = live();
    world.protect(kept!.id, 30);
    const v2 = world.addTaskDefinition('web');
    world.updateService(service.id, { taskDefinitionId: v2.id });
    await settle();
    expect(live().find((t) => t.taskDefinitionId === v1.id)?.id).toBe(kept!.id);
    expect(world.deploymentsOf(service.id).find((d) => d.status === 'PRIMARY')!.rolloutState).toBe(
      'IN_PROGRESS',
    );
    world.advance(30 * 60_000 + 1);
    await settle();
    expect(live().every((t) => t.taskDefinitionId === v2.id)).toBe(true);
    expect(live()).toHaveLength(2);
    expect(world.deploymentsOf(service.id).find((d) => d.status === 'PRIMARY')!.rolloutState).toBe(
      'COMPLETED',
    );
  });
});

describe('DAEMON services', () => {
  const daemon = (instances = 3) =>
    harness(
      { schedulingStrategy: 'DAEMON', desiredCount: 0, minimumHealthyPercent: 0, maximumPercent: 100 },
      instances,
    );
  const perInstance = (tasks: { containerInstanceId: string | null }[]) =>
    tasks.map((t) => t.containerInstanceId).sort();

  it('runs one task on each instance, follows a new one, and counts them as desiredCount', async () => {
    const { world, cluster, hosts, settle, live, svc, placed } = daemon(3);
    await settle();
    expect(perInstance(live())).toEqual(hosts.map((h) => h.id).sort());
    expect(live().every((t) => t.lastStatus === 'RUNNING')).toBe(true);
    expect(svc().desiredCount).toBe(3);
    expect(svc().steady).toBe(true);
    expect(placed).toContain(cluster.id);

    const fourth = world.addInstance(cluster.id);
    await settle([...hosts, fourth]);
    expect(perInstance(live())).toEqual([...hosts, fourth].map((h) => h.id).sort());
    expect(svc().desiredCount).toBe(4);
    expect(world.eventsOf(svc().id)).toContain(
      '(service web) now has 4 eligible container instances for its daemon tasks.',
    );
  });

  it('a DRAINING instance: its daemon task stops after the instance’s other tasks', async () => {
    const { world, cluster, hosts, v1, settle, live, svc } = daemon(3);
    await settle();
    // A standalone task on the first host keeps the daemon task there while it runs.
    const [other] = world.runTask(cluster.id, v1.id);
    world.place(other!.id, hosts[0]!.id);
    world.start(other!.id);
    world.instances.get(hosts[0]!.id)!.status = 'DRAINING';
    await settle();
    expect(perInstance(live())).toEqual(hosts.map((h) => h.id).sort());
    expect(svc().desiredCount).toBe(2);
    world.stopped(other!.id);
    await settle();
    expect(perInstance(live())).toEqual([hosts[1]!.id, hosts[2]!.id].sort());
    expect(world.tasksOn(hosts[0]!.id).find((t) => t.serviceId === svc().id)?.stoppedReason).toBe(
      'Container instance is DRAINING',
    );
  });

  it('an instance that leaves (INACTIVE) loses its daemon task; one without room gets none', async () => {
    const { world, cluster, hosts, settle, live, svc } = daemon(2);
    const full = world.addInstance(cluster.id, { reservedMemory: 1000 });
    await settle([...hosts, full]);
    expect(perInstance(live())).toEqual(hosts.map((h) => h.id).sort());
    expect(svc().desiredCount).toBe(2);
    world.instances.get(hosts[1]!.id)!.status = 'INACTIVE';
    await settle([...hosts, full]);
    expect(perInstance(live())).toEqual([hosts[0]!.id]);
    expect(svc().desiredCount).toBe(1);
  });

  it('honours memberOf: only matching instances run the daemon', async () => {
    const world = new InMemoryBerth();
    const reconciler = new ServiceReconciler(
      world.serviceStore,
      { placeInCluster: async () => {}, tellAgent: async () => {} },
      logger,
      () => world.now,
    );
    const cluster = world.addCluster('c');
    const gpu = world.addInstance(cluster.id, { attributes: { gpu: 'yes' } });
    const plain = world.addInstance(cluster.id);
    const td = world.addTaskDefinition('probe');
    const service = world.addService(cluster.id, td.id, {
      name: 'probe',
      schedulingStrategy: 'DAEMON',
      desiredCount: 0,
      minimumHealthyPercent: 0,
      maximumPercent: 100,
      placementConstraints: [{ type: 'memberOf', expression: 'attribute:gpu == yes' }],
    });
    for (let i = 0; i < 5; i++) {
      await reconciler.reconcile(service.id);
      world.converge([gpu.id, plain.id]);
    }
    expect(world.liveTasksOf(service.id).map((t) => t.containerInstanceId)).toEqual([gpu.id]);
    // The attribute goes: the task there is stopped.
    world.instances.get(gpu.id)!.attributes = {};
    for (let i = 0; i < 3; i++) {
      await reconciler.reconcile(service.id);
      world.converge([gpu.id, plain.id]);
    }
    expect(world.liveTasksOf(service.id)).toEqual([]);
  });

  it('rolls a new revision out instance by instance', async () => {
    const { world, service, settle, live } = daemon(3);
    await settle();
    const v2 = world.addTaskDefinition('web');
    world.updateService(service.id, { taskDefinitionId: v2.id });
    await settle();
    expect(live()).toHaveLength(3);
    expect(live().every((t) => t.taskDefinitionId === v2.id && t.lastStatus === 'RUNNING')).toBe(true);
    expect(new Set(live().map((t) => t.containerInstanceId)).size).toBe(3);
  });
});
