import { Controller, HttpCode, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { ClientError, launchTargetWarnings } from '@berth/domain';
import { EcsProtocol } from '../auth/action.decorator.js';
import type { BerthRequest } from '../auth/request-context.js';
import { EcsActions } from './ecs-actions.js';
import { ECS_CONTENT_TYPE, ecsActionName, isEcsRequest } from './ecs-protocol.js';
import type { EcsInput } from './ecs-input.js';

const LAUNCHING_ACTIONS = new Set(['RunTask', 'CreateService', 'UpdateService']);

/**
 * The ECS API's front door: `POST /` in AWS JSON 1.1, signed with SigV4 (or a bearer key). The
 * guard has authenticated the call and checked its action (`ecs:<X-Amz-Target action>`); this
 * only dispatches it. The AWS documentation describes it, not the OpenAPI document.
 */
@ApiExcludeController()
@Controller()
export class EcsController {
  constructor(private readonly actions: EcsActions) {}

  @Post()
  @HttpCode(200)
  @EcsProtocol()
  async call(@Req() req: BerthRequest, @Res({ passthrough: true }) res: Response) {
    if (!isEcsRequest(req))
      throw new ClientError('SerializationException', `the ECS API takes Content-Type: ${ECS_CONTENT_TYPE}`);
    const action = ecsActionName(req.headers['x-amz-target']);
    if (!action)
      throw new ClientError(
        'UnknownOperationException',
        'X-Amz-Target must name an action: AmazonEC2ContainerServiceV20141113.<Action>',
      );
    res.type(ECS_CONTENT_TYPE);
    const answer = await this.actions.call(action, req.body as EcsInput);
    // ECS's answers have no member for Berth's warnings (a FARGATE launch type run on Berth's own
    // instances): they travel in a header, which the SDKs and the CLI ignore.
    if (LAUNCHING_ACTIONS.has(action)) {
      const warnings = launchTargetWarnings(req.body);
      if (warnings.length) res.setHeader('x-berth-warnings', JSON.stringify(warnings));
    }
    return answer;
  }
}
