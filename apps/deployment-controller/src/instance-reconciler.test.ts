import { createLogger } from '@berth/config';
import { DEFAULT_LIVENESS_SETTINGS, type LivenessSettings } from '@berth/domain';
import type { InstanceStore } from './stores.js';
import { InMemoryBerth, type MemInstance, type MemService } from './testing/in-memory-stores.js';
import { InstanceReconciler } from './instance-reconciler.js';
import { ServiceReconciler } from './service-reconciler.js';

/**
 * Host loss and the brake on mass eviction, against the in-memory stores, with the defaults:
 * silent after 5 s, lost after 6 s, the brake over 55% of a cluster of at least 3.
 */

const logger = createLogger('test', 'silent');

function harness(settings: Partial<LivenessSettings> = {}) {
  const world = new InMemoryBerth();
  const placed: string[] = [];
  const changed: string[] = [];
  const edges = {
    placeInCluster: async (id: string) => void placed.push(id),
    serviceChanged: async (id: string) => void changed.push(id),
  };
  const reconciler = (store: InstanceStore = world.instanceStore) =>
    new InstanceReconciler(store, edges, logger, { ...DEFAULT_LIVENESS_SETTINGS, ...settings });
  const cluster = world.addCluster();
  const td = world.addTaskDefinition('app');

  /** Starts `count` tasks on the instance, of a service or standalone. */
  const addTasks = (i: MemInstance, count: number, service?: MemService) => {
    const tasks = service
      ? world.createTasks({
          clusterId: cluster.id,
          td,
          count,
          startedBy: null,
          group: `service:${service.name}`,
          serviceId: service.id,
          deploymentId: world.deploymentsOf(service.id)[0]!.id,
        })
      : world.runTask(cluster.id, td.id, count);
    for (const t of tasks) {
      world.place(t.id, i.id);
      world.start(t.id);
    }
  };
  /** An instance whose agent just sent a heartbeat, running `count` tasks. */
  const host = (count = 2, service?: MemService) => {
    const i = world.addInstance(cluster.id);
    addTasks(i, count, service);
    return i;
  };
  /** Time passes second by second, with a sweep each second; the agents of `alive` heartbeat. */
  const sweepFor = async (ms: number, alive: MemInstance[] = []) => {
    for (let t = 0; t < ms; t += 1000) {
      world.advance(1000);
      for (const i of alive) world.heartbeat(i.id);
      await reconciler().sweep();
    }
  };
  const running = (i: MemInstance) => world.tasksOn(i.id).filter((t) => t.lastStatus === 'RUNNING').length;
  const connected = (i: MemInstance) => world.instances.get(i.id)!.agentConnected;
  return { world, placed, changed, reconciler, cluster, td, addTasks, host, sweepFor, running, connected };
}

it('disconnects a silent agent after the heartbeat timeout and, after the grace, stops its tasks with InstanceLost', async () => {
  const { world, placed, cluster, host, sweepFor, running, connected } = harness();
  const silent = host(2);
  await sweepFor(5000);
  expect(connected(silent)).toBe(false);
  expect(running(silent)).toBe(2);

  await sweepFor(1000);
  const tasks = world.tasksOn(silent.id);
  for (const t of tasks) {
    expect(t).toMatchObject({
      lastStatus: 'STOPPED',
      desiredStatus: 'STOPPED',
      stopCode: 'InstanceLost',
      stoppedReason: 'Container instance lost: its agent has been silent for 6 s',
      holdsReservation: false,
    });
  }
  const instance = world.instances.get(silent.id)!;
  expect([instance.reservedCpu, instance.reservedMemory]).toEqual([0, 0]);
  expect(placed).toEqual([cluster.id]);
});

it('leaves alone agents that heartbeat, and one that came back within the grace', async () => {
  const { world, host, sweepFor, running, connected } = harness();
  const [steady, flaky] = [host(), host()];
  await sweepFor(5000, [steady]);
  expect(connected(flaky)).toBe(false);
  world.heartbeat(flaky.id);
  await sweepFor(20_000, [steady, flaky]);
  for (const i of [steady, flaky]) {
    expect(connected(i)).toBe(true);
    expect(running(i)).toBe(2);
  }
});

it('gives a full grace, from when it first saw it, to a silence the controller was down for', async () => {
  const { world, reconciler, host, sweepFor, running, connected } = harness();
  const silent = host();
  // The controller was down (or could not reach Postgres) for 30 s: the agent may be back any moment.
  world.advance(30_000);
  await reconciler().sweep();
  expect(connected(silent)).toBe(false);
  await sweepFor(5000);
  expect(running(silent)).toBe(2);
  await sweepFor(1000);
  expect(running(silent)).toBe(0);
});

it('spares an agent whose heartbeat lands between the snapshot and the writes', async () => {
  const { world, reconciler, host, running, connected } = harness();
  const back = host();
  world.advance(10_000);
  const store = world.instanceStore;
  // The agent reconnects while the sweep is judging it on what it read.
  const racing: InstanceStore = Object.create(store, {
    snapshot: {
      value: async () => {
        const snapshot = await store.snapshot();
        world.heartbeat(back.id);
        return snapshot;
      },
    },
  });
  await reconciler(racing).sweep();
  expect(connected(back)).toBe(true);
  expect(running(back)).toBe(2);
  expect(world.instances.get(back.id)!.silentSince).toBeNull();
});

it('stops the tasks once, and frees their reservations once, with several controllers sweeping at once', async () => {
  const { world, placed, reconciler, host } = harness();
  const lost = host(3);
  world.advance(5000);
  await reconciler().sweep();
  world.advance(1000);
  await Promise.all([reconciler().sweep(), reconciler().sweep(), reconciler().sweep()]);
  const instance = world.instances.get(lost.id)!;
  expect([instance.reservedCpu, instance.reservedMemory]).toEqual([0, 0]);
  expect(world.tasksOn(lost.id).map((t) => t.stopCode)).toEqual([
    'InstanceLost',
    'InstanceLost',
    'InstanceLost',
  ]);
  expect(placed).toHaveLength(1);
});

describe('the brake on mass eviction', () => {
  it('declares no instance lost when most of a cluster went silent at once, and tells their services once', async () => {
    const { world, placed, changed, cluster, td, host, sweepFor, running, connected } = harness();
    const web = world.addService(cluster.id, td.id, { name: 'web', desiredCount: 2 });
    const healthy = host(2);
    const silent = [host(2, web), host(2), host(2)];
    await sweepFor(60_000, [healthy]);
    for (const i of silent) {
      expect(running(i)).toBe(2);
      expect(connected(i)).toBe(false);
    }
    expect([placed, changed]).toEqual([[], []]);
    expect(world.eventsOf(web.id)).toEqual([
      '(service web) kept its tasks on 3 silent container instance(s): 3 of 4 instances of the cluster went silent at once, more likely a control-plane outage than failed hosts.',
    ]);

    // The control plane is back, and so are the agents, with their tasks.
    for (const i of silent) world.heartbeat(i.id);
    await sweepFor(10_000, [healthy, ...silent]);
    for (const i of silent) expect([running(i), connected(i)]).toEqual([2, true]);
  });

  it('gives a host that does not come back with the others the release grace, then declares it lost', async () => {
    const { host, sweepFor, running } = harness();
    const healthy = host();
    const [dead, ...returning] = [host(), host(), host()];
    await sweepFor(20_000, [healthy]);
    expect(running(dead!)).toBe(2);
    // Two of three are back: one silent host in four is a host loss, not an outage. It still has
    // the release grace (20 s), longer than a lone host's 6 s, for a dial begun during the outage.
    await sweepFor(19_000, [healthy, ...returning]);
    expect(running(dead!)).toBe(2);
    await sweepFor(1000, [healthy, ...returning]);
    expect(running(dead!)).toBe(0);
    for (const i of returning) expect(running(i)).toBe(2);
  });

  it('does not hold back in a cluster smaller than brakeMinInstances: both silent hosts of two are lost', async () => {
    const { host, sweepFor, running } = harness();
    const hosts = [host(), host()];
    await sweepFor(6000);
    expect(hosts.map(running)).toEqual([0, 0]);
  });

  it('does not hold back when fewer than the threshold went silent', async () => {
    const { host, sweepFor, running } = harness();
    const healthy = [host(), host()];
    const silent = [host(), host()];
    await sweepFor(6000, healthy);
    expect([...healthy, ...silent].map(running)).toEqual([2, 2, 0, 0]);
  });
});

it('declares at most maxLostPerSweep instances of a cluster lost per sweep, longest silent first', async () => {
  const { world, reconciler, host, running } = harness({ maxLostPerSweep: 2 });
  const healthy = Array.from({ length: 6 }, () => host());
  const silent = Array.from({ length: 5 }, () => host());
  // Past the grace, each silent a little longer than the one before it.
  for (const [k, i] of silent.entries()) {
    world.instances.get(i.id)!.lastHeartbeatAt = new Date(world.now.getTime() - 6000 - k * 100);
  }
  const stillRunning: number[][] = [];
  for (let sweep = 0; sweep < 3; sweep++) {
    await reconciler().sweep();
    stillRunning.push(silent.map(running));
    world.advance(1000);
    for (const i of healthy) world.heartbeat(i.id);
  }
  expect(stillRunning).toEqual([
    [2, 2, 2, 0, 0],
    [2, 0, 0, 0, 0],
    [0, 0, 0, 0, 0],
  ]);
});

describe('disconnectedTaskBehavior', () => {
  it('WAIT keeps a service’s tasks on a lost instance, REPLACE and standalone tasks stop', async () => {
    const { world, changed, cluster, td, addTasks, host, sweepFor } = harness();
    const singleton = world.addService(cluster.id, td.id, { name: 'db', disconnectedTaskBehavior: 'WAIT' });
    const web = world.addService(cluster.id, td.id, { name: 'web' });
    const lost = host(1, singleton);
    addTasks(lost, 1, web);
    addTasks(lost, 1);
    await sweepFor(6000);
    const byService = (id: string | null) => world.tasksOn(lost.id).find((t) => t.serviceId === id)!;
    expect(byService(singleton.id)).toMatchObject({
      lastStatus: 'RUNNING',
      desiredStatus: 'RUNNING',
      stopCode: null,
    });
    expect(byService(web.id)).toMatchObject({ lastStatus: 'STOPPED', stopCode: 'InstanceLost' });
    expect(byService(null)).toMatchObject({ lastStatus: 'STOPPED', stopCode: 'InstanceLost' });
    expect(changed).toEqual([web.id]);
  });

  it('WAIT: a host with only waiting tasks is never declared lost, and they still run when its agent is back', async () => {
    const { world, placed, cluster, td, host, sweepFor, running, connected } = harness();
    const singleton = world.addService(cluster.id, td.id, { name: 'db', disconnectedTaskBehavior: 'WAIT' });
    const i = host(1, singleton);
    await sweepFor(120_000);
    expect([running(i), connected(i), placed]).toEqual([1, false, []]);
    world.heartbeat(i.id);
    await sweepFor(5000, [i]);
    expect([running(i), connected(i)]).toEqual([1, true]);
  });
});

it("replaces a lost host's service tasks on the hosts that are left", async () => {
  const { world, changed, cluster, td, host, sweepFor } = harness();
  const web = world.addService(cluster.id, td.id, { name: 'web', desiredCount: 2 });
  const services = new ServiceReconciler(
    world.serviceStore,
    { placeInCluster: async () => {}, tellAgent: async () => {} },
    logger,
    () => world.now,
  );
  const [a, b] = [host(0), host(0)];
  const lost = host(2, web);
  await sweepFor(6000, [a, b]);
  for (const id of changed) await services.reconcile(id);
  world.converge([a.id, b.id]);
  const live = world.liveTasksOf(web.id);
  expect(live.map((t) => t.lastStatus)).toEqual(['RUNNING', 'RUNNING']);
  expect(live.every((t) => t.containerInstanceId !== lost.id)).toBe(true);
  expect(world.eventsOf(web.id)).toEqual([expect.stringMatching(/^\(service web\) has started 2 tasks/)]);
});
