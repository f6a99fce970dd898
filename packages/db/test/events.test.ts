import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { parseEventPosition, type EventPosition, type OutboxEvent } from '@berth/domain';
import { createTestDatabase, type TestDatabase } from '@berth/testing';
import { createPrisma, type PrismaClient } from '../src/client.js';
import {
  latestEventPosition,
  listenForEvents,
  pruneEvents,
  readEventsAfter,
  readRecentEvents,
} from '../src/events.js';

/**
 * The event outbox against a real Postgres: the triggers write one row per state change in the
 * writer's transaction, and a reader tailing it never skips an event whose transaction took its id
 * early and committed late.
 */

let db: TestDatabase;
let prisma: PrismaClient;
let clusterId: string;
let taskDefinitionId: string;

beforeAll(async () => {
  db = await createTestDatabase();
  prisma = createPrisma(db.url, { poolSize: 5 });
  clusterId = (await prisma.cluster.create({ data: { name: 'events' } })).id;
  taskDefinitionId = (
    await prisma.taskDefinition.create({
      data: {
        family: 'app',
        revision: 1,
        cpu: 1,
        memory: 1,
        definition: { family: 'app', containerDefinitions: [{ name: 'main', image: 'busybox' }] },
      },
    })
  ).id;
}, 30_000);

afterAll(async () => {
  await prisma?.$disconnect();
  await db?.drop();
});

const ZERO: EventPosition = { xid: 0n, id: 0n };

async function newTasks(n: number): Promise<string[]> {
  const ids = Array.from({ length: n }, () => randomUUID());
  await prisma.task.createMany({
    data: ids.map((id) => ({ id, clusterId, taskDefinitionId, cpu: 1, memory: 1 })),
  });
  return ids;
}

async function client(): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  return c;
}

/** Reads everything readable now after `from`, in pages, as a tailing client does. */
async function drain(
  from: EventPosition,
  clusterIds: string[] | null = [clusterId],
): Promise<{ events: OutboxEvent[]; at: EventPosition }> {
  const events: OutboxEvent[] = [];
  let at = from;
  for (;;) {
    const page = await readEventsAfter(prisma, { after: at, clusterIds: clusterIds ?? undefined, limit: 7 });
    if (page.length === 0) return { events, at };
    events.push(...page);
    at = parseEventPosition(page.at(-1)!.position, 'position');
  }
}

/**
 * The newest event position once every transaction that committed before this call is final:
 * a start from which a test sees only its own later writes.
 */
async function settledPosition(): Promise<EventPosition> {
  const [{ now }] = await prisma.$queryRaw<[{ now: string }]>`SELECT pg_current_xact_id()::text AS now`;
  for (let i = 0; i < 1000; i++) {
    const [{ past }] = await prisma.$queryRaw<[{ past: boolean }]>`
      SELECT pg_snapshot_xmin(pg_current_snapshot()) > ${now}::xid8 AS past`;
    if (past) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  return latestEventPosition(prisma);
}

/**
 * Drains until at least `count` events have come. An event is readable once every older
 * transaction on the server has ended, and other databases' tests share this server.
 */
async function drainAtLeast(
  from: EventPosition,
  count: number,
): Promise<{ events: OutboxEvent[]; at: EventPosition }> {
  const events: OutboxEvent[] = [];
  let at = from;
  const deadline = Date.now() + 20_000;
  while (events.length < count && Date.now() < deadline) {
    const read = await drain(at);
    events.push(...read.events);
    at = read.at;
    if (events.length < count) await new Promise((r) => setTimeout(r, 20));
  }
  return { events, at };
}

const taskIdOf = (e: OutboxEvent) => (e.payload as { id: string }).id;
const statusOf = (e: OutboxEvent) => (e.payload as { last_status: string }).last_status;

describe('the event outbox', () => {
  it('records a task change once per changed row, with its containers, and nothing for other columns', async () => {
    const start = await settledPosition();
    const [a, b] = await newTasks(2);
    await prisma.taskContainer.createMany({ data: [{ taskId: a!, name: 'main' }] });
    // One statement, two rows: two events. A column that is not a status: none.
    await prisma.task.updateMany({ where: { id: { in: [a!, b!] } }, data: { lastStatus: 'PENDING' } });
    await prisma.task.update({ where: { id: a! }, data: { provisioningReason: 'x' } });
    const { events } = await drainAtLeast(start, 4);
    // Rows of one statement come in id order, which is not the tasks' order.
    const step = (from: number) =>
      events
        .slice(from, from + 2)
        .map((e) => `${taskIdOf(e)} ${statusOf(e)}`)
        .sort();
    expect(events).toHaveLength(4);
    expect(step(0)).toEqual([`${a} PROVISIONING`, `${b} PROVISIONING`].sort());
    expect(step(2)).toEqual([`${a} PENDING`, `${b} PENDING`].sort());
    // The container row as it was, and what never changes, joined when read.
    expect(events.find((e) => taskIdOf(e) === a && statusOf(e) === 'PENDING')!.payload).toMatchObject({
      cluster_name: 'events',
      family: 'app',
      revision: 1,
      container_definitions: [{ name: 'main', image: 'busybox' }],
      containers: [{ name: 'main', last_status: 'PENDING' }],
    });
    expect(events.find((e) => taskIdOf(e) === b)!.payload).toMatchObject({ containers: [] });
  }, 30_000);

  it('holds back an event whose transaction committed after a later one began, and then delivers both in order', async () => {
    const [early, late] = await newTasks(2);
    const start = await settledPosition();
    const [a, b, c] = [await client(), await client(), await client()];
    try {
      // c takes its transaction id first, then a takes the lower event id, then c the higher one.
      await c.query('BEGIN');
      await c.query(`UPDATE "cluster" SET "tags" = '[]' WHERE "id" = $1`, [clusterId]);
      await a.query('BEGIN');
      await a.query(`UPDATE "task" SET "last_status" = 'PENDING' WHERE "id" = $1`, [early]);
      await b.query('BEGIN');
      await b.query(`UPDATE "task" SET "last_status" = 'PENDING' WHERE "id" = $1`, [late]);
      // b commits first with the higher id: while a runs, b's event is not readable yet.
      await b.query('COMMIT');
      let read = await drain(start);
      expect(read.events).toEqual([]);
      await c.query(`UPDATE "task" SET "desired_status" = 'STOPPED' WHERE "id" = $1`, [late]);
      await c.query('COMMIT');
      // c's transaction began before a's, so its event is final and comes first although its id
      // is higher than a's: a reader whose cursor were the id alone would now skip a's event.
      read = await drainAtLeast(start, 1);
      expect(read.events.map(taskIdOf)).toEqual([late]);
      await a.query('COMMIT');
      const rest = await drainAtLeast(read.at, 2);
      expect(rest.events.map((e) => [taskIdOf(e), statusOf(e)])).toEqual([
        [early, 'PENDING'],
        [late, 'PENDING'],
      ]);
    } finally {
      await Promise.all([a.end(), b.end(), c.end()]);
    }
  }, 30_000);

  it('never skips or repeats an event while many writers commit out of order', async () => {
    const tasks = await newTasks(40);
    const start = await settledPosition();
    const seen: OutboxEvent[] = [];
    let writing = true;
    const reader = (async () => {
      let at = start;
      while (writing) {
        const { events, at: next } = await drain(at);
        seen.push(...events);
        at = next;
        await new Promise((r) => setTimeout(r, 3));
      }
      return at;
    })();
    const writers = Array.from({ length: 8 }, async (_, w) => {
      const c = await client();
      try {
        for (let round = 0; round < 15; round++) {
          const mine = tasks.filter((_, i) => i % 8 === w);
          await c.query('BEGIN');
          await c.query(
            `UPDATE "task" SET "desired_status" = CASE "desired_status" WHEN 'RUNNING' THEN 'STOPPED' ELSE 'RUNNING' END WHERE "id" = ANY($1::uuid[])`,
            [mine],
          );
          // Hold the transaction open a random while, so that commits interleave with ids.
          await new Promise((r) => setTimeout(r, Math.random() * 8));
          await c.query(round % 5 === 4 ? 'ROLLBACK' : 'COMMIT');
        }
      } finally {
        await c.end();
      }
    });
    await Promise.all(writers);
    writing = false;
    // 8 writers × 12 committed rounds × 5 tasks each.
    const total = 8 * 12 * 5;
    seen.push(...(await drainAtLeast(await reader, total - seen.length)).events);
    const written = await prisma.$queryRaw<{ id: bigint }[]>`
      SELECT "id" FROM "event" WHERE "cluster_id" = ${clusterId}::uuid AND "kind" = 'task'
        AND ("xid", "id") > (${start.xid.toString()}::xid8, ${start.id})`;
    const seenIds = seen.map((e) => parseEventPosition(e.position, 'p').id);
    expect(written).toHaveLength(total);
    expect(new Set(seenIds).size).toBe(seenIds.length);
    expect([...seenIds].sort()).toEqual(written.map((r) => r.id).sort());
  }, 30_000);

  it('reads one cluster only when asked, the newest page, and prunes by age', async () => {
    await newTasks(12);
    const other = await prisma.cluster.create({ data: { name: 'elsewhere' } });
    await prisma.task.create({ data: { clusterId: other.id, taskDefinitionId, cpu: 1, memory: 1 } });
    let recent = await readRecentEvents(prisma, { clusterIds: [other.id], limit: 5 });
    for (let i = 0; recent.length === 0 && i < 1000; i++) {
      await new Promise((r) => setTimeout(r, 20));
      recent = await readRecentEvents(prisma, { clusterIds: [other.id], limit: 5 });
    }
    expect(recent.map((e) => (e.payload as { cluster_name: string }).cluster_name)).toEqual(['elsewhere']);
    const all = await readRecentEvents(prisma, { limit: 3 });
    expect(all.map((e) => e.position)).toEqual(
      (await drain(ZERO, null)).events.slice(-3).map((e) => e.position),
    );
    expect(await pruneEvents(prisma, new Date(Date.now() - 60_000), 5)).toBe(0);
    const total = await prisma.event.count();
    expect(await pruneEvents(prisma, new Date(Date.now() + 1000), 5)).toBe(total);
    expect(await readRecentEvents(prisma, { limit: 5 })).toEqual([]);
  }, 30_000);

  it('wakes a listener when a transaction that wrote events commits', async () => {
    let wakes = 0;
    const listener = listenForEvents(db.url, () => wakes++);
    try {
      const deadline = Date.now() + 5000;
      while (wakes === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const before = wakes;
      await newTasks(1);
      while (wakes === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(wakes).toBeGreaterThan(before);
    } finally {
      await listener.close();
    }
  });
});
