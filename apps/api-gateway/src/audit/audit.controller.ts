import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { Action } from '../auth/action.decorator.js';
import { AuditService, OUTCOMES } from './audit.service.js';

/** The audit log, CloudTrail's LookupEvents in Berth: newest first, filtered, paged. */
@ApiTags('audit')
@Controller('v1/audit-events')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

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
    return this.audit.list(q);
  }
}
