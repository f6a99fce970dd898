import pg from 'pg';
import type { Db } from './client.js';

/**
 * Plain SQL for the hot paths (RunTask, task reads, agents' task loads, placement), on the pg pool
 * the Prisma adapter uses: no query compiler, no result mapping, and statements prepared once per
 * connection. On the project's machine a Prisma `findMany` with relations cost about 1.8 ms of
 * CPU and the same read as a prepared statement 0.15 ms (bench/README.md). Prisma stays for the
 * rest; statements name their columns with the Prisma models' field names (`AS "clusterId"`), so
 * rows come back in the shapes the callers already use.
 */

/** A statement with a name, prepared once on each connection that runs it. */
export interface Statement {
  readonly name: string;
  readonly text: string;
}

const names = new Map<string, string>();

/** Declares a statement; two texts under one name would make Postgres run the first for both. */
export function statement(name: string, text: string): Statement {
  const known = names.get(name);
  if (known !== undefined && known !== text) throw new Error(`statement ${name} declared twice`);
  names.set(name, text);
  return { name, text };
}

/** Runs statements: the pool, an open transaction, or a Prisma client or transaction (viaPrisma). */
export interface SqlExecutor {
  rows<R>(s: Statement, values: readonly unknown[]): Promise<R[]>;
}

/** A transaction could not get a connection in time: every one is busy. Retry later (503). */
export class TransactionStartTimeout extends Error {
  constructor(ms: number) {
    super(`unable to start a transaction within ${ms} ms: every database connection is busy`);
  }
}

// timestamp(3) columns hold UTC (Prisma's convention); pg would read them in the process's zone.
const TIMESTAMP_OID = 1114;
const parseUtc = (text: string) => new Date(`${text.replace(' ', 'T')}Z`);
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === TIMESTAMP_OID && format !== 'binary'
      ? parseUtc
      : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};
// Dates are sent as UTC text for the same reason (pg would send local time).
const param = (v: unknown): unknown =>
  v instanceof Date
    ? v.toISOString()
    : Array.isArray(v)
      ? v.map((x) => (x instanceof Date ? x.toISOString() : x))
      : v;

async function run<R>(on: pg.Pool | pg.PoolClient, s: Statement, values: readonly unknown[]): Promise<R[]> {
  const result = await on.query({ name: s.name, text: s.text, values: values.map(param), types });
  return result.rows as R[];
}

/** An open transaction on one connection. */
export class SqlTransaction implements SqlExecutor {
  constructor(private readonly client: pg.PoolClient) {}

  rows<R>(s: Statement, values: readonly unknown[]): Promise<R[]> {
    return run<R>(this.client, s, values);
  }
}

export interface TransactionOptions {
  /** Called last in the transaction, before COMMIT (the gateway writes a request's audit event). */
  beforeCommit?: (tx: SqlTransaction) => Promise<void>;
}

export class Sql implements SqlExecutor {
  /** How long a transaction waits for a connection, as Prisma's `maxWait` (2 s). */
  static readonly MAX_WAIT_MS = 2000;

  constructor(readonly pool: pg.Pool) {}

  rows<R>(s: Statement, values: readonly unknown[]): Promise<R[]> {
    return run<R>(this.pool, s, values);
  }

  /** All of `work` or none of it: COMMIT if it returns, ROLLBACK if it throws. */
  async transaction<T>(work: (tx: SqlTransaction) => Promise<T>, opts: TransactionOptions = {}): Promise<T> {
    const client = await this.connect();
    let broken: unknown;
    try {
      await client.query('BEGIN');
      const tx = new SqlTransaction(client);
      const result = await work(tx);
      await opts.beforeCommit?.(tx);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch((e: unknown) => (broken = e));
      throw error;
    } finally {
      // A connection whose ROLLBACK failed is in an unknown state: the pool closes it.
      client.release(broken instanceof Error ? broken : undefined);
    }
  }

  private async connect(): Promise<pg.PoolClient> {
    const connecting = this.pool.connect();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new TransactionStartTimeout(Sql.MAX_WAIT_MS)), Sql.MAX_WAIT_MS);
    });
    try {
      return await Promise.race([connecting, timedOut]);
    } catch (error) {
      // The connection may still come: give it back.
      connecting.then(
        (c) => c.release(),
        () => undefined,
      );
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * The same statements inside a Prisma client or transaction, for callers whose transaction also
 * does Prisma work (a service's reconcile, a schedule's firing). Unprepared, but still without
 * the query compiler.
 */
export function viaPrisma(db: Db): SqlExecutor {
  return {
    rows: <R>(s: Statement, values: readonly unknown[]) =>
      db.$queryRawUnsafe<R[]>(s.text, ...values.map(param)),
  };
}
