import { randomUUID } from 'node:crypto';
import { createLogger } from '@berth/config';
import { createPrisma, type PrismaClient } from '@berth/db';
import { DEFAULT_LIVENESS_SETTINGS } from '@berth/domain';
import { createTestDatabase, type TestDatabase } from '@berth/testing';
import { InstancesRepository } from '../src/instances.repository.js';
import { InstanceReconciler } from '../src/instance-reconciler.js';

/** Instance liveness against a real Postgres, judged with its clock (the same machine's as ours). */

let db: TestDatabase;
let prisma: PrismaClient;
const ago = (ms: number) => new Date(Date.now() - ms);
/**
 * Wider than the defaults, so a loaded machine (CI runs packages in parallel) cannot push a seeded
 * heartbeat across a threshold between the seed and the sweep: disconnected seeds sit 2.5 s inside
 * their band, lost ones 3.5 s inside theirs (below twice the timeout, where a first-seen silence
 * gets a fresh grace).
 */
const SETTINGS = { ...DEFAULT_LIVENESS_SETTINGS, heartbeatTimeoutMs: 8000, lostAfterMs: 11_000 };
const DISCONNECTED = 8500;
const LOST = 12_500;

beforeAll(async () => {
  db = await createTestDatabase();
  prisma = createPrisma(db.url);
});

afterAll(async () => {
  await prisma?.$disconnect();
  await db?.drop();
});

/** One instance with two running tasks, in a cluster of its own unless one is named. */
async function seed(
  lastHeartbeatAt: Date,
  agentConnected: boolean,
  { clusterName = randomUUID(), serviceId }: { clusterName?: string; serviceId?: string } = {},
) {
  const cluster = await prisma.cluster.upsert({
    where: { name: clusterName },
    create: { name: clusterName },
    update: {},
  });
  const td = await prisma.taskDefinition.upsert({
    where: { family_revision: { family: 'f', revision: 1 } },
    create: {
      family: 'f',
      revision: 1,
      cpu: 100,
      memory: 50,
      definition: { family: 'f', containerDefinitions: [] },
    },
    update: {},
  });
  const instanceId = randomUUID();
  await prisma.containerInstance.create({
    data: {
      id: instanceId,
      clusterId: cluster.id,
      hostAddress: '10.0.0.1',
      registeredCpu: 1000,
      registeredMemory: 1000,
      reservedCpu: 200,
      reservedMemory: 100,
      agentConnected,
      lastHeartbeatAt,
    },
  });
  const tasks = [randomUUID(), randomUUID()];
  await prisma.task.createMany({
    data: tasks.map((id) => ({
      id,
      clusterId: cluster.id,
      taskDefinitionId: td.id,
      containerInstanceId: instanceId,
      lastStatus: 'RUNNING',
      cpu: 100,
      memory: 50,
      holdsReservation: true,
      serviceId,
    })),
  });
  return { instanceId, tasks, clusterId: cluster.id };
}

function reconciler(calls: string[] = []) {
  return new InstanceReconciler(
    new InstancesRepository(prisma),
    {
      placeInCluster: async (id) => void calls.push(`place:${id}`),
      serviceChanged: async (id) => void calls.push(`service:${id}`),
    },
    createLogger('test', 'silent'),
    SETTINGS,
  );
}

it('marks a silent agent disconnected, and after the grace period stops its tasks with InstanceLost', async () => {
  const silent = await seed(ago(DISCONNECTED), true);
  const calls: string[] = [];
  await reconciler(calls).sweep();
  let instance = await prisma.containerInstance.findUniqueOrThrow({ where: { id: silent.instanceId } });
  expect(instance.agentConnected).toBe(false);
  expect(
    await prisma.task.count({ where: { containerInstanceId: silent.instanceId, lastStatus: 'RUNNING' } }),
  ).toBe(2);

  await prisma.containerInstance.update({
    where: { id: silent.instanceId },
    data: { lastHeartbeatAt: ago(LOST) },
  });
  await reconciler(calls).sweep();
  const tasks = await prisma.task.findMany({ where: { id: { in: silent.tasks } } });
  for (const t of tasks) {
    expect(t).toMatchObject({
      lastStatus: 'STOPPED',
      desiredStatus: 'STOPPED',
      stopCode: 'InstanceLost',
      holdsReservation: false,
    });
    expect(t.stoppedReason).toMatch(/^Container instance lost: its agent has been silent for 1[23] s$/);
  }
  instance = await prisma.containerInstance.findUniqueOrThrow({ where: { id: silent.instanceId } });
  expect([instance.reservedCpu, instance.reservedMemory]).toEqual([0, 0]);
  expect(calls).toEqual([`place:${silent.clusterId}`]);
});

it('leaves alone an agent that heartbeats, and one that came back', async () => {
  const alive = await seed(ago(1000), true);
  const back = await seed(ago(60_000), true);
  // The agent re-registered: connected, with a fresh heartbeat.
  await prisma.containerInstance.update({
    where: { id: back.instanceId },
    data: { agentConnected: true, lastHeartbeatAt: ago(100) },
  });
  await reconciler().sweep();
  for (const s of [alive, back]) {
    expect(
      await prisma.task.count({ where: { containerInstanceId: s.instanceId, lastStatus: 'RUNNING' } }),
    ).toBe(2);
    expect(
      (await prisma.containerInstance.findUniqueOrThrow({ where: { id: s.instanceId } })).agentConnected,
    ).toBe(true);
  }
});

it('is safe with two controllers sweeping at once', async () => {
  const lost = await seed(ago(LOST), false);
  await Promise.all([reconciler().sweep(), reconciler().sweep(), reconciler().sweep()]);
  const instance = await prisma.containerInstance.findUniqueOrThrow({ where: { id: lost.instanceId } });
  expect([instance.reservedCpu, instance.reservedMemory]).toEqual([0, 0]);
  expect(await prisma.task.count({ where: { id: { in: lost.tasks }, stopCode: 'InstanceLost' } })).toBe(2);
});

async function service(clusterName: string, disconnectedTaskBehavior = 'REPLACE') {
  const cluster = await prisma.cluster.upsert({
    where: { name: clusterName },
    create: { name: clusterName },
    update: {},
  });
  const td = await prisma.taskDefinition.findFirstOrThrow({ where: { family: 'f' } });
  return prisma.service.create({
    data: {
      clusterId: cluster.id,
      name: `web-${disconnectedTaskBehavior.toLowerCase()}`,
      taskDefinitionId: td.id,
      desiredCount: 2,
      minimumHealthyPercent: 100,
      maximumPercent: 200,
      disconnectedTaskBehavior,
    },
  });
}

const running = (instanceId: string) =>
  prisma.task.count({ where: { containerInstanceId: instanceId, lastStatus: 'RUNNING' } });

it('declares no instance lost when most of a cluster went silent at once, and tells its services', async () => {
  const clusterName = randomUUID();
  await seed(ago(100), true, { clusterName });
  const web = await service(clusterName);
  const silent = [
    await seed(ago(LOST), true, { clusterName, serviceId: web.id }),
    await seed(ago(LOST + 200), true, { clusterName }),
    await seed(ago(LOST + 400), true, { clusterName }),
  ];
  const calls: string[] = [];
  for (let sweep = 0; sweep < 3; sweep++) await reconciler(calls).sweep();

  for (const s of silent) {
    expect(await running(s.instanceId)).toBe(2);
    const instance = await prisma.containerInstance.findUniqueOrThrow({ where: { id: s.instanceId } });
    expect(instance.agentConnected).toBe(false);
  }
  expect(calls).toEqual([]);
  const events = await prisma.serviceEvent.findMany({ where: { serviceId: web.id } });
  expect(events.map((e) => e.message)).toEqual([
    '(service web-replace) kept its tasks on 3 silent container instance(s): 3 of 4 instances of the cluster went silent at once, more likely a control-plane outage than failed hosts.',
  ]);
});

it('still declares a single silent instance of a healthy cluster lost, and its service replaces its tasks', async () => {
  const clusterName = randomUUID();
  const web = await service(clusterName);
  await seed(ago(100), true, { clusterName });
  await seed(ago(100), true, { clusterName });
  const silent = await seed(ago(DISCONNECTED), true, { clusterName, serviceId: web.id });
  const calls: string[] = [];
  await reconciler(calls).sweep();
  expect(await running(silent.instanceId)).toBe(2);

  await prisma.containerInstance.update({
    where: { id: silent.instanceId },
    data: { lastHeartbeatAt: ago(LOST) },
  });
  await reconciler(calls).sweep();
  expect(await running(silent.instanceId)).toBe(0);
  expect(calls).toEqual([`service:${web.id}`, `place:${silent.clusterId}`]);
});

it('keeps the tasks of a service that WAITs for a lost instance, and stops the others', async () => {
  const clusterName = randomUUID();
  const waiting = await service(clusterName, 'WAIT');
  const keptTasks = await seed(ago(LOST), false, { clusterName, serviceId: waiting.id });
  const replaced = await seed(ago(LOST), false, { clusterName });
  await reconciler().sweep();
  expect(await running(keptTasks.instanceId)).toBe(2);
  expect(await running(replaced.instanceId)).toBe(0);
});

it("loses a sweep's instances in one go: each gives back exactly its reservations, one hint per service and per cluster", async () => {
  const clusterName = randomUUID();
  const web = await service(clusterName);
  for (let i = 0; i < 4; i++) await seed(ago(100), true, { clusterName });
  const lost = [
    await seed(ago(LOST), true, { clusterName, serviceId: web.id }),
    await seed(ago(LOST + 300), true, { clusterName, serviceId: web.id }),
    await seed(ago(LOST + 600), false, { clusterName }),
  ];
  const calls: string[] = [];
  await reconciler(calls).sweep();

  for (const l of lost) {
    const instance = await prisma.containerInstance.findUniqueOrThrow({ where: { id: l.instanceId } });
    expect(instance).toMatchObject({ agentConnected: false, reservedCpu: 0, reservedMemory: 0 });
    const tasks = await prisma.task.findMany({ where: { id: { in: l.tasks } } });
    for (const t of tasks) {
      expect(t).toMatchObject({ lastStatus: 'STOPPED', stopCode: 'InstanceLost', holdsReservation: false });
      expect(t.stoppedReason).toMatch(/^Container instance lost: its agent has been silent for 1[2-4] s$/);
    }
  }
  expect(calls).toEqual([`service:${web.id}`, `place:${lost[0]!.clusterId}`]);
});
