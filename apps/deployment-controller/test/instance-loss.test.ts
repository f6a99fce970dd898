import { randomUUID } from 'node:crypto';
import { createLogger } from '@berth/config';
import { createPrisma, type PrismaClient } from '@berth/db';
import { createTestDatabase, type TestDatabase } from '@berth/testing';
import { InstancesRepository } from '../src/instances.repository.js';
import { InstanceReconciler } from '../src/instance-reconciler.js';

/** Instance liveness against a real Postgres, with the clock passed in. */

let db: TestDatabase;
let prisma: PrismaClient;
const NOW = new Date('2026-11-23T12:00:00Z');
const ago = (ms: number) => new Date(NOW.getTime() - ms);

beforeAll(async () => {
  db = await createTestDatabase();
  prisma = createPrisma(db.url);
});

afterAll(async () => {
  await prisma?.$disconnect();
  await db?.drop();
});

async function seed(lastHeartbeatAt: Date, agentConnected: boolean) {
  const cluster = await prisma.cluster.upsert({ where: { name: 'c' }, create: { name: 'c' }, update: {} });
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
    { heartbeatTimeoutMs: 5000, lostAfterMs: 6000 },
    () => NOW,
  );
}

it('marks a silent agent disconnected, and after the grace period stops its tasks with InstanceLost', async () => {
  const silent = await seed(ago(5500), true);
  const calls: string[] = [];
  await reconciler(calls).sweep();
  let instance = await prisma.containerInstance.findUniqueOrThrow({ where: { id: silent.instanceId } });
  expect(instance.agentConnected).toBe(false);
  expect(
    await prisma.task.count({ where: { containerInstanceId: silent.instanceId, lastStatus: 'RUNNING' } }),
  ).toBe(2);

  await prisma.containerInstance.update({
    where: { id: silent.instanceId },
    data: { lastHeartbeatAt: ago(6500) },
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
    expect(t.stoppedReason).toMatch(/^Container instance lost: its agent has been silent for 7 s$/);
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
  const lost = await seed(ago(10_000), false);
  await Promise.all([reconciler().sweep(), reconciler().sweep(), reconciler().sweep()]);
  const instance = await prisma.containerInstance.findUniqueOrThrow({ where: { id: lost.instanceId } });
  expect([instance.reservedCpu, instance.reservedMemory]).toEqual([0, 0]);
  expect(await prisma.task.count({ where: { id: { in: lost.tasks }, stopCode: 'InstanceLost' } })).toBe(2);
});
