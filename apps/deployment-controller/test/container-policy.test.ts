import { createLogger } from '@berth/config';
import { createPrisma, type PrismaClient } from '@berth/db';
import { createTestDatabase, type TestDatabase } from '@berth/testing';
import { ServicesRepository } from '../src/services.repository.js';
import { ServiceReconciler } from '../src/service-reconciler.js';

/**
 * The controller starts a service's task only if the cluster's container policy allows it now:
 * the policy may have changed since CreateService. Against a real Postgres; tasks are moved
 * along by hand in place of the scheduler and agents.
 */

let db: TestDatabase;
let prisma: PrismaClient;
let reconciler: ServiceReconciler;
const placed: string[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  prisma = createPrisma(db.url);
  reconciler = new ServiceReconciler(
    new ServicesRepository(prisma),
    { placeInCluster: async (clusterId) => void placed.push(clusterId), tellAgent: async () => {} },
    createLogger('controller-test', 'silent'),
  );
});

afterAll(async () => {
  await prisma?.$disconnect();
  await db?.drop();
});

const setLevel = (containerPolicyLevel: string) =>
  prisma.cluster.update({ where: { name: 'c' }, data: { containerPolicyLevel } });
const events = async (serviceId: string) =>
  (await prisma.serviceEvent.findMany({ where: { serviceId }, orderBy: { createdAt: 'asc' } })).map(
    (e) => e.message,
  );
const liveTasks = (serviceId: string) =>
  prisma.task.findMany({ where: { serviceId, lastStatus: { not: 'STOPPED' } } });

it('starts nothing the policy refuses, says so once, and starts the tasks once the policy allows them', async () => {
  const cluster = await prisma.cluster.create({ data: { name: 'c', containerPolicyLevel: 'privileged' } });
  const td = await prisma.taskDefinition.create({
    data: {
      family: 'root',
      revision: 1,
      cpu: 1,
      memory: 1,
      definition: {
        family: 'root',
        containerDefinitions: [{ name: 'web', image: 'x', memory: 1, privileged: true }],
      },
    },
  });
  const service = await prisma.service.create({
    data: {
      clusterId: cluster.id,
      name: 'root',
      taskDefinitionId: td.id,
      desiredCount: 2,
      minimumHealthyPercent: 100,
      maximumPercent: 200,
    },
  });
  await prisma.deployment.create({
    data: { serviceId: service.id, status: 'PRIMARY', taskDefinitionId: td.id, desiredCount: 2 },
  });
  // Created while the cluster was privileged; an administrator went back to baseline since.
  await setLevel('baseline');

  for (let i = 0; i < 3; i++) await reconciler.reconcile(service.id);
  expect(await liveTasks(service.id)).toEqual([]);
  expect(placed).toEqual([]);
  expect(await events(service.id)).toEqual([
    '(service root) was unable to start a task: container policy baseline of cluster c refuses root:1: containerDefinitions[0].privileged: privileged containers are refused: they own their host.',
  ]);
  const deployment = await prisma.deployment.findFirstOrThrow({ where: { serviceId: service.id } });
  expect(deployment.rolloutState).toBe('IN_PROGRESS');
  expect(await prisma.task.count({ where: { serviceId: service.id, failed: true } })).toBe(0);

  await setLevel('privileged');
  await reconciler.reconcile(service.id);
  const started = await liveTasks(service.id);
  expect(started).toHaveLength(2);
  expect((await events(service.id)).at(-1)).toMatch(/^\(service root\) has started 2 tasks/);

  // Running tasks carry on under a stricter policy; only their replacement is refused.
  await prisma.task.updateMany({
    where: { serviceId: service.id },
    data: { lastStatus: 'RUNNING', startedAt: new Date() },
  });
  await setLevel('baseline');
  await reconciler.reconcile(service.id);
  expect(await liveTasks(service.id)).toHaveLength(2);
  await prisma.task.update({
    where: { id: started[0]!.id },
    data: { lastStatus: 'STOPPED', desiredStatus: 'STOPPED' },
  });
  await reconciler.reconcile(service.id);
  await reconciler.reconcile(service.id);
  expect(await liveTasks(service.id)).toHaveLength(1);
  expect((await events(service.id)).filter((m) => m.includes('unable to start'))).toHaveLength(2);
});
