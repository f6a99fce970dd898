import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import {
  Sql,
  SQL_KEY,
  sqlOf,
  statement,
  type Prisma,
  type PrismaClient,
  type SqlTransaction,
  type TransactionOptions,
} from '@berth/db';
import type { AuditRecord } from './audit.repository.js';

/** The audit event of the mutating request being served, until a transaction has written it. */
export interface PendingAudit {
  event: Omit<AuditRecord, 'outcome' | 'statusCode' | 'errorCode'>;
  written: boolean;
}

/** Set by the audit interceptor around a mutating request's handler. */
export const auditScope = new AsyncLocalStorage<PendingAudit>();

const WRITES = new Set([
  'create',
  'createMany',
  'createManyAndReturn',
  'update',
  'updateMany',
  'updateManyAndReturn',
  'upsert',
  'delete',
  'deleteMany',
]);

type Work<T> = (tx: Prisma.TransactionClient) => Promise<T>;

/**
 * The gateway's Prisma client, made so that a request's audit event commits with its change: the
 * first write of a mutating request (an interactive transaction, a model write, a raw statement,
 * or a transaction of its plain SQL, sqlOf) runs in a transaction that also inserts the request's
 * audit event as Success. If that transaction fails, neither the change nor the event is written,
 * and the interceptor records the failure. Outside a request (agent reports, sweeps) it is the
 * plain client.
 */
export function auditedPrisma(db: PrismaClient): PrismaClient {
  /** The pending event, claimed by the caller so that concurrent writes do not both insert it. */
  const claim = () => {
    const pending = auditScope.getStore();
    if (!pending || pending.written) return undefined;
    pending.written = true;
    return pending;
  };

  async function transaction<T>(work: Work<T>, options?: Parameters<PrismaClient['$transaction']>[1]) {
    const pending = claim();
    if (!pending) return db.$transaction(work, options);
    try {
      return await db.$transaction(async (tx) => {
        const result = await work(tx);
        await tx.auditEvent.create({
          data: {
            ...pending.event,
            parameters: pending.event.parameters as object,
            outcome: 'Success',
            statusCode: 200,
          },
        });
        return result;
      }, options);
    } catch (error) {
      pending.written = false;
      throw error;
    }
  }

  let sql: Sql | undefined;
  const needsAudit = () => auditScope.getStore()?.written === false;
  const delegates = new Map<string, unknown>();
  const delegate = (name: string, target: Record<string, unknown>) =>
    new Proxy(target, {
      get(t, method) {
        const value = Reflect.get(t, method) as unknown;
        if (typeof value !== 'function') return value;
        if (typeof method === 'string' && WRITES.has(method))
          return (args: unknown) =>
            needsAudit()
              ? transaction((tx) =>
                  (tx as unknown as Record<string, Record<string, (a: unknown) => Promise<unknown>>>)[name]![
                    method
                  ]!(args),
                )
              : (value as (a: unknown) => unknown).call(t, args);
        return (value as (...a: unknown[]) => unknown).bind(t);
      },
    });

  return new Proxy(db, {
    get(target, prop) {
      const value = Reflect.get(target, prop) as unknown;
      // Plain SQL (sqlOf) on the same pool: its transactions write the event the same way.
      if (prop === SQL_KEY) return (sql ??= new AuditedSql(sqlOf(db).pool, claim));
      if (prop === '$transaction')
        return (arg: unknown, options?: Parameters<PrismaClient['$transaction']>[1]) =>
          typeof arg === 'function'
            ? transaction(arg as Work<unknown>, options)
            : target.$transaction(arg as never, options);
      if (prop === '$executeRaw' || prop === '$executeRawUnsafe')
        return (...args: unknown[]) =>
          needsAudit()
            ? transaction((tx) => (tx[prop] as (...a: unknown[]) => Promise<number>)(...args))
            : (value as (...a: unknown[]) => unknown).apply(target, args);
      if (typeof value === 'function') return (value as (...a: unknown[]) => unknown).bind(target);
      // Audit events themselves are written as they are.
      if (
        prop !== 'auditEvent' &&
        typeof prop === 'string' &&
        !prop.startsWith('$') &&
        value &&
        typeof value === 'object' &&
        'findMany' in value
      ) {
        if (!delegates.has(prop)) delegates.set(prop, delegate(prop, value as Record<string, unknown>));
        return delegates.get(prop);
      }
      return value;
    },
  });
}

const INSERT_AUDIT_EVENT = statement(
  'insert_audit_event',
  `INSERT INTO audit_event (id, event_time, access_key_id, action, resource, source_address, request_id,
          outcome, status_code, parameters)
   VALUES ($1::uuid, $2::timestamp(3), $3, $4, $5, $6, $7, 'Success', 200, $8::jsonb)`,
);

/**
 * Plain SQL whose first transaction in a mutating request also inserts the request's audit event
 * as Success, before COMMIT. Writes through it belong in a transaction(): a lone statement is not
 * audited.
 */
class AuditedSql extends Sql {
  constructor(
    pool: Sql['pool'],
    private readonly claim: () => PendingAudit | undefined,
  ) {
    super(pool);
  }

  override async transaction<T>(work: (tx: SqlTransaction) => Promise<T>, opts: TransactionOptions = {}) {
    const pending = this.claim();
    if (!pending) return super.transaction(work, opts);
    const { event } = pending;
    try {
      return await super.transaction(work, {
        beforeCommit: async (tx) => {
          await opts.beforeCommit?.(tx);
          await tx.rows(INSERT_AUDIT_EVENT, [
            randomUUID(),
            new Date(),
            event.accessKeyId ?? null,
            event.action,
            event.resource,
            event.sourceAddress,
            event.requestId,
            JSON.stringify(event.parameters ?? {}),
          ]);
        },
      });
    } catch (error) {
      pending.written = false;
      throw error;
    }
  }
}
