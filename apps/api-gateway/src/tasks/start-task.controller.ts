import { Body, Controller, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { startTaskSchema, toJsonSchema, type ArnContext } from '@berth/domain';
import { Action } from '../auth/action.decorator.js';
import { ARN_CONTEXT } from '../http/arn-context.js';
import { taskView } from '../http/views.js';
import { StartTaskService } from './start-task.service.js';

@ApiTags('tasks')
@Controller('v1/clusters/:cluster/tasks/start')
export class StartTaskController {
  constructor(
    private readonly starter: StartTaskService,
    @Inject(ARN_CONTEXT) private readonly ctx: ArnContext,
  ) {}

  @Post()
  @Action('ecs:StartTask')
  @HttpCode(200)
  @ApiOperation({
    summary: 'StartTask: one task of a task definition on each of 1-10 chosen container instances',
  })
  @ApiBody({ schema: toJsonSchema(startTaskSchema) })
  async start(@Param('cluster') cluster: string, @Body() body: unknown) {
    const { tasks, failures } = await this.starter.startTask(cluster, body);
    return { tasks: tasks.map((t) => taskView(this.ctx, t)), failures };
  }
}
