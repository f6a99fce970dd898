import pg from 'pg';
import { formatEventPosition, type EventKind, type EventPosition, type OutboxEvent } from '@berth/domain';
import { Prisma } from './generated/prisma/client.js';
import type { Db } from './client.js';

/**
 * Reading the event outbox (table `event`, appended by triggers: see the events migration).
 *
 * Rows are read in (xid, id) order, and only those whose transaction is older than the oldest one
 * still running (`pg_snapshot_xmin`). Sequence ids are taken before commit, so a row with a lower
 * id can become visible after one with a higher id; but no transaction below that frontier can
 * still commit, so every row a reader passes is final and a cursor over (xid, id) skips none.
 * The price: an event waits for every transaction that began writing before it to end.
 */

/** The channel the triggers NOTIFY on commit. */
export const EVENTS_CHANNEL = 'berth_events';

interface Row {
  xid: string;
  id: bigint;
  time: Date;
  kind: EventKind;
  payload: unknown;
}

const toEvent = (r: Row): OutboxEvent => ({
  position: formatEventPosition({ xid: BigInt(r.xid), id: BigInt(r.id) }),
  time: r.time,
  kind: r.kind,
  payload: r.payload,
});

const FRONTIER = Prisma.sql`e."xid" < pg_snapshot_xmin(pg_current_snapshot())`;
const inClusters = (clusterIds: string[] | undefined) =>
  clusterIds ? Prisma.sql`AND e."cluster_id" = ANY(${clusterIds}::uuid[])` : Prisma.empty;

/**
 * The row, with what the triggers leave out because it never changes: the cluster's name, and for
 * a task its definition's family, revision and containers (name and image, in order). A definition
 * removed since (DeleteTaskDefinitions, once no task refers to it) leaves them out.
 */
const SELECT_EVENTS = Prisma.sql`
  SELECT e."xid"::text AS xid, e."id", e."time", e."kind",
    e."payload" || jsonb_build_object('cluster_name', c."name") || CASE WHEN td."id" IS NULL THEN '{}'::jsonb
      ELSE jsonb_build_object(
        'family', td."family",
        'revision', td."revision",
        'container_definitions', (
          SELECT jsonb_agg(jsonb_build_object('name', d.cd->>'name', 'image', d.cd->>'image') ORDER BY d.ord)
          FROM jsonb_array_elements(td."definition"->'containerDefinitions') WITH ORDINALITY AS d(cd, ord)))
      END AS payload
  FROM "event" e
  JOIN "cluster" c ON c."id" = e."cluster_id"
  LEFT JOIN "task_definition" td ON e."kind" = 'task' AND td."id" = (e."payload"->>'task_definition_id')::uuid`;

/** The events after `after`, oldest first, up to `limit`. */
export async function readEventsAfter(
  db: Db,
  q: { after: EventPosition; clusterIds?: string[]; limit: number },
): Promise<OutboxEvent[]> {
  const rows = await db.$queryRaw<Row[]>`${SELECT_EVENTS}
    WHERE (e."xid", e."id") > (${q.after.xid.toString()}::xid8, ${q.after.id})
      AND ${FRONTIER} ${inClusters(q.clusterIds)}
    ORDER BY e."xid", e."id" LIMIT ${q.limit}`;
  return rows.map(toEvent);
}

/** The newest `limit` events, oldest first. */
export async function readRecentEvents(
  db: Db,
  q: { clusterIds?: string[]; limit: number },
): Promise<OutboxEvent[]> {
  const rows = await db.$queryRaw<Row[]>`${SELECT_EVENTS}
    WHERE ${FRONTIER} ${inClusters(q.clusterIds)}
    ORDER BY e."xid" DESC, e."id" DESC LIMIT ${q.limit}`;
  return rows.reverse().map(toEvent);
}

/** Where "from now on" starts: the last final event, or the very beginning when there is none. */
export async function latestEventPosition(db: Db): Promise<EventPosition> {
  const rows = await db.$queryRaw<{ xid: string; id: bigint }[]>`
    SELECT e."xid"::text AS xid, e."id" FROM "event" e WHERE ${FRONTIER}
    ORDER BY e."xid" DESC, e."id" DESC LIMIT 1`;
  const last = rows[0];
  return last ? { xid: BigInt(last.xid), id: BigInt(last.id) } : { xid: 0n, id: 0n };
}

/** Removes events older than `before`, a bounded batch at a time; returns how many went. */
export async function pruneEvents(db: Db, before: Date, batch = 10_000): Promise<number> {
  let removed = 0;
  for (;;) {
    const n = await db.$executeRaw`
      DELETE FROM "event" WHERE "id" IN (SELECT "id" FROM "event" WHERE "time" < ${before} LIMIT ${batch})`;
    removed += n;
    if (n < batch) return removed;
  }
}

/**
 * Calls `onCommit` when a transaction that wrote events commits (LISTEN on its own connection,
 * reconnecting after a second when it drops). A wake-up only: readers also poll, because a
 * notification can be missed while the connection is down and because an event becomes readable
 * only once older transactions end, which notifies no one.
 */
export function listenForEvents(
  databaseUrl: string,
  onCommit: () => void,
  onError: (err: Error) => void = () => {},
): { close(): Promise<void> } {
  let client: pg.Client | undefined;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;
  const connect = () => {
    const c = new pg.Client({ connectionString: databaseUrl });
    client = c;
    const again = (err: Error) => {
      onError(err);
      c.removeAllListeners();
      void c.end().catch(() => {});
      if (!closed) retry = setTimeout(connect, 1000);
    };
    c.on('notification', () => onCommit());
    c.on('error', again);
    c.connect()
      .then(() => c.query(`LISTEN ${EVENTS_CHANNEL}`))
      .then(() => onCommit(), again);
  };
  connect();
  return {
    async close() {
      closed = true;
      clearTimeout(retry);
      client?.removeAllListeners();
      await client?.end().catch(() => {});
    },
  };
}
