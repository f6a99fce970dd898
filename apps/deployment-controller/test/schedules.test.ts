import { createLogger } from '@berth/config';
import { createPrisma, type PrismaClient } from '@berth/db';
import { nextFireAt, parseScheduleExpression } from '@berth/domain';
import { createTestDatabase, type TestDatabase } from '@berth/testing';
import { SchedulesRepository } from '../src/schedules.repository.js';
import { ScheduleFirer } from '../src/schedule-firer.js';

/**
 * Schedules fire exactly once per firing with two controllers (separate connection pools, as two
 * processes) sweeping at the same moments, and across a controller dying mid-firing or
 * restarting. Against a real Postgres; `now` is passed in, so no test waits for a clock.
 */

let db: TestDatabase;
let prismaA: PrismaClient;
let prismaB: PrismaClient;
let firerA: ScheduleFirer;
let firerB: ScheduleFirer;
const hinted: string[] = [];
const logger = createLogger('controller-test', 'silent');
const firer = (p: PrismaClient) =>
  new ScheduleFirer(
    new SchedulesRepository(p),
    { placeInCluster: async (id) => void hinted.push(id) },
    logger,
  );

beforeAll(async () => {
  db = await createTestDatabase();
  prismaA = createPrisma(db.url);
  prismaB = createPrisma(db.url);
  [firerA, firerB] = [firer(prismaA), firer(prismaB)];
  const cluster = await prismaA.cluster.create({ data: { name: 'c' } });
  clusterId = cluster.id;
  await prismaA.taskDefinition.create({
    data: {
      family: 'job',
      revision: 1,
      cpu: 1,
      memory: 1,
      definition: { family: 'job', containerDefinitions: [{ name: 'main', image: 'x', memory: 1 }] },
    },
  });
});

afterAll(async () => {
  await prismaA?.$disconnect();
  await prismaB?.$disconnect();
  await db?.drop();
});

let clusterId: string;
const T0 = new Date('2026-11-28T01:00:00Z');
const minute = (k: number, ms = 0) => new Date(T0.getTime() + k * 60_000 + ms);

/** A schedule as the gateway writes it, starting at T0. */
async function createSchedule(
  name: string,
  expression: string,
  runTask: { taskDefinition: string; count?: number },
) {
  const clock = { expression: parseScheduleExpression(expression), timezone: 'UTC', startAt: T0 };
  return prismaA.schedule.create({
    data: {
      clusterId,
      name,
      scheduleExpression: expression,
      scheduleExpressionTimezone: 'UTC',
      flexibleTimeWindow: { mode: 'OFF' },
      state: 'ENABLED',
      runTask,
      startAt: T0,
      nextFireAt: nextFireAt(clock, T0),
    },
  });
}

/** One sweep's firings of one schedule (the earlier tests' schedules are there too). */
const sweepOf = async (f: ScheduleFirer, now: Date, scheduleId: string) =>
  (await f.sweep(now)).filter((firing) => firing.scheduleId === scheduleId);
const runs = (scheduleId: string) =>
  prismaA.scheduleRun.findMany({ where: { scheduleId }, orderBy: { scheduledAt: 'asc' } });
const tasksOf = (name: string) =>
  prismaA.task.findMany({ where: { startedBy: `schedule/${name}` }, orderBy: { createdAt: 'asc' } });

it('two controllers sweeping at the same moments run each firing once, with its count of tasks', async () => {
  const s = await createSchedule('two', 'rate(1 minute)', { taskDefinition: 'job', count: 2 });
  for (let k = 0; k < 5; k++) {
    const now = minute(k, 300);
    await Promise.all([firerA.sweep(now), firerB.sweep(now), firerA.sweep(now), firerB.sweep(now)]);
  }
  const fired = await runs(s.id);
  expect(fired.map((r) => [r.scheduledAt.toISOString(), r.status, r.taskIds.length])).toEqual(
    [0, 1, 2, 3, 4].map((k) => [minute(k).toISOString(), 'SUCCEEDED', 2]),
  );
  const tasks = await tasksOf('two');
  expect(tasks).toHaveLength(10);
  expect(new Set(fired.flatMap((r) => r.taskIds))).toEqual(new Set(tasks.map((t) => t.id)));
  expect(tasks.every((t) => t.lastStatus === 'PROVISIONING' && t.group === 'family:job')).toBe(true);
  expect(hinted).toContain(clusterId);
}, 30_000);

it('a controller that dies mid-firing leaves the firing to the other, which runs it once', async () => {
  const s = await createSchedule('crash', 'rate(1 minute)', { taskDefinition: 'job' });
  // Controller A locks the schedule for its firing, then dies before committing (its transaction
  // rolls back, as when its connection drops).
  let die!: () => void;
  const dying = new Promise<void>((resolve) => (die = resolve));
  let locked!: () => void;
  const lockHeld = new Promise<void>((resolve) => (locked = resolve));
  const crashed = prismaA
    .$transaction(async (tx) => {
      await tx.$queryRaw`SELECT id FROM schedule WHERE id = ${s.id}::uuid FOR UPDATE`;
      locked();
      await dying;
      throw new Error('controller A died');
    })
    .catch((error: Error) => error.message);
  await lockHeld;
  // While A holds it, B passes it by instead of waiting or firing it too.
  expect(await sweepOf(firerB, minute(0, 500), s.id)).toEqual([]);
  die();
  expect(await crashed).toBe('controller A died');
  // B's next sweep, 20 s late but within the minute a firing may be late, runs it.
  await firerB.sweep(minute(0, 20_000));
  await firerA.sweep(minute(0, 21_000));
  expect((await runs(s.id)).map((r) => [r.status, r.taskIds.length])).toEqual([['SUCCEEDED', 1]]);
  expect(await tasksOf('crash')).toHaveLength(1);
});

it('a restarted controller does not run a firing again, and runs the next one on time', async () => {
  const s = await createSchedule('restart', 'rate(1 minute)', { taskDefinition: 'job' });
  await firerA.sweep(minute(0, 100));
  // A restarts: a new process (a new connection pool) whose first sweep is the same moment,
  // as when BullMQ hands the restarted worker the sweep job it was running.
  const prismaC = createPrisma(db.url);
  const restarted = firer(prismaC);
  expect(await sweepOf(restarted, minute(0, 100), s.id)).toEqual([]);
  expect(await sweepOf(restarted, minute(0, 59_000), s.id)).toEqual([]);
  await restarted.sweep(minute(1, 100));
  await prismaC.$disconnect();
  expect((await runs(s.id)).map((r) => r.scheduledAt.toISOString())).toEqual([
    minute(0).toISOString(),
    minute(1).toISOString(),
  ]);
  expect(await tasksOf('restart')).toHaveLength(2);
});

it('firings missed while every controller was down are recorded, not caught up on', async () => {
  const s = await createSchedule('down', 'rate(1 minute)', { taskDefinition: 'job' });
  await firerA.sweep(minute(0, 100));
  // Every controller down from just after minute 0 until minute 10 and 30 s: minute 10 is within
  // its minute and runs; minutes 1-9 are missed.
  const [firing] = await sweepOf(firerB, minute(10, 30_000), s.id);
  expect(firing).toMatchObject({ scheduledAt: minute(10), missed: 9 });
  const recorded = await runs(s.id);
  expect(recorded.map((r) => [r.scheduledAt.toISOString(), r.status])).toEqual([
    [minute(0).toISOString(), 'SUCCEEDED'],
    [minute(1).toISOString(), 'MISSED'],
    [minute(10).toISOString(), 'SUCCEEDED'],
  ]);
  expect(recorded[1]!.reason).toBe(
    `9 firings up to ${minute(9).toISOString()} not run: no controller ran them within 1 minute(s) of their time`,
  );
  expect(await tasksOf('down')).toHaveLength(2);
  const after = await prismaA.schedule.findUniqueOrThrow({ where: { id: s.id } });
  expect(after.nextFireAt).toEqual(minute(11));
});

it('a firing RunTask refuses is a FAILED run with the reason, and the schedule goes on', async () => {
  const s = await createSchedule('refused', 'rate(1 minute)', { taskDefinition: 'job' });
  await prismaA.taskDefinition.update({
    where: { family_revision: { family: 'job', revision: 1 } },
    data: { status: 'INACTIVE' },
  });
  try {
    await firerA.sweep(minute(0, 100));
  } finally {
    await prismaA.taskDefinition.update({
      where: { family_revision: { family: 'job', revision: 1 } },
      data: { status: 'ACTIVE' },
    });
  }
  await firerA.sweep(minute(1, 100));
  expect((await runs(s.id)).map((r) => [r.status, r.reason, r.taskIds.length])).toEqual([
    ['FAILED', 'task definition an ACTIVE revision of family job does not exist', 0],
    ['SUCCEEDED', null, 1],
  ]);
});

it('a DISABLED schedule does not fire', async () => {
  const s = await createSchedule('off', 'rate(1 minute)', { taskDefinition: 'job' });
  await prismaA.schedule.update({ where: { id: s.id }, data: { state: 'DISABLED' } });
  expect(await sweepOf(firerA, minute(0, 100), s.id)).toEqual([]);
  expect(await runs(s.id)).toEqual([]);
});
