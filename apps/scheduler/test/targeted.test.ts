import { randomUUID } from 'node:crypto';
import { createLogger } from '@berth/config';
import { createPrisma, type PrismaClient } from '@berth/db';
import { createTestDatabase, type TestDatabase } from '@berth/testing';
import { PlacementRepository } from '../src/placement.repository.js';
import { PlacementService } from '../src/placement.service.js';

/** Tasks targeted at one instance (DAEMON services, StartTask), placed against a real Postgres. */

let db: TestDatabase;
let prisma: PrismaClient;
const logger = createLogger('scheduler-test', 'silent');

beforeAll(async () => {
  db = await createTestDatabase();
  prisma = createPrisma(db.url);
}, 30_000);

afterAll(async () => {
  await prisma?.$disconnect();
  await db?.drop();
});

it('places each task on its target only, and says why one waits', async () => {
  const cluster = await prisma.cluster.create({ data: { name: 'targeted' } });
  const td = await prisma.taskDefinition.create({
    data: {
      family: 'daemon',
      revision: 1,
      cpu: 512,
      memory: 64,
      definition: {
        family: 'daemon',
        containerDefinitions: [{ name: 'app', image: 'x', cpu: 512, memory: 64 }],
      },
    },
  });
  const [a, b] = [randomUUID(), randomUUID()];
  await prisma.containerInstance.createMany({
    data: [a, b].map((id, i) => ({
      id,
      clusterId: cluster.id,
      hostAddress: `10.0.1.${i}`,
      registeredCpu: 1024,
      registeredMemory: 1024,
      agentConnected: true,
    })),
  });
  const gone = randomUUID();
  const targets = [a, a, a, b, gone];
  const ids = targets.map(() => randomUUID());
  await prisma.task.createMany({
    data: targets.map((target, i) => ({
      id: ids[i],
      clusterId: cluster.id,
      taskDefinitionId: td.id,
      cpu: 512,
      memory: 64,
      targetContainerInstanceId: target,
      createdAt: new Date(Date.now() + i),
    })),
  });
  const notified = new Map<string, string[]>();
  const result = await new PlacementService(
    new PlacementRepository(prisma),
    async (byInstance) => {
      for (const [id, tasks] of byInstance) notified.set(id, [...(notified.get(id) ?? []), ...tasks]);
    },
    logger,
    100,
  ).placeCluster(cluster.id);
  expect(result).toMatchObject({ placed: 3, unplaced: 2 });
  const rows = await prisma.task.findMany({
    where: { clusterId: cluster.id },
    orderBy: { createdAt: 'asc' },
  });
  expect(rows.map((t) => t.containerInstanceId)).toEqual([a, a, null, b, null]);
  expect(rows[2]!.provisioningReason).toBe(`The container instance it targets (${a}) had insufficient CPU.`);
  expect(rows[4]!.provisioningReason).toBe(
    `The container instance it targets (${gone}) is not registered in the cluster.`,
  );
  expect(notified.get(a)).toHaveLength(2);
  expect(notified.get(b)).toEqual([ids[3]]);
});
