import { createLogger } from '@berth/config';
import { TaskStatus, type TaskSpec, type TaskStateReport } from '@berth/proto';
import { TaskEngine } from './task-engine.js';
import {
  ContainerRuntimeError,
  type ContainerObservation,
  type ContainerRuntime,
  type CreateContainerSpec,
} from './runtime/container-runtime.js';

/** A runtime in memory: containers start at once and stop when asked. */
class FakeRuntime implements ContainerRuntime {
  containers = new Map<string, ContainerObservation & { name: string }>();
  missingImages = new Set<string>();
  created = 0;

  async ensureImage(image: string) {
    if (this.missingImages.has(image))
      throw new ContainerRuntimeError('CannotPullContainerError', `${image}: not found`);
  }
  async createAndStart(spec: CreateContainerSpec) {
    this.created++;
    const o = {
      name: spec.name,
      runtimeId: `id-${spec.name}`,
      taskId: spec.labels['berth.task-id']!,
      containerName: spec.labels['berth.container-name']!,
      running: true,
      exitCode: null,
      bindings: [
        { bindIp: spec.hostAddress, containerPort: 80, hostPort: 40000 + this.created, protocol: 'tcp' },
      ],
      error: null,
      health: 'UNKNOWN' as const,
    };
    this.containers.set(o.runtimeId, o);
    return o;
  }
  async stop(id: string) {
    const c = this.containers.get(id);
    if (c?.running) Object.assign(c, { running: false, exitCode: 143 });
  }
  async remove(id: string) {
    this.containers.delete(id);
  }
  async inspect(id: string) {
    return this.containers.get(id) ?? null;
  }
  async list() {
    return [...this.containers.values()];
  }
  watch() {
    return () => {};
  }
  exit(id: string, code: number) {
    Object.assign(this.containers.get(id)!, { running: false, exitCode: code });
  }
}

const spec = (taskId: string, over: Partial<TaskSpec> = {}): TaskSpec => ({
  taskId,
  taskArn: `arn:berth:ecs:local:0:task/default/${taskId}`,
  cluster: 'default',
  family: 'web',
  revision: 1,
  desiredStatus: 'RUNNING',
  lastStatus: 'PENDING',
  containers: [
    {
      name: 'web',
      image: 'berth/busybox',
      cpu: 256,
      memory: 64,
      memoryReservation: 0,
      portMappings: [{ containerPort: 80, hostPort: 0, protocol: 'tcp' }],
      environment: [],
      command: [],
      entryPoint: [],
      essential: true,
      stopTimeoutSeconds: 5,
      initProcessEnabled: true,
    },
  ],
  ...over,
});

const settle = () => new Promise((r) => setTimeout(r, 10));

function setup(runtime = new FakeRuntime()) {
  const reports: TaskStateReport[] = [];
  const engine = new TaskEngine(
    runtime,
    'instance-1',
    '127.0.0.2',
    (r) => reports.push(r),
    createLogger('t', 'silent'),
  );
  const last = (taskId: string) => reports.filter((r) => r.taskId === taskId).at(-1);
  return { runtime, engine, reports, last };
}

it('starts a PENDING task and reports RUNNING with its host ports', async () => {
  const { engine, last } = setup();
  engine.applyDesiredState([spec('t1')]);
  await settle();
  expect(last('t1')!.status).toBe(TaskStatus.TASK_STATUS_RUNNING);
  expect(last('t1')!.containers[0]!.networkBindings[0]).toMatchObject({
    bindIp: '127.0.0.2',
    containerPort: 80,
  });
});

it('starts a task once however often it is asked', async () => {
  const { engine, runtime } = setup();
  engine.applyTask(spec('t1'));
  engine.applyTask(spec('t1'));
  engine.applyDesiredState([spec('t1')]);
  await settle();
  expect(runtime.created).toBe(1);
});

it('does not start a task it does not know that already ran elsewhere in time: reports it STOPPED', async () => {
  const { engine, runtime, last } = setup();
  engine.applyDesiredState([spec('t1', { lastStatus: 'RUNNING' })]);
  await settle();
  expect(runtime.created).toBe(0);
  expect(last('t1')!.status).toBe(TaskStatus.TASK_STATUS_STOPPED);
  expect(last('t1')!.reason).toMatch(/not found/);
});

it('stops a task on request and reports STOPPED with the exit code', async () => {
  const { engine, last } = setup();
  engine.applyTask(spec('t1'));
  await settle();
  engine.stopTask('t1');
  await settle();
  expect(last('t1')!.status).toBe(TaskStatus.TASK_STATUS_STOPPED);
  expect(last('t1')!.containers[0]!.exitCode).toBe(143);
});

it('reports an exited container, and removes the task once the control plane no longer lists it', async () => {
  const { engine, runtime, last } = setup();
  engine.applyTask(spec('t1'));
  await settle();
  runtime.exit('id-berth-t1-web', 3);
  await engine.onContainerChange('id-berth-t1-web');
  expect(last('t1')!.status).toBe(TaskStatus.TASK_STATUS_STOPPED);
  expect(last('t1')!.containers[0]!.exitCode).toBe(3);
  engine.applyDesiredState([]);
  await settle();
  expect(runtime.containers.size).toBe(0);
});

it('fails a task whose image cannot be pulled, with the reason', async () => {
  const runtime = new FakeRuntime();
  runtime.missingImages.add('berth/busybox');
  const { engine, last } = setup(runtime);
  engine.applyTask(spec('t1'));
  await settle();
  expect(last('t1')!.status).toBe(TaskStatus.TASK_STATUS_STOPPED);
  expect(last('t1')!.reason).toBe('CannotPullContainerError: berth/busybox: not found');
});

it('adopts running containers after a restart and keeps them running', async () => {
  const runtime = new FakeRuntime();
  const first = setup(runtime);
  first.engine.applyTask(spec('t1'));
  await settle();
  // A new agent process on the same host:
  const second = setup(runtime);
  await second.engine.adopt();
  expect(second.engine.reports()[0]).toMatchObject({ taskId: 't1', status: TaskStatus.TASK_STATUS_RUNNING });
  second.engine.applyDesiredState([spec('t1', { lastStatus: 'RUNNING' })]);
  await settle();
  expect(runtime.created).toBe(1);
  expect(runtime.containers.get('id-berth-t1-web')!.running).toBe(true);
});

it('stops and removes adopted containers of tasks that were replaced meanwhile', async () => {
  const runtime = new FakeRuntime();
  setup(runtime).engine.applyTask(spec('t1'));
  await settle();
  const second = setup(runtime);
  await second.engine.adopt();
  second.engine.applyDesiredState([]);
  await settle();
  expect(runtime.containers.size).toBe(0);
});

it('finishes a launch that an agent crash interrupted, without creating twins', async () => {
  const runtime = new FakeRuntime();
  const two = spec('t1', {
    containers: [spec('x').containers[0]!, { ...spec('x').containers[0]!, name: 'side', essential: false }],
  });
  // The first agent created "web" and died before "side".
  await runtime.createAndStart({
    name: 'berth-t1-web',
    image: 'berth/busybox',
    labels: { 'berth.task-id': 't1', 'berth.container-name': 'web' },
    command: [],
    entryPoint: [],
    environment: [],
    cpuShares: 0,
    memoryMiB: 0,
    memoryReservationMiB: 0,
    portMappings: [],
    hostAddress: '127.0.0.2',
    stopTimeoutSeconds: 5,
    init: false,
  });
  const { engine, last } = setup(runtime);
  await engine.adopt();
  engine.applyDesiredState([{ ...two, lastStatus: 'PENDING' }]);
  await settle();
  expect(runtime.created).toBe(2);
  expect(last('t1')!.status).toBe(TaskStatus.TASK_STATUS_RUNNING);
});
