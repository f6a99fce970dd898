import { createLogger } from '@berth/config';
import { InMemoryBerth } from './testing/in-memory-stores.js';
import { TaskReconciler } from './task-reconciler.js';

/** A task's own fate when an essential container stops, against the in-memory stores. */

function harness() {
  const world = new InMemoryBerth();
  const told: string[] = [];
  const reconciler = new TaskReconciler(
    world.taskStore,
    async (_instanceId, taskIds) => void told.push(...taskIds),
    createLogger('test', 'silent'),
  );
  const cluster = world.addCluster();
  const host = world.addInstance(cluster.id);
  const td = world.addTaskDefinition('app', [
    { name: 'web', image: 'nginx', memory: 64 },
    { name: 'sidecar', image: 'envoy', memory: 64, essential: false },
  ]);
  /** A task placed on the host, started or not. */
  const task = (started = true) => {
    const [t] = world.runTask(cluster.id, td.id);
    world.place(t!.id, host.id);
    if (started) world.start(t!.id);
    return t!.id;
  };
  return { world, told, reconciler, task, cluster, td };
}

it('stops a running task whose essential container exited, as a failure, and tells its agent', async () => {
  const { world, told, reconciler, task } = harness();
  const id = task();
  world.containerStopped(id, 'web', { exitCode: 1 });
  await reconciler.reconcile(id);
  expect(world.task(id)).toMatchObject({
    desiredStatus: 'STOPPED',
    lastStatus: 'RUNNING',
    stopCode: 'EssentialContainerExited',
    stoppedReason: 'Essential container in task exited',
    failed: true,
  });
  expect(told).toEqual([id]);
});

it('says a task that never started failed to start, with the reason of the container that failed', async () => {
  const { world, reconciler, task } = harness();
  const id = task(false);
  world.containerStopped(id, 'sidecar', { reason: 'CannotPullContainerError: pull access denied for envoy' });
  world.containerStopped(id, 'web');
  await reconciler.reconcile(id);
  expect(world.task(id)).toMatchObject({
    desiredStatus: 'STOPPED',
    stopCode: 'TaskFailedToStart',
    stoppedReason: 'CannotPullContainerError: pull access denied for envoy',
    failed: true,
  });
});

it('keeps the reason the agent already gave for a task that stopped before it looked, and tells no agent', async () => {
  const { world, told, reconciler, task } = harness();
  const id = task();
  world.containerStopped(id, 'web', { exitCode: 137 });
  world.stopped(id, 'OutOfMemoryError: container killed due to memory usage');
  await reconciler.reconcile(id);
  expect(world.task(id)).toMatchObject({
    desiredStatus: 'STOPPED',
    stopCode: 'EssentialContainerExited',
    stoppedReason: 'OutOfMemoryError: container killed due to memory usage',
  });
  expect(told).toEqual([]);
});

it('lets a task run on when only a non-essential container stopped', async () => {
  const { world, told, reconciler, task } = harness();
  const id = task();
  world.containerStopped(id, 'sidecar', { exitCode: 0 });
  await reconciler.reconcile(id);
  expect(world.task(id)).toMatchObject({ desiredStatus: 'RUNNING', stopCode: null, failed: false });
  expect(told).toEqual([]);
});

it('leaves the first stop code alone: a task the user stopped is not a failure', async () => {
  const { world, told, reconciler, task } = harness();
  const id = task();
  world.requestTaskStop(id, { stopCode: 'UserInitiated', reason: 'Task stopped by user' });
  world.containerStopped(id, 'web', { exitCode: 143 });
  await reconciler.reconcile(id);
  expect(world.task(id)).toMatchObject({ stopCode: 'UserInitiated', failed: false });
  expect(told).toEqual([]);
});

it('is a no-op the second time, and on two replicas at once', async () => {
  const { world, told, reconciler, task } = harness();
  const id = task();
  world.containerStopped(id, 'web', { exitCode: 1 });
  await Promise.all([reconciler.reconcile(id), reconciler.reconcile(id)]);
  await reconciler.reconcile(id);
  expect(world.task(id).stopCode).toBe('EssentialContainerExited');
  expect(told).toEqual([id]);
});

it("returns the task's service, so that the service is looked at too, and nothing for an unknown task", async () => {
  const { world, reconciler, cluster, td } = harness();
  const service = world.addService(cluster.id, td.id);
  const [t] = world.createTasks({
    clusterId: cluster.id,
    td,
    count: 1,
    startedBy: null,
    group: 'service:web',
    serviceId: service.id,
  });
  expect(await reconciler.reconcile(t!.id)).toBe(service.id);
  expect(await reconciler.reconcile('00000000-0000-0000-0000-000000000000')).toBeNull();
});

it('sweeps up every task whose task-event hint was lost', async () => {
  const { world, told, reconciler, task } = harness();
  const [a, b, healthy] = [task(), task(), task()];
  world.containerStopped(a, 'web', { exitCode: 1 });
  world.containerStopped(b, 'web', { exitCode: 2 });
  await reconciler.sweep();
  expect([a, b, healthy].map((id) => world.task(id).desiredStatus)).toEqual([
    'STOPPED',
    'STOPPED',
    'RUNNING',
  ]);
  expect(told.sort()).toEqual([a, b].sort());
  await reconciler.sweep();
  expect(told).toHaveLength(2);
});
