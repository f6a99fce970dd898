import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { createPrisma, createTasks, sqlOf, type PrismaClient, type TaskDefinitionModel } from '@berth/db';
import { ContainerStatus, HealthStatus, TaskStatus, type Register, type TaskStateReport } from '@berth/proto';
import { createTestDatabase, type TestDatabase } from '@berth/testing';
import { AgentsRepository } from '../src/agents/agents.repository.js';
import { ClustersRepository } from '../src/clusters/clusters.repository.js';
import type { RegistryCredentialsRepository } from '../src/registry-credentials/registry-credentials.repository.js';
import type { SecretsRepository } from '../src/secrets/secrets.repository.js';

/**
 * What the gateway writes for agents (registration, disconnects, task reports), against a real
 * database: the refusals an agent is told, the guards that keep a stale write out, and a
 * reservation given back once however often the STOPPED report comes.
 */

let db: TestDatabase;
let prisma: PrismaClient;
let agents: AgentsRepository;
let taskDefinition: TaskDefinitionModel;

beforeAll(async () => {
  db = await createTestDatabase();
  prisma = createPrisma(db.url, { poolSize: 4 });
  // Credentials and secrets are only read when tasks are sent to agents, not written here.
  agents = new AgentsRepository(
    prisma,
    new ClustersRepository(prisma),
    null as unknown as RegistryCredentialsRepository,
    null as unknown as SecretsRepository,
  );
  taskDefinition = await prisma.taskDefinition.create({
    data: {
      family: 'app',
      revision: 1,
      cpu: 256,
      memory: 512,
      definition: {
        family: 'app',
        containerDefinitions: [
          { name: 'web', image: 'busybox' },
          { name: 'sidecar', image: 'busybox', essential: false },
        ],
      },
    },
  });
}, 30_000);

/** Until some other session waits for a lock `holder` holds. */
async function waitUntilBlocked(holder: pg.Client) {
  for (let i = 0; i < 200; i++) {
    const { rows } = await holder.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE datname = current_database() AND wait_event_type = 'Lock' AND pg_backend_pid() = ANY(pg_blocking_pids(pid))`,
    );
    if (rows[0].n > 0) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('nothing waited for the lock');
}

afterAll(async () => {
  await prisma?.$disconnect();
  await db?.drop();
});

const registration = (over: Partial<Register> = {}): Register => ({
  cluster: 'default',
  containerInstanceId: randomUUID(),
  resources: { cpu: 2048, memory: 4096 },
  hostAddress: '127.0.0.2',
  attributes: { zone: 'a' },
  agentVersion: '1.0.0',
  tasks: [],
  ...over,
});

async function registered(over: Partial<Register> = {}) {
  const outcome = await agents.register(registration(over), randomUUID());
  if (!outcome.ok) throw new Error(outcome.reason);
  return outcome.instance;
}

describe('registration', () => {
  it('creates the default cluster, writes the instance as Prisma reads it and stamps the heartbeat with the database clock', async () => {
    const reg = registration({ attributes: { zone: 'b', gpu: 'no' } });
    const before = await prisma.$queryRaw<[{ now: Date }]>`SELECT now()::timestamp(3) AS now`;
    const outcome = await agents.register(reg, 'session-1');
    expect(outcome).toMatchObject({ ok: true, clusterName: 'default' });
    if (!outcome.ok) return;
    const row = await prisma.containerInstance.findUniqueOrThrow({ where: { id: reg.containerInstanceId } });
    expect(outcome.instance).toEqual(row);
    expect(row).toMatchObject({
      hostAddress: '127.0.0.2',
      registeredCpu: 2048,
      registeredMemory: 4096,
      attributes: { zone: 'b', gpu: 'no' },
      agentVersion: '1.0.0',
      agentConnected: true,
      agentSessionId: 'session-1',
      status: 'ACTIVE',
    });
    expect(row.lastHeartbeatAt!.getTime()).toBeGreaterThanOrEqual(before[0].now.getTime());
    expect((await prisma.cluster.findUniqueOrThrow({ where: { id: row.clusterId } })).name).toBe('default');
  });

  it('updates an instance that registers again, keeping what the API set; a stale session cannot disconnect it', async () => {
    const instance = await registered();
    await prisma.containerInstance.update({
      where: { id: instance.id },
      data: { apiAttributes: { team: 'x' }, reservedCpu: 100 },
    });
    const again = await agents.register(
      registration({
        containerInstanceId: instance.id,
        hostAddress: '127.0.0.3',
        agentVersion: '1.1.0',
        resources: { cpu: 1024, memory: 2048 },
      }),
      'session-2',
    );
    expect(again).toMatchObject({
      ok: true,
      instance: {
        id: instance.id,
        hostAddress: '127.0.0.3',
        agentVersion: '1.1.0',
        registeredCpu: 1024,
        reservedCpu: 100,
        apiAttributes: { team: 'x' },
        agentSessionId: 'session-2',
        registeredAt: instance.registeredAt,
      },
    });
    await agents.disconnect(instance.id, instance.agentSessionId!);
    const still = await prisma.containerInstance.findUniqueOrThrow({ where: { id: instance.id } });
    expect(still.agentConnected).toBe(true);
    await agents.disconnect(instance.id, 'session-2');
    const gone = await prisma.containerInstance.findUniqueOrThrow({ where: { id: instance.id } });
    expect(gone.agentConnected).toBe(false);
    expect(gone.updatedAt.getTime()).toBeGreaterThan(still.updatedAt.getTime() - 1);
  });

  it('refuses an unknown or deleted cluster, another cluster, a deregistered instance and a shrink below the reservations, writing nothing', async () => {
    const refusal = async (reg: Register) => {
      const outcome = await agents.register(reg, randomUUID());
      return outcome.ok ? 'registered' : outcome.reason;
    };
    const nope = registration({ cluster: 'nope' });
    expect(await refusal(nope)).toBe('cluster nope does not exist');
    await prisma.cluster.create({ data: { name: 'gone', status: 'INACTIVE' } });
    expect(await refusal(registration({ cluster: 'gone' }))).toBe('cluster gone does not exist');
    expect(await prisma.containerInstance.count({ where: { id: nope.containerInstanceId } })).toBe(0);

    await prisma.cluster.create({ data: { name: 'prod' } });
    const instance = await registered();
    expect(await refusal(registration({ cluster: 'prod', containerInstanceId: instance.id }))).toBe(
      `container instance ${instance.id} is registered in another cluster`,
    );

    await prisma.containerInstance.update({ where: { id: instance.id }, data: { reservedCpu: 1500 } });
    expect(
      await refusal(
        registration({ containerInstanceId: instance.id, resources: { cpu: 1024, memory: 4096 } }),
      ),
    ).toBe('registered CPU or memory is less than what running tasks already reserve');
    const kept = await prisma.containerInstance.findUniqueOrThrow({ where: { id: instance.id } });
    expect(kept).toMatchObject({ registeredCpu: 2048, agentSessionId: instance.agentSessionId });

    await prisma.containerInstance.update({ where: { id: instance.id }, data: { status: 'INACTIVE' } });
    expect(await refusal(registration({ containerInstanceId: instance.id }))).toBe(
      `container instance ${instance.id} was deregistered; start the agent with a new instance id`,
    );
    // Another cluster is said first, as before.
    expect(await refusal(registration({ cluster: 'prod', containerInstanceId: instance.id }))).toBe(
      `container instance ${instance.id} is registered in another cluster`,
    );
  });

  it('revives a deleted default cluster for an agent that joins it, as ECS does', async () => {
    await prisma.cluster.update({ where: { name: 'default' }, data: { status: 'INACTIVE' } });
    const instance = await registered();
    const cluster = await prisma.cluster.findUniqueOrThrow({ where: { id: instance.clusterId } });
    expect(cluster).toMatchObject({ name: 'default', status: 'ACTIVE' });
  });
});

describe('task reports', () => {
  /** Tasks placed on a fresh instance, holding their reservations, as the scheduler leaves them. */
  async function placed(count: number) {
    const instance = await registered();
    const tasks = await sqlOf(prisma).transaction((tx) =>
      createTasks(tx, {
        clusterId: instance.clusterId,
        taskDefinition,
        count,
        targetInstanceIds: Array.from({ length: count }, () => instance.id),
      }),
    );
    await prisma.$executeRaw`
      UPDATE task SET container_instance_id = ${instance.id}::uuid, holds_reservation = true,
             last_status = 'PENDING', placed_at = now()
       WHERE target_container_instance_id = ${instance.id}::uuid`;
    await prisma.containerInstance.update({
      where: { id: instance.id },
      data: { reservedCpu: 256 * count, reservedMemory: 512 * count },
    });
    return { instance, tasks };
  }

  const container = (
    name: string,
    status: ContainerStatus,
    over: { exitCode?: number; reason?: string } = {},
  ) => ({
    name,
    runtimeId: `docker-${name}`,
    status,
    reason: over.reason ?? '',
    exitCode: over.exitCode,
    networkBindings: [],
    healthStatus: HealthStatus.HEALTH_STATUS_UNSPECIFIED,
  });
  const running = (taskId: string): TaskStateReport => ({
    taskId,
    status: TaskStatus.TASK_STATUS_RUNNING,
    reason: '',
    runningAtMs: Date.now(),
    containers: [
      container('web', ContainerStatus.CONTAINER_STATUS_RUNNING),
      container('sidecar', ContainerStatus.CONTAINER_STATUS_RUNNING),
    ],
  });
  const stopped = (taskId: string): TaskStateReport => ({
    taskId,
    status: TaskStatus.TASK_STATUS_STOPPED,
    reason: '',
    containers: [
      container('web', ContainerStatus.CONTAINER_STATUS_STOPPED, { exitCode: 1, reason: 'exited' }),
    ],
  });
  const instanceRow = (id: string) => prisma.containerInstance.findUniqueOrThrow({ where: { id } });
  const taskRow = (id: string) =>
    prisma.task.findUniqueOrThrow({ where: { id }, include: { containers: { orderBy: { name: 'asc' } } } });

  it('moves a task and its containers forward, and ignores a report from another instance or an older one', async () => {
    const { instance, tasks } = await placed(1);
    const id = tasks[0]!.id;
    const other = await registered();
    expect(await agents.applyTaskReport(other.id, running(id))).toBeNull();
    expect((await taskRow(id)).lastStatus).toBe('PENDING');

    expect(await agents.applyTaskReport(instance.id, running(id))).toEqual({
      taskId: id,
      clusterId: instance.clusterId,
      changed: true,
      stopped: false,
    });
    const task = await taskRow(id);
    expect(task).toMatchObject({ lastStatus: 'RUNNING', desiredStatus: 'RUNNING', stopCode: null });
    expect(task.startedAt).toBeInstanceOf(Date);
    expect(task.startTrace).toMatchObject({ runningAt: expect.any(String) });
    expect(task.containers.map((c) => [c.name, c.lastStatus, c.runtimeId])).toEqual([
      ['sidecar', 'RUNNING', 'docker-sidecar'],
      ['web', 'RUNNING', 'docker-web'],
    ]);

    const older: TaskStateReport = { ...running(id), status: TaskStatus.TASK_STATUS_PENDING, containers: [] };
    expect(await agents.applyTaskReport(instance.id, older)).toMatchObject({ changed: false });
    expect(await agents.applyTaskReport(instance.id, running(id))).toMatchObject({ changed: false });
    expect((await taskRow(id)).startedAt).toEqual(task.startedAt);
  });

  it('stops a task with the essential-stop decision in the same write and gives back its reservation once, though the report comes twice at once', async () => {
    const { instance, tasks } = await placed(2);
    const [a, b] = tasks.map((t) => t.id) as [string, string];
    await agents.applyTaskReport(instance.id, running(a));
    const outcomes = await Promise.all([
      agents.applyTaskReport(instance.id, stopped(a)),
      agents.applyTaskReport(instance.id, stopped(a)),
    ]);
    expect(outcomes.map((o) => o?.changed).sort()).toEqual([false, true]);
    expect(outcomes.find((o) => o?.changed)).toMatchObject({ stopped: true });
    const task = await taskRow(a);
    expect(task).toMatchObject({
      lastStatus: 'STOPPED',
      desiredStatus: 'STOPPED',
      stopCode: 'EssentialContainerExited',
      failed: true,
      holdsReservation: false,
    });
    expect(task.stoppedAt).toBeInstanceOf(Date);
    // The sidecar, never reported stopped, reads STOPPED too.
    expect(task.containers.map((c) => c.lastStatus)).toEqual(['STOPPED', 'STOPPED']);
    expect(await instanceRow(instance.id)).toMatchObject({ reservedCpu: 256, reservedMemory: 512 });

    // A task whose RUNNING and STOPPED reports race ends STOPPED, released once, whatever the order.
    await Promise.all([
      agents.applyTaskReport(instance.id, running(b)),
      agents.applyTaskReport(instance.id, stopped(b)),
      agents.applyTaskReport(instance.id, stopped(b)),
    ]);
    expect(await taskRow(b)).toMatchObject({ lastStatus: 'STOPPED', holdsReservation: false });
    expect(await instanceRow(instance.id)).toMatchObject({ reservedCpu: 0, reservedMemory: 0 });
  });

  it('does not let a report computed before a StopTask write over it: the stop code stays the one StopTask set', async () => {
    const { instance, tasks } = await placed(1);
    const id = tasks[0]!.id;
    await agents.applyTaskReport(instance.id, running(id));
    // A StopTask holds the task's row when the report is read: the report's write waits for it,
    // then finds its guard (desired RUNNING) broken, and is computed again from the stopped task.
    const stopTask = new pg.Client({ connectionString: db.url });
    await stopTask.connect();
    try {
      await stopTask.query('BEGIN');
      await stopTask.query(
        `UPDATE task SET desired_status = 'STOPPED', stop_code = 'UserInitiated', stopped_reason = 'by hand'
          WHERE id = $1`,
        [id],
      );
      const report = agents.applyTaskReport(instance.id, stopped(id));
      await waitUntilBlocked(stopTask);
      await stopTask.query('COMMIT');
      expect(await report).toMatchObject({ changed: true, stopped: true });
    } finally {
      await stopTask.end();
    }
    expect(await taskRow(id)).toMatchObject({
      lastStatus: 'STOPPED',
      stopCode: 'UserInitiated',
      stoppedReason: 'by hand',
      failed: false,
    });
    expect(await instanceRow(instance.id)).toMatchObject({ reservedCpu: 0 });
  });

  it('applies many reports at once and sends the stops and the stale ones the one-by-one way', async () => {
    const { instance, tasks } = await placed(3);
    const [a, b, c] = tasks.map((t) => t.id) as [string, string, string];
    const outcomes = await agents.applyTaskReports([
      { instanceId: instance.id, report: running(a) },
      { instanceId: instance.id, report: running(b) },
      { instanceId: instance.id, report: stopped(c) },
      { instanceId: instance.id, report: running(randomUUID()) },
      { instanceId: instance.id, report: running('not-a-uuid') },
    ]);
    expect(outcomes.map((o) => o && [o.changed, o.stopped])).toEqual([
      [true, false],
      [true, false],
      [true, true],
      null,
      null,
    ]);
    for (const id of [a, b]) {
      const task = await taskRow(id);
      expect(task).toMatchObject({ lastStatus: 'RUNNING' });
      expect(task.startedAt).toBeInstanceOf(Date);
      expect(task.containers.map((x) => x.lastStatus)).toEqual(['RUNNING', 'RUNNING']);
    }
    expect(await taskRow(c)).toMatchObject({ lastStatus: 'STOPPED', stopCode: 'TaskFailedToStart' });
    expect(await instanceRow(instance.id)).toMatchObject({ reservedCpu: 512 });
  });
});
