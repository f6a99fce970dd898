import { createLogger } from '@berth/config';
import { createPrisma, type PrismaClient } from '@berth/db';
import { createTestDatabase, type TestDatabase } from '@berth/testing';
import { ServicesRepository } from '../src/services.repository.js';
import { ServiceReconciler } from '../src/service-reconciler.js';

/**
 * Two controller replicas (separate connection pools) reconciling the same services at once,
 * against a real Postgres. Tasks are moved along by hand in place of the scheduler and agents.
 */

let db: TestDatabase;
let prismaA: PrismaClient;
let prismaB: PrismaClient;
let reconcilers: ServiceReconciler[];
const logger = createLogger('controller-test', 'silent');

beforeAll(async () => {
  db = await createTestDatabase();
  prismaA = createPrisma(db.url);
  prismaB = createPrisma(db.url);
  const edges = { placeInCluster: async () => {}, tellAgent: async () => {} };
  reconcilers = [prismaA, prismaB].map(
    (p) => new ServiceReconciler(new ServicesRepository(p), edges, logger),
  );
});

afterAll(async () => {
  await prismaA?.$disconnect();
  await prismaB?.$disconnect();
  await db?.drop();
});

async function seedService(name: string, desiredCount: number, maximumPercent = 200) {
  const cluster = await prismaA.cluster.upsert({ where: { name: 'c' }, create: { name: 'c' }, update: {} });
  const td = (revision: number) =>
    prismaA.taskDefinition.create({
      data: {
        family: `${name}-td`,
        revision,
        cpu: 1,
        memory: 1,
        definition: { family: `${name}-td`, containerDefinitions: [{ name: 'web', image: 'x', memory: 1 }] },
      },
    });
  const [v1, v2] = [await td(1), await td(2)];
  const service = await prismaA.service.create({
    data: {
      clusterId: cluster.id,
      name,
      taskDefinitionId: v1.id,
      desiredCount,
      minimumHealthyPercent: 100,
      maximumPercent,
    },
  });
  await prismaA.deployment.create({
    data: { serviceId: service.id, status: 'PRIMARY', taskDefinitionId: v1.id, desiredCount },
  });
  return { service, v2 };
}

/** Every reconciler, several times, all at once. */
const stampede = (serviceId: string, times = 5) =>
  Promise.all(Array.from({ length: times }, () => reconcilers.map((r) => r.reconcile(serviceId))).flat());

const liveTasks = (serviceId: string) =>
  prismaA.task.findMany({ where: { serviceId, lastStatus: { not: 'STOPPED' } } });

/** Plays scheduler and agent: every wanted task runs, every stopped one is gone. */
async function converge(serviceId: string) {
  await prismaA.task.updateMany({
    where: { serviceId, desiredStatus: 'RUNNING', lastStatus: { in: ['PROVISIONING', 'PENDING'] } },
    data: { lastStatus: 'RUNNING', startedAt: new Date() },
  });
  await prismaA.task.updateMany({
    where: { serviceId, desiredStatus: 'STOPPED' },
    data: { lastStatus: 'STOPPED' },
  });
}

it('starts desiredCount tasks once, however many replicas reconcile at once', async () => {
  const { service } = await seedService('once', 5);
  await stampede(service.id);
  expect(await liveTasks(service.id)).toHaveLength(5);
  const events = await prismaA.serviceEvent.findMany({ where: { serviceId: service.id } });
  expect(events.filter((e) => e.message.startsWith('(service once) has started 5 tasks'))).toHaveLength(1);
});

it('never exceeds maximumPercent during a rollout reconciled by two replicas', async () => {
  const { service, v2 } = await seedService('roll', 4, 150);
  await stampede(service.id);
  await converge(service.id);
  await prismaA.deployment.updateMany({
    where: { serviceId: service.id },
    data: { status: 'ACTIVE', rolloutState: 'COMPLETED' },
  });
  await prismaA.deployment.create({
    data: { serviceId: service.id, status: 'PRIMARY', taskDefinitionId: v2.id, desiredCount: 4 },
  });
  for (let round = 0; round < 12; round++) {
    await stampede(service.id, 3);
    expect((await liveTasks(service.id)).length).toBeLessThanOrEqual(6);
    await converge(service.id);
  }
  const live = await liveTasks(service.id);
  expect(live).toHaveLength(4);
  expect(new Set(live.map((t) => t.taskDefinitionId))).toEqual(new Set([v2.id]));
  const primary = await prismaA.deployment.findFirstOrThrow({
    where: { serviceId: service.id, status: 'PRIMARY' },
  });
  expect(primary.rolloutState).toBe('COMPLETED');
});
