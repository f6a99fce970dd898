import { Inject, Injectable } from '@nestjs/common';
import { PRISMA, type PrismaClient } from '../infra/providers.js';

export type AuditOutcome = 'Success' | 'Denied' | 'Failed';

export interface AuditRecord {
  accessKeyId?: string;
  action: string;
  resource: string;
  sourceAddress: string;
  requestId: string;
  outcome: AuditOutcome;
  statusCode: number;
  errorCode?: string;
  /** The request's parameters, secrets already removed. */
  parameters: unknown;
}

export interface AuditQuery {
  accessKeyId?: string;
  action?: string;
  outcome?: string;
  resource?: string;
  startTime?: Date;
  endTime?: Date;
  limit: number;
  /** The last event of the previous page. */
  after?: { eventTime: Date; id: string };
}

/** The audit log: rows are only ever added (a trigger refuses UPDATE and DELETE). */
@Injectable()
export class AuditRepository {
  constructor(@Inject(PRISMA) private readonly db: PrismaClient) {}

  async record(event: AuditRecord): Promise<void> {
    await this.db.auditEvent.create({
      data: { ...event, parameters: (event.parameters ?? {}) as object },
    });
  }

  /** Newest first. */
  async list(q: AuditQuery) {
    const rows = await this.db.auditEvent.findMany({
      where: {
        accessKeyId: q.accessKeyId,
        action: q.action,
        outcome: q.outcome,
        resource: q.resource,
        eventTime: { gte: q.startTime, lte: q.endTime },
        ...(q.after
          ? {
              OR: [
                { eventTime: { lt: q.after.eventTime } },
                { eventTime: q.after.eventTime, id: { lt: q.after.id } },
              ],
            }
          : {}),
      },
      orderBy: [{ eventTime: 'desc' }, { id: 'desc' }],
      take: q.limit,
    });
    return rows;
  }
}
