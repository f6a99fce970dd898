import { Injectable } from '@nestjs/common';
import { cursors, InvalidParameterError, nextPageToken, parsePage } from '@berth/domain';
import { AuditRepository } from './audit.repository.js';

export const OUTCOMES = ['Success', 'Denied', 'Failed'];

function time(name: string, value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const at = new Date(value);
  if (Number.isNaN(at.getTime())) throw new InvalidParameterError(`${name}: must be an ISO 8601 time`, name);
  return at;
}

/** The audit log, CloudTrail's LookupEvents in Berth: newest first, filtered, paged. */
@Injectable()
export class AuditService {
  constructor(private readonly audit: AuditRepository) {}

  async list(q: Record<string, string | undefined>) {
    const { limit, after } = parsePage(q, cursors.timeAndId);
    if (q.outcome !== undefined && !OUTCOMES.includes(q.outcome))
      throw new InvalidParameterError(`outcome: must be one of ${OUTCOMES.join(', ')}`, 'outcome');
    const events = await this.audit.list({
      accessKeyId: q.accessKeyId,
      action: q.action,
      outcome: q.outcome,
      resource: q.resource,
      startTime: time('startTime', q.startTime),
      endTime: time('endTime', q.endTime),
      limit,
      after: after && { eventTime: new Date(after[0]), id: after[1] },
    });
    return {
      auditEvents: events,
      nextToken: nextPageToken(events, limit, (e) => [e.eventTime.toISOString(), e.id]),
    };
  }
}
