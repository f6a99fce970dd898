import { randomUUID } from 'node:crypto';
import { createLogger } from '@berth/config';
import { createPrisma, type PrismaClient } from '@berth/db';
import { createTestDatabase, type TestDatabase } from '@berth/testing';
import { PlacementRepository } from '../src/placement.repository.js';
import { PlacementService } from '../src/placement.service.js';

/** Placement against a real Postgres: reservations, waiting tasks, and several schedulers racing. */

let db: TestDatabase;
let prisma: PrismaClient;
const logger = createLogger('scheduler-test', 'silent');

beforeAll(async () => {
  db = await createTestDatabase();
  prisma = createPrisma(db.url, { poolSize: 20 });
});

afterAll(async () => {
  await prisma?.$disconnect();
  await db?.drop();
});

async function seed(
  name: string,
  hosts: number,
  tasks: number,
  task: { cpu: number; memory: number; hostPort?: number },
) {
  const cluster = await prisma.cluster.create({ data: { name } });
  const td = await prisma.taskDefinition.create({
    data: {
      family: `${name}-td`,
      revision: 1,
      cpu: task.cpu,
      memory: task.memory,
      definition: {
        family: `${name}-td`,
        containerDefinitions: [
          {
            name: 'web',
            image: 'x',
            cpu: task.cpu,
            memory: task.memory,
            portMappings: task.hostPort ? [{ containerPort: 80, hostPort: task.hostPort }] : [],
          },
        ],
      },
    },
  });
  await prisma.containerInstance.createMany({
    data: Array.from({ length: hosts }, (_, i) => ({
      id: randomUUID(),
      clusterId: cluster.id,
      hostAddress: `10.0.0.${i}`,
      registeredCpu: 1024,
      registeredMemory: 1024,
      agentConnected: true,
    })),
  });
  await prisma.task.createMany({
    data: Array.from({ length: tasks }, () => ({
      clusterId: cluster.id,
      taskDefinitionId: td.id,
      cpu: task.cpu,
      memory: task.memory,
    })),
  });
  return cluster.id;
}

function service(notified: Map<string, string[]> = new Map()) {
  return new PlacementService(
    new PlacementRepository(prisma),
    async (byInstance) => {
      for (const [id, tasks] of byInstance) notified.set(id, [...(notified.get(id) ?? []), ...tasks]);
    },
    logger,
    1000,
  );
}

async function checkDatabase(clusterId: string) {
  const overcommitted = await prisma.$queryRaw<{ n: bigint }[]>`
    SELECT count(*) AS n FROM container_instance i
     WHERE i.cluster_id = ${clusterId}::uuid AND (
       i.reserved_cpu <> (SELECT coalesce(sum(cpu), 0) FROM task t WHERE t.container_instance_id = i.id AND t.holds_reservation)
       OR i.reserved_memory <> (SELECT coalesce(sum(memory), 0) FROM task t WHERE t.container_instance_id = i.id AND t.holds_reservation)
       OR i.reserved_cpu > i.registered_cpu OR i.reserved_memory > i.registered_memory)`;
  expect(Number(overcommitted[0]!.n)).toBe(0);
}

it('places waiting tasks, reserving CPU, memory and static ports, and tells each agent', async () => {
  const clusterId = await seed('basic', 2, 3, { cpu: 512, memory: 128, hostPort: 8080 });
  const notified = new Map<string, string[]>();
  const result = await service(notified).placeCluster(clusterId);
  // Port 8080 fits once per host: two placed, one waits with the reason.
  expect(result.placed).toBe(2);
  expect(result.unplaced).toBe(1);
  expect([...notified.values()].map((ids) => ids.length)).toEqual([1, 1]);
  const waiting = await prisma.task.findFirstOrThrow({ where: { clusterId, lastStatus: 'PROVISIONING' } });
  expect(waiting.provisioningReason).toBe(
    'No container instance met all of its requirements: 2 had a port conflict.',
  );
  const ports = await prisma.portReservation.findMany({ where: { containerInstance: { clusterId } } });
  expect(ports.map((p) => p.hostPort)).toEqual([8080, 8080]);
  await checkDatabase(clusterId);
});

it('places nothing on a disconnected or draining instance', async () => {
  const clusterId = await seed('offline', 2, 1, { cpu: 1, memory: 1 });
  await prisma.containerInstance.updateMany({ where: { clusterId }, data: { agentConnected: false } });
  expect((await service().placeCluster(clusterId)).placed).toBe(0);
  const t = await prisma.task.findFirstOrThrow({ where: { clusterId } });
  expect(t.provisioningReason).toBe(
    'No container instance met all of its requirements: 2 had a disconnected agent.',
  );
});

it('never overcommits when three schedulers race over one cluster', async () => {
  // 20 hosts × 4 slots = 80 slots for 100 tasks.
  const clusterId = await seed('race', 20, 100, { cpu: 256, memory: 256 });
  const results = await Promise.all([
    service().placeCluster(clusterId),
    service().placeCluster(clusterId),
    service().placeCluster(clusterId),
  ]);
  const placed = results.reduce((n, r) => n + r.placed, 0);
  expect(placed).toBe(80);
  expect(await prisma.task.count({ where: { clusterId, lastStatus: 'PENDING' } })).toBe(80);
  expect(await prisma.task.count({ where: { clusterId, lastStatus: 'PROVISIONING' } })).toBe(20);
  await checkDatabase(clusterId);
});

it('gives a static host port to one task per host, whatever the interleaving', async () => {
  const clusterId = await seed('ports', 10, 30, { cpu: 1, memory: 1, hostPort: 9000 });
  await Promise.all([
    service().placeCluster(clusterId),
    service().placeCluster(clusterId),
    service().placeCluster(clusterId),
  ]);
  const dup = await prisma.$queryRaw<{ n: bigint }[]>`
    SELECT count(*) AS n FROM (SELECT container_instance_id FROM task WHERE cluster_id = ${clusterId}::uuid AND holds_reservation
      GROUP BY container_instance_id HAVING count(*) > 1) d`;
  expect(Number(dup[0]!.n)).toBe(0);
  expect(await prisma.task.count({ where: { clusterId, lastStatus: 'PENDING' } })).toBe(10);
  await checkDatabase(clusterId);
});

it('three schedulers place 2,000 tasks on 200 instances: no overcommit, no duplicate port, none placed twice', async () => {
  // 200 hosts × 1024 CPU, tasks of 100 CPU and static port 7000 or dynamic: 10 fit per host by CPU,
  // but only one task per host can hold port 7000.
  const cluster = await prisma.cluster.create({ data: { name: 'scale' } });
  const mk = (family: string, hostPort?: number) =>
    prisma.taskDefinition.create({
      data: {
        family,
        revision: 1,
        cpu: 100,
        memory: 64,
        definition: {
          family,
          containerDefinitions: [
            {
              name: 'c',
              image: 'x',
              cpu: 100,
              memory: 64,
              portMappings: hostPort ? [{ containerPort: 80, hostPort }] : [],
            },
          ],
        },
      },
    });
  const [dynamic, fixed] = [await mk('scale-dyn'), await mk('scale-fixed', 7000)];
  await prisma.containerInstance.createMany({
    data: Array.from({ length: 200 }, (_, i) => ({
      id: randomUUID(),
      clusterId: cluster.id,
      hostAddress: `10.1.${Math.floor(i / 250)}.${i % 250}`,
      registeredCpu: 1024,
      registeredMemory: 4096,
      agentConnected: true,
      attributes: { zone: `z${i % 3}` },
    })),
  });
  const tasks = (td: { id: string }, n: number, strategy: unknown[]) =>
    Array.from({ length: n }, () => ({
      clusterId: cluster.id,
      taskDefinitionId: td.id,
      cpu: 100,
      memory: 64,
      placementStrategy: strategy as object[],
    }));
  // The port-holding tasks are older, so they are placed first: then the capacity exists for all
  // 2,000 (one fixed + nine dynamic per host), and every task must be placed.
  await prisma.task.createMany({ data: tasks(fixed, 200, [{ type: 'random' }]) });
  await prisma.task.createMany({
    data: tasks(dynamic, 1800, [
      { type: 'spread', field: 'attribute:zone' },
      { type: 'binpack', field: 'cpu' },
    ]),
  });
  const schedulers = [service(), service(), service()];
  await Promise.all(schedulers.map((s) => s.placeCluster(cluster.id)));
  // Whatever one scheduler's passes left (they give up after a few lost races), the next hint places.
  await Promise.all(schedulers.map((s) => s.placeCluster(cluster.id)));

  await checkDatabase(cluster.id);
  expect(await prisma.task.count({ where: { clusterId: cluster.id, lastStatus: 'PROVISIONING' } })).toBe(0);
  const dupPorts = await prisma.$queryRaw<{ n: bigint }[]>`
    SELECT count(*) AS n FROM (SELECT container_instance_id FROM task
      WHERE cluster_id = ${cluster.id}::uuid AND task_definition_id = ${fixed.id}::uuid AND holds_reservation
      GROUP BY container_instance_id HAVING count(*) > 1) d`;
  expect(Number(dupPorts[0]!.n)).toBe(0);
  expect(
    await prisma.portReservation.count({ where: { containerInstance: { clusterId: cluster.id } } }),
  ).toBe(200);
  const perInstance = await prisma.task.groupBy({
    by: ['containerInstanceId'],
    where: { clusterId: cluster.id },
    _count: true,
  });
  expect(perInstance.every((r) => r._count <= 10)).toBe(true);
}, 60_000);

it('does not place a task that was stopped before placement', async () => {
  const clusterId = await seed('stopped', 1, 1, { cpu: 1, memory: 1 });
  await prisma.task.updateMany({
    where: { clusterId },
    data: { desiredStatus: 'STOPPED', lastStatus: 'STOPPED' },
  });
  expect((await service().placeCluster(clusterId)).placed).toBe(0);
});

it('a catastrophic regular expression costs linear time, and the other tasks are placed', async () => {
  const clusterId = await seed('regex', 1000, 3, { cpu: 1, memory: 1 });
  const waiting = await prisma.task.findMany({ where: { clusterId }, select: { id: true } });
  // As RunTask stores them: one task whose pattern backtracks for minutes in JavaScript's RegExp
  // on any UUID, and one stored before RE2 was the engine, with a lookahead RE2 refuses.
  await prisma.task.update({
    where: { id: waiting[0]!.id },
    data: { placementConstraints: [{ type: 'memberOf', expression: 'instanceId =~ ([0-9a-f-]+)+Z' }] },
  });
  await prisma.task.update({
    where: { id: waiting[1]!.id },
    data: { placementConstraints: [{ type: 'memberOf', expression: 'instanceId =~ (?=a).*' }] },
  });

  const started = Date.now();
  const result = await service().placeCluster(clusterId);
  expect(Date.now() - started).toBeLessThan(10_000);
  expect(result).toMatchObject({ placed: 1, unplaced: 2 });

  const reasons = await prisma.task.findMany({
    where: { id: { in: [waiting[0]!.id, waiting[1]!.id] } },
    select: { id: true, lastStatus: true, provisioningReason: true },
  });
  const byId = new Map(reasons.map((r) => [r.id, r]));
  expect(byId.get(waiting[0]!.id)).toMatchObject({
    lastStatus: 'PROVISIONING',
    provisioningReason:
      'No container instance met all of its requirements: 1000 failed memberOf(instanceId =~ ([0-9a-f-]+)+Z).',
  });
  expect(byId.get(waiting[1]!.id)!.lastStatus).toBe('PROVISIONING');
  expect(byId.get(waiting[1]!.id)!.provisioningReason).toMatch(
    /^Invalid placement: placementConstraints\[0\]\.expression: '\(\?=a\)\.\*' is not a valid regular expression/,
  );
  expect(await prisma.task.count({ where: { clusterId, lastStatus: 'PENDING' } })).toBe(1);
}, 60_000);

it('a backlog larger than a batch is split into partitions, which place one cluster in parallel without overcommit', async () => {
  // 40 hosts × 4 slots = 160 slots for 150 tasks, in batches of 20.
  const clusterId = await seed('partitions', 40, 150, { cpu: 256, memory: 256 });
  const splits: [string, number][] = [];
  const partitioned = () =>
    new PlacementService(new PlacementRepository(prisma), async () => undefined, logger, 20, undefined, {
      partitions: 4,
      split: async (id, n) => void splits.push([id, n]),
    });
  expect(await partitioned().onClusterHint(clusterId)).toBe('split');
  expect(splits).toEqual([[clusterId, 4]]);
  // Each partition job on its own scheduler, at once.
  const results = await Promise.all(
    [0, 1, 2, 3].map((index) => partitioned().placeCluster(clusterId, { index, count: 4 })),
  );
  // Every partition had a share, and together they placed every task, each once.
  for (const r of results) expect(r.placed).toBeGreaterThan(0);
  expect(results.reduce((n, r) => n + r.placed, 0)).toBe(150);
  expect(await prisma.task.count({ where: { clusterId, lastStatus: 'PENDING' } })).toBe(150);
  await checkDatabase(clusterId);
});

it('a backlog of one batch or less is placed at once, without a split', async () => {
  const clusterId = await seed('small-backlog', 2, 3, { cpu: 1, memory: 1 });
  const splits: string[] = [];
  const result = await new PlacementService(
    new PlacementRepository(prisma),
    async () => undefined,
    logger,
    20,
    undefined,
    { partitions: 4, split: async (id) => void splits.push(id) },
  ).onClusterHint(clusterId);
  expect(result).toMatchObject({ placed: 3 });
  expect(splits).toEqual([]);
});
