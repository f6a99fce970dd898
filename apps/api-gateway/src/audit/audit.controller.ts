import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { cursors, InvalidParameterError, nextPageToken, parsePage } from '@berth/domain';
import { Action } from '../auth/action.decorator.js';
import { AuditRepository } from './audit.repository.js';

const OUTCOMES = ['Success', 'Denied', 'Failed'];

function time(name: string, value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const at = new Date(value);
  if (Number.isNaN(at.getTime())) throw new InvalidParameterError(`${name}: must be an ISO 8601 time`, name);
  return at;
}

/** The audit log, CloudTrail's LookupEvents in Berth: newest first, filtered, paged. */
@ApiTags('audit')
@Controller('v1/audit-events')
export class AuditController {
  constructor(private readonly audit: AuditRepository) {}

  @Get()
  @Action('berth:ListAuditEvents')
  @ApiOperation({ summary: 'Every mutating call and every denied call, newest first' })
  @ApiQuery({ name: 'accessKeyId', required: false })
  @ApiQuery({ name: 'action', required: false, description: 'ecs:RunTask, berth:PutSecret, ...' })
  @ApiQuery({ name: 'outcome', required: false, enum: OUTCOMES })
  @ApiQuery({ name: 'resource', required: false, description: 'an ARN' })
  @ApiQuery({ name: 'startTime', required: false })
  @ApiQuery({ name: 'endTime', required: false })
  @ApiQuery({ name: 'maxResults', required: false })
  @ApiQuery({ name: 'nextToken', required: false })
  async list(@Query() q: Record<string, string | undefined>) {
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
