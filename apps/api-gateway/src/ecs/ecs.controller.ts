import { Controller, HttpCode, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { ClientError } from '@berth/domain';
import { EcsProtocol } from '../auth/action.decorator.js';
import type { BerthRequest } from '../auth/request-context.js';
import { EcsActions } from './ecs-actions.js';
import { ECS_CONTENT_TYPE, ecsActionName, isEcsRequest } from './ecs-protocol.js';
import type { EcsInput } from './ecs-input.js';

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
    return this.actions.call(action, req.body as EcsInput);
  }
}
