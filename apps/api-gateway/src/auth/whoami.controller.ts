import { Controller, Get, Inject, Query, Req } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { ArnContext } from '@berth/domain';
import { ARN_CONTEXT } from '../http/arn-context.js';
import { Action } from './action.decorator.js';
import { callerIdentity } from './caller-identity.js';
import type { BerthRequest } from './request-context.js';

/** STS's GetCallerIdentity, with a simulation of the key's policies for the actions asked. */
@ApiTags('access-keys')
@Controller('v1/whoami')
export class WhoamiController {
  constructor(@Inject(ARN_CONTEXT) private readonly ctx: ArnContext) {}

  @Get()
  @Action('berth:GetCallerIdentity', { anyKey: true })
  @ApiOperation({
    summary:
      'GetCallerIdentity: the key making the call, and which of ?actions= its policies allow on ?cluster= (or *)',
  })
  @ApiQuery({ name: 'actions', required: false, description: 'comma-separated: ecs:RunTask,ecs:StopTask' })
  @ApiQuery({ name: 'cluster', required: false, description: 'a cluster name or ARN' })
  whoami(@Req() req: BerthRequest, @Query() query: { actions?: string; cluster?: string }) {
    return callerIdentity(this.ctx, req.berth.principal!, query);
  }
}
