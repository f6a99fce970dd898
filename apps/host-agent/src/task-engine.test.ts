import { createLogger } from '@berth/config';
import { ContainerSpec, TaskStatus, type TaskSpec, type TaskStateReport } from '@berth/proto';
import { TaskEngine } from './task-engine.js';
import { TaskNetworkPool } from './network-pool.js';
import { HostPolicy } from './host-policy.js';
import type { HostPolicyConfig } from './config.js';
import {
  ContainerRuntimeError,
  type ContainerObservation,
  type ContainerRuntime,
  type CreateContainerSpec,
} from './runtime/container-runtime.js';
import { createSpecFixture } from './runtime/create-spec.fixture.js';

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
    this.createdSpecs.push(spec);
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
      health: 'UNKNOWN' as 'UNKNOWN' | 'HEALTHY' | 'UNHEALTHY',
      labels: spec.labels,
    };
    this.containers.set(o.runtimeId, o);
    return o;
  }
  networks = new Set<string>();
  volumes = new Map<string, Record<string, string>>();
  createdSpecs: CreateContainerSpec[] = [];
  async restart(id: string) {
    const c = this.containers.get(id);
    if (c) Object.assign(c, { running: true, exitCode: null });
    return c ?? null;
  }
  async ensureNetwork(name: string) {
    this.networks.add(name);
  }
  async freeNetworks() {
    return [];
  }
  async ensureVolume(name: string, options: { labels: Record<string, string> }, create: boolean) {
    if (this.volumes.has(name)) return;
    if (!create)
      throw new ContainerRuntimeError('CannotCreateContainerError', `shared volume ${name} does not exist`);
    this.volumes.set(name, options.labels);
  }
  async isNetworkFree(name: string) {
    return (
      this.networks.has(name) &&
      ![...this.containers.values()].some((c) => c.labels['berth.network'] === name)
    );
  }
  async removeNetwork(name: string) {
    this.networks.delete(name);
  }
  async removeTaskVolumes(taskId: string) {
    for (const [name, labels] of this.volumes)
      if (labels['berth.task-id'] === taskId && labels['berth.volume-scope'] === 'task')
        this.volumes.delete(name);
  }
  health(id: string, health: 'HEALTHY' | 'UNHEALTHY') {
    this.containers.get(id)!.health = health;
  }
  /** Every docker stop asked for, in order, with its timeout. */
  stops: { id: string; timeoutSeconds?: number }[] = [];
  async stop(id: string, timeoutSeconds?: number) {
    this.stops.push({ id, timeoutSeconds });
    const c = this.containers.get(id);
    if (c?.running) Object.assign(c, { running: false, exitCode: 143 });
  }
  async remove(id: string) {
    this.containers.delete(id);
  }
  finishedAtMs = new Map<string, number>();
  async finishedAt(id: string) {
    return this.finishedAtMs.get(id) ?? null;
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
  async stats() {
    return null;
  }
  exit(id: string, code: number) {
    Object.assign(this.containers.get(id)!, { running: false, exitCode: code });
  }
}

const spec = (taskId: string, over: Partial<TaskSpec> = {}): TaskSpec => ({
  taskId,
  taskArn: `arn:berth:ecs:local:0:task/default/${taskId}`,
  cluster: 'default',
  serviceName: '',
  family: 'web',
  revision: 1,
  desiredStatus: 'RUNNING',
  lastStatus: 'PENDING',
  networkMode: 'bridge',
  volumes: [],
  launchError: '',
  containerPolicy: { level: 'privileged', allowedHostPathPrefixes: [] },
  containers: [
    ContainerSpec.fromPartial({
      name: 'web',
      image: 'berth/busybox',
      cpu: 256,
      memory: 64,
      portMappings: [{ containerPort: 80, hostPort: 0, protocol: 'tcp' }],
      essential: true,
      stopTimeoutSeconds: 5,
      initProcessEnabled: true,
    }),
  ],
  ...over,
});

const settle = () => new Promise((r) => setTimeout(r, 10));

/** A host that allows anything; the container policy tests below narrow it. */
const ANYTHING: HostPolicyConfig = {
  allowPrivileged: true,
  allowHostNetwork: true,
  allowedHostPaths: [],
  pidsLimit: 4096,
};

function setup(
  runtime = new FakeRuntime(),
  clock = { now: 1_000_000 },
  host = ANYTHING,
  cleanupWaitMs = 0,
  keepNetworks = 0,
) {
  const reports: TaskStateReport[] = [];
  const logger = createLogger('t', 'silent');
  const engine = new TaskEngine(
    runtime,
    'instance-1',
    '127.0.0.2',
    new HostPolicy(host, async (path) => path),
    (r) => reports.push(r),
    logger,
    () => clock.now,
    1,
    cleanupWaitMs,
    new TaskNetworkPool(runtime, 'instance-1', logger, 0, keepNetworks),
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

it('reports the start trace with the RUNNING report: received, Docker created and started, seen RUNNING', async () => {
  const runtime = new FakeRuntime();
  const create = runtime.createAndStart.bind(runtime);
  // Docker's own times for the container: created at +5 ms, started at +8 ms.
  runtime.createAndStart = async (s) => ({
    ...(await create(s)),
    createdAtMs: 1_000_005,
    startedAtMs: 1_000_008,
  });
  const clock = { now: 1_000_000 };
  const { engine, reports, last } = setup(runtime, clock);
  engine.applyTask(spec('t1'));
  clock.now = 1_000_020;
  await settle();
  expect(last('t1')).toMatchObject({
    status: TaskStatus.TASK_STATUS_RUNNING,
    receivedAtMs: 1_000_000,
    containersCreatedAtMs: 1_000_005,
    containersStartedAtMs: 1_000_008,
    runningAtMs: 1_000_020,
  });
  // Reports before RUNNING carry no running time.
  expect(
    reports.filter((r) => r.status !== TaskStatus.TASK_STATUS_RUNNING).every((r) => !r.runningAtMs),
  ).toBe(true);
});

it('lists its running containers for the stats sampler, with their service, and counts tasks by status', async () => {
  const { engine, runtime } = setup();
  engine.applyDesiredState([spec('t1', { serviceName: 'web' }), spec('t2')]);
  await settle();
  expect(engine.runningContainers().map((c) => [c.taskId, c.service, c.runtimeId, c.restartCount])).toEqual([
    ['t1', 'web', `id-${runtime.createdSpecs[0]!.name}`, 0],
    ['t2', '', `id-${runtime.createdSpecs[1]!.name}`, 0],
  ]);
  expect(engine.taskCounts()).toEqual({ PENDING: 0, RUNNING: 2, STOPPING: 0, STOPPED: 0 });
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
  const { engine, runtime, reports, last } = setup();
  engine.applyTask(spec('t1'));
  await settle();
  runtime.exit('id-berth-t1-web', 3);
  await engine.onContainerChange('id-berth-t1-web');
  expect(last('t1')!.status).toBe(TaskStatus.TASK_STATUS_STOPPED);
  expect(last('t1')!.containers[0]!.exitCode).toBe(3);
  // The one STOPPED report carries the reason: the gateway stores a reason only with that move.
  expect(reports.filter((r) => r.status === TaskStatus.TASK_STATUS_STOPPED)).toMatchObject([
    { reason: 'Essential container in task exited: container web exited with code 3' },
  ]);
  engine.applyDesiredState([]);
  await settle();
  expect(runtime.containers.size).toBe(0);
});

it('keeps a stopped task’s containers for the cleanup wait after they exited, across an agent restart', async () => {
  const runtime = new FakeRuntime();
  const clock = { now: 1_000_000 };
  const first = setup(runtime, clock, ANYTHING, 60_000);
  first.engine.applyTask(spec('t1'));
  await settle();
  runtime.exit('id-berth-t1-web', 0);
  runtime.finishedAtMs.set('id-berth-t1-web', clock.now);
  await first.engine.onContainerChange('id-berth-t1-web');
  first.engine.applyDesiredState([]);
  await settle();
  clock.now += 59_000;
  await first.engine.resync();
  expect(runtime.containers.size).toBe(1);
  // A restarted agent counts the wait from when the container exited, not from its own start.
  const second = setup(runtime, clock, ANYTHING, 60_000);
  await second.engine.adopt();
  second.engine.applyDesiredState([]);
  await settle();
  await second.engine.resync();
  expect(runtime.containers.size).toBe(1);
  clock.now += 1_000;
  await second.engine.resync();
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

it('gives a removed task’s network to the next task instead of removing it and making another', async () => {
  const { engine, runtime, last } = setup(undefined, undefined, undefined, 0, 1);
  engine.applyDesiredState([spec('t1')]);
  await settle();
  const [network] = runtime.networks;
  expect(runtime.createdSpecs[0]).toMatchObject({ network });
  engine.applyDesiredState([]);
  await settle();
  expect(runtime.containers.size).toBe(0);
  expect([...runtime.networks]).toEqual([network]);
  engine.applyDesiredState([spec('t2')]);
  await settle();
  expect(last('t2')!.status).toBe(TaskStatus.TASK_STATUS_RUNNING);
  expect(runtime.createdSpecs[1]).toMatchObject({
    network,
    labels: expect.objectContaining({ 'berth.network': network }),
  });
  expect([...runtime.networks]).toEqual([network]);
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
  // Its network too: the new agent read which one from the containers' labels.
  expect(runtime.networks.size).toBe(0);
});

it('finishes a launch that an agent crash interrupted, without creating twins', async () => {
  const runtime = new FakeRuntime();
  const two = spec('t1', {
    containers: [spec('x').containers[0]!, { ...spec('x').containers[0]!, name: 'side', essential: false }],
  });
  // The first agent created "web" and died before "side".
  await runtime.createAndStart(
    createSpecFixture({
      name: 'berth-t1-web',
      labels: { 'berth.task-id': 't1', 'berth.container-name': 'web' },
    }),
  );
  const { engine, last } = setup(runtime);
  await engine.adopt();
  engine.applyDesiredState([{ ...two, lastStatus: 'PENDING' }]);
  await settle();
  expect(runtime.created).toBe(2);
  expect(last('t1')!.status).toBe(TaskStatus.TASK_STATUS_RUNNING);
});

describe('multi-container tasks', () => {
  const container = (over: Partial<ContainerSpec> & { name: string }) =>
    ContainerSpec.fromPartial({ image: 'berth/busybox', essential: true, stopTimeoutSeconds: 5, ...over });
  const web = container({
    name: 'web',
    healthCheck: {
      command: ['CMD-SHELL', 'true'],
      intervalSeconds: 5,
      timeoutSeconds: 2,
      retries: 3,
      startPeriodSeconds: 0,
    },
  });
  const waitUntil = async (what: string, check: () => boolean) => {
    for (let i = 0; i < 200 && !check(); i++) await settle();
    if (!check()) throw new Error(`timed out waiting for ${what}`);
  };

  it('starts a container only once its HEALTHY dependency is healthy', async () => {
    const { engine, runtime, last } = setup();
    const sidecar = container({
      name: 'sidecar',
      essential: false,
      dependsOn: [{ containerName: 'web', condition: 'HEALTHY' }],
      startTimeoutSeconds: 60,
    });
    engine.applyTask(spec('t1', { containers: [web, sidecar] }));
    await waitUntil('web to start', () => runtime.containers.has('id-berth-t1-web'));
    await settle();
    expect(runtime.containers.has('id-berth-t1-sidecar')).toBe(false);
    expect(last('t1')!.status).toBe(TaskStatus.TASK_STATUS_PENDING);

    runtime.health('id-berth-t1-web', 'HEALTHY');
    await waitUntil('the sidecar to start', () => runtime.containers.has('id-berth-t1-sidecar'));
    await waitUntil('the task to run', () => last('t1')!.status === TaskStatus.TASK_STATUS_RUNNING);
  });

  it('fails the task with a clear reason when a dependency is not met within startTimeout', async () => {
    const clock = { now: 1_000_000 };
    const { engine, runtime, last } = setup(new FakeRuntime(), clock);
    const sidecar = container({
      name: 'sidecar',
      essential: false,
      dependsOn: [{ containerName: 'web', condition: 'HEALTHY' }],
      startTimeoutSeconds: 30,
    });
    engine.applyTask(spec('t1', { containers: [web, sidecar] }));
    await waitUntil('web to start', () => runtime.containers.has('id-berth-t1-web'));
    clock.now += 31_000;
    await waitUntil('the task to stop', () => last('t1')?.status === TaskStatus.TASK_STATUS_STOPPED);
    expect(last('t1')!.reason).toBe(
      'DependencyError: container sidecar waited 30 s (startTimeout) for web to be HEALTHY',
    );
    expect(runtime.containers.has('id-berth-t1-sidecar')).toBe(false);
    expect(runtime.containers.get('id-berth-t1-web')!.running).toBe(false);
  });

  it('runs the app after a SUCCESS dependency exits 0, and fails it if it exits otherwise', async () => {
    const migrate = container({ name: 'migrate', essential: false });
    const app = container({ name: 'app', dependsOn: [{ containerName: 'migrate', condition: 'SUCCESS' }] });
    for (const [code, outcome] of [
      [0, TaskStatus.TASK_STATUS_RUNNING],
      [2, TaskStatus.TASK_STATUS_STOPPED],
    ] as const) {
      const { engine, runtime, last } = setup();
      engine.applyTask(spec('t1', { containers: [migrate, app] }));
      await waitUntil('migrate to start', () => runtime.containers.has('id-berth-t1-migrate'));
      runtime.exit('id-berth-t1-migrate', code);
      await waitUntil(`the task to be ${outcome}`, () => last('t1')?.status === outcome);
      if (code !== 0) expect(last('t1')!.reason).toMatch(/dependency migrate exited with code 2/);
    }
  });

  it('gives a bridge task its own network, joined under each container name, and removes it after', async () => {
    const { engine, runtime } = setup();
    engine.applyTask(
      spec('t1', {
        volumes: [
          {
            name: 'scratch',
            type: 'docker',
            sourcePath: '',
            scope: 'task',
            autoprovision: false,
            driver: 'local',
            driverOpts: {},
            labels: {},
          },
          {
            name: 'logs',
            type: 'host',
            sourcePath: '/var/log/app',
            scope: 'task',
            autoprovision: false,
            driver: '',
            driverOpts: {},
            labels: {},
          },
        ],
        containers: [
          container({
            name: 'web',
            mountPoints: [
              { sourceVolume: 'scratch', containerPath: '/data', readOnly: false },
              { sourceVolume: 'logs', containerPath: '/logs', readOnly: true },
            ],
          }),
          container({
            name: 'reader',
            essential: false,
            volumesFrom: [{ sourceContainer: 'web', readOnly: true }],
          }),
        ],
      }),
    );
    await waitUntil('both containers', () => runtime.created === 2);
    // One network, which both containers join and carry as a label (for an agent that adopts them).
    expect(runtime.networks.size).toBe(1);
    const [network] = runtime.networks;
    const [first, second] = runtime.createdSpecs;
    expect(first).toMatchObject({
      name: 'berth-t1-web',
      network,
      labels: expect.objectContaining({ 'berth.network': network }),
      alias: 'web',
      binds: ['berth-t1-scratch:/data', '/var/log/app:/logs:ro'],
    });
    expect(second).toMatchObject({ network, alias: 'reader' });
    // volumesFrom waits for its source to exist.
    expect(second).toMatchObject({ name: 'berth-t1-reader', volumesFrom: ['berth-t1-web:ro'] });
    expect([...runtime.volumes.keys()]).toEqual(['berth-t1-scratch']);

    engine.stopTask('t1');
    await settle();
    engine.applyDesiredState([]);
    await waitUntil('the task to be removed', () => runtime.containers.size === 0);
    await settle();
    expect(runtime.networks.size).toBe(0);
    expect(runtime.volumes.size).toBe(0);
  });

  it('fails a task whose shared volume is missing and not autoprovisioned', async () => {
    const { engine, last } = setup();
    engine.applyTask(
      spec('t1', {
        volumes: [
          {
            name: 'data',
            type: 'docker',
            sourcePath: '',
            scope: 'shared',
            autoprovision: false,
            driver: 'local',
            driverOpts: {},
            labels: {},
          },
        ],
      }),
    );
    await waitUntil('the task to stop', () => last('t1')?.status === TaskStatus.TASK_STATUS_STOPPED);
    expect(last('t1')!.reason).toBe('CannotCreateContainerError: shared volume data does not exist');
  });
});

describe('restartPolicy', () => {
  const restarting = (ignoredExitCodes: number[] = []) =>
    spec('t1', {
      containers: [
        ContainerSpec.fromPartial({
          name: 'web',
          image: 'berth/busybox',
          essential: true,
          restartPolicy: { ignoredExitCodes, restartAttemptPeriodSeconds: 60 },
        }),
      ],
    });

  it('restarts an exited container in place once it ran a whole attempt period; the task stays RUNNING', async () => {
    const clock = { now: 1_000_000 };
    const { engine, runtime, last } = setup(new FakeRuntime(), clock);
    engine.applyTask(restarting());
    await settle();
    clock.now += 61_000;
    runtime.exit('id-berth-t1-web', 1);
    await engine.onContainerChange('id-berth-t1-web');
    await settle();
    expect(runtime.containers.get('id-berth-t1-web')!.running).toBe(true);
    expect(runtime.created).toBe(1);
    expect(last('t1')!.status).toBe(TaskStatus.TASK_STATUS_RUNNING);
  });

  it('does not restart a container that exits before its attempt period, or with an ignored code', async () => {
    for (const [ignored, ranMs] of [
      [[], 10_000],
      [[0], 61_000],
    ] as const) {
      const clock = { now: 1_000_000 };
      const { engine, runtime, last } = setup(new FakeRuntime(), clock);
      engine.applyTask(restarting([...ignored]));
      await settle();
      clock.now += ranMs;
      runtime.exit('id-berth-t1-web', 0);
      await engine.onContainerChange('id-berth-t1-web');
      await settle();
      expect(last('t1')!.status).toBe(TaskStatus.TASK_STATUS_STOPPED);
      expect(last('t1')!.containers[0]!.exitCode).toBe(0);
    }
  });
});

describe('secrets', () => {
  it('adds secrets to the environment at create, over a variable of the same name', async () => {
    const { engine, runtime } = setup();
    const withSecrets = spec('t1');
    withSecrets.containers[0] = {
      ...withSecrets.containers[0]!,
      environment: [
        { name: 'MODE', value: 'prod' },
        { name: 'DB_PASSWORD', value: 'placeholder' },
      ],
      secrets: [{ name: 'DB_PASSWORD', value: 'hunter2' }],
    };
    engine.applyTask(withSecrets);
    await settle();
    expect(runtime.createdSpecs[0]!.environment).toEqual([
      { name: 'MODE', value: 'prod' },
      { name: 'DB_PASSWORD', value: 'hunter2' },
    ]);
  });

  it('runs nothing of a task the control plane could not prepare, and reports why it stopped', async () => {
    const { engine, runtime, last } = setup();
    const reason =
      'ResourceInitializationError: unable to pull secrets: secret "db" not found in cluster default';
    engine.applyTask(spec('t1', { launchError: reason }));
    await settle();
    expect(runtime.created).toBe(0);
    expect(last('t1')).toMatchObject({ status: TaskStatus.TASK_STATUS_STOPPED, reason });
  });
});

describe('container policy', () => {
  const strict: HostPolicyConfig = { ...ANYTHING, allowPrivileged: false, allowHostNetwork: false };
  const privileged = (over: Partial<TaskSpec> = {}) => {
    const t = spec('t1', over);
    t.containers[0] = { ...t.containers[0]!, privileged: true };
    return t;
  };

  it('creates nothing of a task this host refuses, and reports it failed with the rule and the flag', async () => {
    const { engine, runtime, last } = setup(undefined, undefined, strict);
    engine.applyTask(privileged());
    await settle();
    expect(runtime.created).toBe(0);
    expect(runtime.networks.size).toBe(0);
    expect(last('t1')).toMatchObject({
      status: TaskStatus.TASK_STATUS_STOPPED,
      reason:
        'ContainerPolicyError: the policy of this host refuses web:1: containerDefinitions[0].privileged: privileged containers are refused: they own their host (allowed here with --allow-privileged)',
    });
  });

  it("checks the cluster's policy again at launch: it may have changed since RunTask", async () => {
    const { engine, runtime, last } = setup();
    engine.applyTask(privileged({ containerPolicy: { level: 'baseline', allowedHostPathPrefixes: [] } }));
    await settle();
    expect(runtime.created).toBe(0);
    expect(last('t1')!.reason).toMatch(
      /^ContainerPolicyError: container policy baseline of cluster default refuses web:1: containerDefinitions\[0\]\.privileged: /,
    );
  });

  it('confines every container with no-new-privileges and a pids limit unless the cluster and the host both allow privileged', async () => {
    for (const [level, host, confined] of [
      ['baseline', ANYTHING, true],
      ['privileged', strict, true],
      ['privileged', ANYTHING, false],
    ] as const) {
      const { engine, runtime } = setup(undefined, undefined, { ...host, pidsLimit: 512 });
      engine.applyTask(spec('t1', { containerPolicy: { level, allowedHostPathPrefixes: [] } }));
      await settle();
      expect(runtime.createdSpecs[0]).toMatchObject(
        confined ? { noNewPrivileges: true, pidsLimit: 512 } : { noNewPrivileges: false, pidsLimit: 0 },
      );
    }
  });
});

describe('essential container exits', () => {
  // proxy is essential; app and its sidecar are not, and the sidecar depends on app.
  const pair = () =>
    spec('t1', {
      containers: [
        ContainerSpec.fromPartial({
          name: 'proxy',
          image: 'berth/busybox',
          essential: true,
          stopTimeoutSeconds: 7,
        }),
        ContainerSpec.fromPartial({
          name: 'app',
          image: 'berth/busybox',
          essential: false,
          stopTimeoutSeconds: 9,
        }),
        ContainerSpec.fromPartial({
          name: 'sidecar',
          image: 'berth/busybox',
          essential: false,
          stopTimeoutSeconds: 3,
          dependsOn: [{ containerName: 'app', condition: 'START' }],
        }),
      ],
    });
  const running = (runtime: FakeRuntime, name: string) =>
    runtime.containers.get(`id-berth-t1-${name}`)!.running;

  // The control plane is unreachable throughout unless a test says otherwise: reports are only
  // collected, and no StopTask or DesiredState ever comes.
  it('stops the other containers itself, dependents first, with their stopTimeout, while the control plane is unreachable', async () => {
    const { engine, runtime } = setup();
    engine.applyTask(pair());
    await settle();
    expect(runtime.containers.size).toBe(3);
    runtime.stops = [];

    runtime.exit('id-berth-t1-proxy', 1);
    await engine.onContainerChange('id-berth-t1-proxy');
    await settle();
    expect(running(runtime, 'app')).toBe(false);
    expect(running(runtime, 'sidecar')).toBe(false);
    expect(runtime.stops).toEqual([
      { id: 'id-berth-t1-sidecar', timeoutSeconds: 3 },
      { id: 'id-berth-t1-app', timeoutSeconds: 9 },
    ]);
    expect(engine.reports()[0]).toMatchObject({
      status: TaskStatus.TASK_STATUS_STOPPED,
      reason: 'Essential container in task exited: container proxy exited with code 1',
    });
    expect(engine.reports()[0]!.containers.find((c) => c.name === 'proxy')!.exitCode).toBe(1);
  });

  it('reports the exit before the stop, so the controller sees how far the task got; a later StopTask is harmless', async () => {
    const { engine, runtime, reports, last } = setup();
    engine.applyTask(pair());
    await settle();
    const launched = reports.length;
    runtime.exit('id-berth-t1-proxy', 2);
    await engine.onContainerChange('id-berth-t1-proxy');
    await settle();
    const after = reports.slice(launched);
    expect(after.map((r) => r.status)).toEqual([
      TaskStatus.TASK_STATUS_RUNNING,
      TaskStatus.TASK_STATUS_STOPPING,
      TaskStatus.TASK_STATUS_STOPPED,
    ]);
    expect(after[0]!.containers.find((c) => c.name === 'proxy')).toMatchObject({ exitCode: 2, reason: '' });
    expect(after[2]!.reason).toBe('Essential container in task exited: container proxy exited with code 2');
    // The controller's StopTask and a DesiredState with the task desired STOPPED arrive late.
    const stops = runtime.stops.length;
    const sent = reports.length;
    engine.stopTask('t1');
    engine.applyDesiredState([{ ...pair(), desiredStatus: 'STOPPED', lastStatus: 'STOPPING' }]);
    await settle();
    expect(runtime.stops.length).toBe(stops);
    expect(reports.length).toBe(sent);
    expect(last('t1')!.status).toBe(TaskStatus.TASK_STATUS_STOPPED);
  });

  it('keeps the other containers running when a non-essential container exits', async () => {
    const { engine, runtime } = setup();
    engine.applyTask(pair());
    await settle();
    runtime.exit('id-berth-t1-app', 0);
    await engine.onContainerChange('id-berth-t1-app');
    await settle();
    expect(running(runtime, 'proxy')).toBe(true);
    expect(running(runtime, 'sidecar')).toBe(true);
    expect(runtime.stops).toEqual([]);
    expect(engine.reports()[0]).toMatchObject({ status: TaskStatus.TASK_STATUS_RUNNING, reason: '' });
  });

  it('after an agent restart, stops the rest of a task whose essential container exited while no agent ran', async () => {
    const runtime = new FakeRuntime();
    setup(runtime).engine.applyTask(pair());
    await settle();
    // The agent is down when proxy exits; the new one cannot reach the control plane.
    runtime.exit('id-berth-t1-proxy', 137);
    const { engine } = setup(runtime);
    await engine.adopt();
    await settle();
    expect(running(runtime, 'app')).toBe(false);
    expect(running(runtime, 'sidecar')).toBe(false);
    // Dependents first even without the spec; Docker then uses the container's own stop timeout.
    expect(runtime.stops).toEqual([{ id: 'id-berth-t1-sidecar' }, { id: 'id-berth-t1-app' }]);
    expect(engine.reports()[0]).toMatchObject({
      status: TaskStatus.TASK_STATUS_STOPPED,
      reason: 'Essential container in task exited: container proxy exited with code 137',
    });
  });

  it('after an agent restart, leaves a task running whose only exit was non-essential', async () => {
    const runtime = new FakeRuntime();
    setup(runtime).engine.applyTask(pair());
    await settle();
    runtime.exit('id-berth-t1-sidecar', 0);
    const { engine } = setup(runtime);
    await engine.adopt();
    await settle();
    expect(running(runtime, 'proxy')).toBe(true);
    expect(running(runtime, 'app')).toBe(true);
    expect(runtime.stops).toEqual([]);
  });
});
