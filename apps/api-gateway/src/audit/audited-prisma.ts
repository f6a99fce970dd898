import { AsyncLocalStorage } from 'node:async_hooks';
import type { Prisma, PrismaClient } from '@berth/db';
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
 * first write of a mutating request (an interactive transaction, a model write or a raw statement)
 * runs in a transaction that also inserts the request's audit event as Success. If that
 * transaction fails, neither the change nor the event is written, and the interceptor records
 * the failure. Outside a request (agent reports, sweeps) it is the plain client.
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
