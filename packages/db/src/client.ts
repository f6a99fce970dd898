import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { Prisma, PrismaClient } from './generated/prisma/client.js';
import { Sql, TransactionStartTimeout, TransactionTimeout } from './sql.js';

export { Prisma, PrismaClient };
export type * from './generated/prisma/models.js';

/** A client or an open transaction: repository functions take either. */
export type Db = PrismaClient | Prisma.TransactionClient;

const SQL = Symbol.for('berth.sql');

/**
 * A Prisma client on a pg pool of `poolSize` connections, which the hot paths' plain SQL shares
 * (sqlOf). $disconnect closes the pool.
 */
export function createPrisma(databaseUrl: string, opts: { poolSize?: number } = {}): PrismaClient {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: opts.poolSize ?? 10 });
  const client = new PrismaClient({ adapter: new PrismaPg(pool, { disposeExternalPool: true }) });
  // Configurable, so that a Proxy of the client (the gateway's audit) may hand out its own.
  Object.defineProperty(client, SQL, { value: new Sql(pool), configurable: true });
  return client;
}

/** The plain SQL of a client made by createPrisma, on its pool (see sql.ts). */
export function sqlOf(db: PrismaClient): Sql {
  const sql = (db as unknown as Record<symbol, Sql | undefined>)[SQL];
  if (!sql) throw new Error('sqlOf: this Prisma client was not made by createPrisma');
  return sql;
}

/** The key under which a client holds its Sql, for wrappers that hand out their own (audit). */
export const SQL_KEY: symbol = SQL;

const RETRIABLE_PG_CODES = new Set([
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '57P01', // admin_shutdown: Postgres restarting
  '57P03', // cannot_connect_now
  '08000',
  '08003',
  '08006',
]);
const RETRIABLE_PRISMA_CODES = new Set(['P1001', 'P1002', 'P1017', 'P2024', 'P2034']);

/** True for failures worth retrying later (lost connection, Postgres restarting, a lost race). */
export function isRetriableDbError(error: unknown): boolean {
  if (error instanceof Prisma.PrismaClientKnownRequestError) {
    if (RETRIABLE_PRISMA_CODES.has(error.code)) return true;
    const cause = postgresCodeOf(error);
    return cause !== undefined && RETRIABLE_PG_CODES.has(cause);
  }
  if (error instanceof Prisma.PrismaClientInitializationError) return true;
  const code = (error as { code?: string } | null)?.code;
  return (
    typeof code === 'string' &&
    (RETRIABLE_PG_CODES.has(code) || ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE'].includes(code))
  );
}

/** Postgres' own error code behind a Prisma error, when the adapter passed it on. */
function postgresCodeOf(error: Prisma.PrismaClientKnownRequestError): string | undefined {
  return (error.meta as { driverAdapterError?: { cause?: { originalCode?: string } } } | undefined)
    ?.driverAdapterError?.cause?.originalCode;
}

/**
 * A unique or primary-key violation: someone else holds the row (a host port, a revision). From a
 * Prisma write, a Prisma raw statement (P2010) or plain SQL.
 */
export function isUniqueViolation(error: unknown): boolean {
  if (error instanceof Prisma.PrismaClientKnownRequestError)
    return error.code === 'P2002' || postgresCodeOf(error) === '23505';
  return error instanceof pg.DatabaseError && error.code === '23505';
}

/** A check constraint refused a plain SQL write (an instance registered smaller than it holds). */
export function isCheckViolation(error: unknown): boolean {
  return error instanceof pg.DatabaseError && error.code === '23514';
}

/**
 * A transaction that could not start in time because every connection is busy, or that did not
 * finish in time (plain SQL's limit, or a Prisma interactive transaction's, which Prisma rolls
 * back): overload, nothing written.
 */
export function isTransactionTimeout(error: unknown): boolean {
  if (error instanceof TransactionStartTimeout || error instanceof TransactionTimeout) return true;
  return (
    error instanceof Prisma.PrismaClientKnownRequestError &&
    error.code === 'P2028' &&
    // Not the other P2028s (a query on a committed transaction is a defect, and 500).
    /unable to start a transaction|on an expired transaction/i.test(error.message)
  );
}
