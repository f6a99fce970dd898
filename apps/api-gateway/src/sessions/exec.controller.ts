import { Body, Controller, HttpCode, Param, Post, Req } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { executeCommandSchema, toJsonSchema } from '@berth/domain';
import { Action } from '../auth/action.decorator.js';
import type { BerthRequest } from '../auth/request-context.js';
import { ExecService } from './exec.service.js';

@ApiTags('tasks')
@Controller('v1/clusters/:cluster/tasks/:task/exec')
export class ExecController {
  constructor(private readonly exec: ExecService) {}

  @Post()
  @Action('ecs:ExecuteCommand')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'ExecuteCommand: answers a session; open session.streamUrl as a WebSocket with ?token=<session.tokenValue> within 60 s',
  })
  @ApiBody({ schema: toJsonSchema(executeCommandSchema) })
  async executeCommand(
    @Param('cluster') cluster: string,
    @Param('task') task: string,
    @Body() body: unknown,
    @Req() req: BerthRequest,
  ) {
    // The WebSocket goes to the address the client used, on the same port.
    const scheme = req.protocol === 'https' ? 'wss' : 'ws';
    return this.exec.executeCommand(
      cluster,
      task,
      body,
      `${scheme}://${req.headers.host ?? 'localhost'}`,
      req.berth.principal?.accessKeyId,
    );
  }
}
