import { PrismaPg } from '@prisma/adapter-pg';
import { Prisma, PrismaClient } from './generated/prisma/client.js';

export { Prisma, PrismaClient };
export type * from './generated/prisma/models.js';

/** A client or an open transaction: repository functions take either. */
export type Db = PrismaClient | Prisma.TransactionClient;

export function createPrisma(databaseUrl: string, opts: { poolSize?: number } = {}): PrismaClient {
  const adapter = new PrismaPg({ connectionString: databaseUrl, max: opts.poolSize ?? 10 });
  return new PrismaClient({ adapter });
}

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
    const cause = (error.meta as { driverAdapterError?: { cause?: { originalCode?: string } } } | undefined)
      ?.driverAdapterError?.cause?.originalCode;
    return cause !== undefined && RETRIABLE_PG_CODES.has(cause);
  }
  if (error instanceof Prisma.PrismaClientInitializationError) return true;
  const code = (error as { code?: string } | null)?.code;
  return (
    typeof code === 'string' &&
    (RETRIABLE_PG_CODES.has(code) || ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE'].includes(code))
  );
}

/** A unique or primary-key violation: someone else holds the row (a host port, a revision). */
export function isUniqueViolation(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002';
}
