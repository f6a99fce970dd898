import { createTestDatabase, type TestDatabase } from '@berth/testing';
import { createPrisma, sqlOf, type PrismaClient, type TaskModel } from '../src/client.js';
import { statement, TransactionStartTimeout, TransactionTimeout } from '../src/sql.js';
import { createTasks, TASK_COLUMNS } from '../src/tasks.js';
import { RevisionCache } from '../src/task-definitions.js';

/**
 * The plain SQL of the hot paths reads and writes what Prisma does: the same rows and times, all
 * of a transaction or none, and an error the gateway answers 503 when every connection is busy or
 * a transaction outlives its time limit.
 */

let db: TestDatabase;
let prisma: PrismaClient;
let clusterId: string;
let taskDefinition: Awaited<ReturnType<PrismaClient['taskDefinition']['create']>>;

beforeAll(async () => {
  db = await createTestDatabase();
  prisma = createPrisma(db.url, { poolSize: 2 });
  clusterId = (await prisma.cluster.create({ data: { name: 'sql' } })).id;
  taskDefinition = await prisma.taskDefinition.create({
    data: {
      family: 'app',
      revision: 1,
      cpu: 128,
      memory: 256,
      definition: {
        family: 'app',
        containerDefinitions: [
          { name: 'main', image: 'busybox' },
          { name: 'side', image: 'busybox', essential: false },
        ],
      },
    },
  });
}, 30_000);

afterAll(async () => {
  await prisma?.$disconnect();
  await db?.drop();
});

const TASK_BY_ID = statement('test_task_by_id', `SELECT ${TASK_COLUMNS} FROM task t WHERE t.id = $1::uuid`);

it('writes tasks Prisma reads back the same, and reads them as Prisma does', async () => {
  const before = Date.now();
  const [created] = await sqlOf(prisma).transaction((tx) =>
    createTasks(tx, {
      clusterId,
      taskDefinition,
      count: 1,
      startedBy: 'me',
      tags: [{ key: 'k', value: 'v' }],
    }),
  );
  const viaPrisma = await prisma.task.findUniqueOrThrow({
    where: { id: created!.id },
    include: { containers: true },
  });
  const { containers, ...task } = viaPrisma;
  expect(created).toEqual({ ...task, containers: expect.any(Array) });
  expect(new Set(created!.containers)).toEqual(new Set(containers));
  expect(containers.map((c) => [c.name, c.essential]).sort()).toEqual([
    ['main', true],
    ['side', false],
  ]);
  // The creation time is the writer's clock, as Prisma's was.
  expect(Math.abs(viaPrisma.createdAt.getTime() - before)).toBeLessThan(5_000);
  const [read] = await sqlOf(prisma).rows<TaskModel>(TASK_BY_ID, [created!.id]);
  expect(read).toEqual(task);
});

it('writes all of a transaction or none of it', async () => {
  const count = await prisma.task.count();
  await expect(
    sqlOf(prisma).transaction(async (tx) => {
      await createTasks(tx, { clusterId, taskDefinition, count: 2 });
      throw new Error('changed my mind');
    }),
  ).rejects.toThrow('changed my mind');
  expect(await prisma.task.count()).toBe(count);
});

it('gives up on a transaction when no connection frees up in time, and the pool lives on', async () => {
  const sql = sqlOf(prisma);
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  // Both connections of the pool held by transactions that wait.
  const holders = [sql.transaction(() => held), sql.transaction(() => held)];
  await expect(sql.transaction(async () => 'never')).rejects.toBeInstanceOf(TransactionStartTimeout);
  release();
  await Promise.all(holders);
  await expect(sql.transaction(async () => 'later')).resolves.toBe('later');
}, 15_000);

const SLEEP = statement('test_sleep', 'SELECT pg_sleep($1::float8)');
const ONE = statement('test_one', 'SELECT 1 AS one');
const sleeping = async () =>
  (
    await prisma.$queryRaw<{ n: number }[]>`
    SELECT count(*)::int AS n FROM pg_stat_activity 
     WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active'
       AND query LIKE '%pg_sleep%'`
  )[0]!.n;

it('rolls back a transaction whose statement runs past its limit, cancels the statement and keeps the pool', async () => {
  const sql = sqlOf(prisma);
  const count = await prisma.task.count();
  const started = Date.now();
  await expect(
    sql.transaction(
      async (tx) => {
        await createTasks(tx, { clusterId, taskDefinition, count: 1 });
        await tx.rows(SLEEP, [30]);
      },
      { timeoutMs: 300 },
    ),
  ).rejects.toBeInstanceOf(TransactionTimeout);
  // The sleep was cancelled on the server, not left holding the connection and its locks.
  expect(Date.now() - started).toBeLessThan(10_000);
  expect(await sleeping()).toBe(0);
  expect(await prisma.task.count()).toBe(count);
  // Both connections of the pool work, in transactions and out.
  await expect(
    Promise.all([sql.transaction((tx) => tx.rows(ONE, [])), sql.transaction((tx) => tx.rows(ONE, []))]),
  ).resolves.toEqual([[{ one: 1 }], [{ one: 1 }]]);
  await expect(sql.rows(ONE, [])).resolves.toEqual([{ one: 1 }]);
}, 15_000);

it('rolls back a transaction whose caller is stuck past the limit; what it runs afterwards fails', async () => {
  const sql = sqlOf(prisma);
  const count = await prisma.task.count();
  let resume!: () => void;
  const stuck = new Promise<void>((r) => (resume = r));
  let late: Promise<unknown> | undefined;
  await expect(
    sql.transaction(
      async (tx) => {
        await createTasks(tx, { clusterId, taskDefinition, count: 1 });
        await stuck;
        late = tx.rows(ONE, []);
        await late;
      },
      { timeoutMs: 300 },
    ),
  ).rejects.toBeInstanceOf(TransactionTimeout);
  expect(await prisma.task.count()).toBe(count);
  resume();
  await new Promise((r) => setImmediate(r));
  await expect(late).rejects.toBeInstanceOf(TransactionTimeout);
  await expect(
    Promise.all([sql.transaction((tx) => tx.rows(ONE, [])), sql.transaction((tx) => tx.rows(ONE, []))]),
  ).resolves.toEqual([[{ one: 1 }], [{ one: 1 }]]);
}, 15_000);

test('the revision cache reads a revision once, as Prisma reads it, and leaves out ids that name none', async () => {
  const cache = new RevisionCache();
  let reads = 0;
  const counting = {
    rows: <R>(...args: Parameters<ReturnType<typeof sqlOf>['rows']>) => {
      reads++;
      return sqlOf(prisma).rows<R>(...args);
    },
  };
  const unknown = '00000000-0000-4000-8000-000000000000';
  const first = await cache.get(counting, [taskDefinition.id, unknown, taskDefinition.id]);
  expect(first.get(taskDefinition.id)).toEqual(
    await prisma.taskDefinition.findUniqueOrThrow({ where: { id: taskDefinition.id } }),
  );
  expect(first.has(unknown)).toBe(false);
  const again = await cache.get(counting, [taskDefinition.id]);
  expect(again.get(taskDefinition.id)).toBe(first.get(taskDefinition.id));
  expect(reads).toBe(1);
});
