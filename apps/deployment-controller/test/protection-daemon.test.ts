import { randomUUID } from 'node:crypto';
import { createLogger } from '@berth/config';
import { createPrisma, type PrismaClient } from '@berth/db';
import { createTestDatabase, type TestDatabase } from '@berth/testing';
import { ServicesRepository } from '../src/services.repository.js';
import { ServiceReconciler } from '../src/service-reconciler.js';

/**
 * Task protection and DAEMON services through the real repository and Postgres: what the snapshot
 * reads (protected_until, the cluster's instances, their other tasks) and what applying writes
 * (targeted tasks, the daemon's desiredCount). Tasks are moved along by hand in place of the
 * scheduler and agents.
 */

let db: TestDatabase;
let prisma: PrismaClient;
let reconciler: ServiceReconciler;
let clusterId: string;
const logger = createLogger('controller-test', 'silent');

beforeAll(async () => {
  db = await createTestDatabase();
  prisma = createPrisma(db.url);
  reconciler = new ServiceReconciler(
    new ServicesRepository(prisma),
    { placeInCluster: async () => {}, tellAgent: async () => {} },
    logger,
  );
  clusterId = (await prisma.cluster.create({ data: { name: 'c' } })).id;
}, 30_000);

afterAll(async () => {
  await prisma?.$disconnect();
  await db?.drop();
});

async function seedService(name: string, over: { desiredCount?: number; schedulingStrategy?: string } = {}) {
  const td = await prisma.taskDefinition.create({
    data: {
      family: `${name}-td`,
      revision: 1,
      cpu: 128,
      memory: 64,
      definition: { family: `${name}-td`, containerDefinitions: [{ name: 'app', image: 'x', memory: 64 }] },
    },
  });
  const desiredCount = over.desiredCount ?? 0;
  const service = await prisma.service.create({
    data: {
      clusterId,
      name,
      taskDefinitionId: td.id,
      desiredCount,
      minimumHealthyPercent: over.schedulingStrategy === 'DAEMON' ? 0 : 100,
      maximumPercent: over.schedulingStrategy === 'DAEMON' ? 100 : 200,
      schedulingStrategy: over.schedulingStrategy ?? 'REPLICA',
    },
  });
  await prisma.deployment.create({
    data: { serviceId: service.id, status: 'PRIMARY', taskDefinitionId: td.id, desiredCount },
  });
  return { service, td };
}

const addInstance = (status = 'ACTIVE') =>
  prisma.containerInstance.create({
    data: {
      id: randomUUID(),
      clusterId,
      status,
      agentConnected: true,
      hostAddress: '127.0.0.1',
      registeredCpu: 1024,
      registeredMemory: 1024,
    },
  });

const liveTasks = (serviceId: string) =>
  prisma.task.findMany({ where: { serviceId, lastStatus: { not: 'STOPPED' } } });

/** Plays scheduler and agent: targeted tasks go on their instance, every wanted task runs, stopped ones are gone. */
async function converge() {
  await prisma.$executeRaw`UPDATE task SET container_instance_id = target_container_instance_id
     WHERE target_container_instance_id IS NOT NULL AND container_instance_id IS NULL AND last_status = 'PROVISIONING'`;
  await prisma.task.updateMany({
    where: { desiredStatus: 'RUNNING', lastStatus: { in: ['PROVISIONING', 'PENDING'] } },
    data: { lastStatus: 'RUNNING', startedAt: new Date() },
  });
  await prisma.task.updateMany({ where: { desiredStatus: 'STOPPED' }, data: { lastStatus: 'STOPPED' } });
}

const settle = async (serviceId: string) => {
  for (let i = 0; i < 6; i++) {
    await reconciler.reconcile(serviceId);
    await converge();
  }
};

it('scale 5 → 2 with 2 protected tasks keeps the protected ones', async () => {
  const { service } = await seedService('prot', { desiredCount: 5 });
  await settle(service.id);
  const five = await liveTasks(service.id);
  expect(five).toHaveLength(5);
  const protectedIds = five.slice(0, 2).map((t) => t.id);
  await prisma.task.updateMany({
    where: { id: { in: protectedIds } },
    data: { protectedUntil: new Date(Date.now() + 60 * 60_000) },
  });
  await prisma.service.update({ where: { id: service.id }, data: { desiredCount: 2 } });
  await prisma.deployment.updateMany({ where: { serviceId: service.id }, data: { desiredCount: 2 } });
  await settle(service.id);
  const kept = await liveTasks(service.id);
  expect(kept.map((t) => t.id).sort()).toEqual([...protectedIds].sort());
});

it('a DAEMON service gets one targeted task per instance and follows them', async () => {
  const instances = [await addInstance(), await addInstance(), await addInstance()];
  const { service, td } = await seedService('probe', { schedulingStrategy: 'DAEMON' });
  await reconciler.reconcile(service.id);
  const created = await liveTasks(service.id);
  expect(created.map((t) => t.targetContainerInstanceId).sort()).toEqual(instances.map((i) => i.id).sort());
  expect(created.every((t) => t.placementStrategy && (t.placementStrategy as unknown[]).length === 0)).toBe(
    true,
  );
  expect((await prisma.service.findUniqueOrThrow({ where: { id: service.id } })).desiredCount).toBe(3);
  await settle(service.id);

  const fourth = await addInstance();
  await settle(service.id);
  expect((await liveTasks(service.id)).map((t) => t.containerInstanceId).sort()).toEqual(
    [...instances, fourth].map((i) => i.id).sort(),
  );
  expect(
    (await prisma.deployment.findFirstOrThrow({ where: { serviceId: service.id, status: 'PRIMARY' } }))
      .desiredCount,
  ).toBe(4);

  // A standalone task on the drained instance keeps the daemon task there until it is gone.
  const drained = instances[0]!;
  const other = await prisma.task.create({
    data: {
      clusterId,
      taskDefinitionId: td.id,
      containerInstanceId: drained.id,
      lastStatus: 'RUNNING',
      cpu: 1,
      memory: 1,
    },
  });
  await prisma.containerInstance.update({ where: { id: drained.id }, data: { status: 'DRAINING' } });
  await settle(service.id);
  expect((await liveTasks(service.id)).map((t) => t.containerInstanceId)).toContain(drained.id);
  expect((await prisma.service.findUniqueOrThrow({ where: { id: service.id } })).desiredCount).toBe(3);
  await prisma.task.update({
    where: { id: other.id },
    data: { lastStatus: 'STOPPED', desiredStatus: 'STOPPED' },
  });
  await settle(service.id);
  const after = await liveTasks(service.id);
  expect(after).toHaveLength(3);
  expect(after.map((t) => t.containerInstanceId)).not.toContain(drained.id);
  const stopped = await prisma.task.findFirstOrThrow({
    where: { serviceId: service.id, containerInstanceId: drained.id },
  });
  expect(stopped.stoppedReason).toBe('Container instance is DRAINING');
});
