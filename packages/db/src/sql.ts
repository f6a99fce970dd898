import pg from 'pg';
import type { Db } from './client.js';

/**
 * Plain SQL for the hot paths (RunTask, task reads, agents' registrations, heartbeats, task loads
 * and task reports, releasing reservations, placement), on the pg pool the Prisma adapter uses: no
 * query compiler, no result mapping, and statements prepared once per connection. On the
 * project's machine a Prisma `findMany` with relations cost about 1.8 ms of CPU and the same read
 * as a prepared statement 0.15 ms (bench/README.md); an agent's registration went from about 3 ms
 * to 0.3 ms. Prisma stays for the rest; statements name their columns with the Prisma models'
 * field names (`AS "clusterId"`), so rows come back in the shapes the callers already use.
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

/** A transaction did not finish in time (a lock it waited for, a slow statement): rolled back (503). */
export class TransactionTimeout extends Error {
  constructor(ms: number, options?: ErrorOptions) {
    super(`the transaction did not finish within ${ms} ms and was rolled back`, options);
  }
}

/** Postgres cancelled the statement: here, the transaction's statement_timeout. */
const QUERY_CANCELED = '57014';

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
  /** Past its time limit nothing more runs in it; once COMMIT is sent the limit no longer applies. */
  private state: 'open' | 'committing' | 'expired' = 'open';

  constructor(
    private readonly client: pg.PoolClient,
    private readonly timeoutMs: number,
  ) {}

  rows<R>(s: Statement, values: readonly unknown[]): Promise<R[]> {
    if (this.state !== 'open') return Promise.reject(new TransactionTimeout(this.timeoutMs));
    return run<R>(this.client, s, values);
  }

  /** False when COMMIT was already sent: the transaction then stands or falls with it. */
  expire(): boolean {
    if (this.state === 'committing') return false;
    this.state = 'expired';
    return true;
  }

  async commit(): Promise<void> {
    if (this.state !== 'open') throw new TransactionTimeout(this.timeoutMs);
    this.state = 'committing';
    await this.client.query('COMMIT');
  }
}

export interface TransactionOptions {
  /** Called last in the transaction, before COMMIT (the gateway writes a request's audit event). */
  beforeCommit?: (tx: SqlTransaction) => Promise<void>;
  /** The transaction's time limit; Sql.TIMEOUT_MS unless given. */
  timeoutMs?: number;
}

export class Sql implements SqlExecutor {
  /** How long a transaction waits for a connection, as Prisma's `maxWait` (2 s). */
  static readonly MAX_WAIT_MS = 2000;
  /** How long a transaction may take, as Prisma's interactive transactions' `timeout` (5 s). */
  static readonly TIMEOUT_MS = 5000;

  constructor(readonly pool: pg.Pool) {}

  rows<R>(s: Statement, values: readonly unknown[]): Promise<R[]> {
    return run<R>(this.pool, s, values);
  }

  /**
   * All of `work` or none of it: COMMIT if it returns, ROLLBACK if it throws or outlives its time
   * limit. Past the limit the caller gets a TransactionTimeout once the transaction is rolled back
   * (a statement still running is cancelled by the statement_timeout set at BEGIN), and whatever
   * `work` still tries to run fails; a stuck transaction never holds its locks and connection on.
   */
  async transaction<T>(work: (tx: SqlTransaction) => Promise<T>, opts: TransactionOptions = {}): Promise<T> {
    const ms = Math.max(1, Math.ceil(opts.timeoutMs ?? Sql.TIMEOUT_MS));
    const client = await this.connect();
    const tx = new SqlTransaction(client, ms);
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => tx.expire() && reject(new TransactionTimeout(ms)), ms);
    });
    const attempt = async () => {
      await client.query(`BEGIN; SET LOCAL statement_timeout = ${ms}`);
      const result = await work(tx);
      await opts.beforeCommit?.(tx);
      await tx.commit();
      return result;
    };
    let broken: unknown;
    try {
      return await Promise.race([attempt(), expired]);
    } catch (error) {
      tx.expire();
      // Queued behind a statement still running, if any: it ends by the statement_timeout.
      await client.query('ROLLBACK').catch((e: unknown) => (broken = e));
      if (error instanceof pg.DatabaseError && error.code === QUERY_CANCELED)
        throw new TransactionTimeout(ms, { cause: error });
      throw error;
    } finally {
      clearTimeout(timer);
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
