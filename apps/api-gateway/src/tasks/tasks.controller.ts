import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import {
  launchTargetWarnings,
  runTaskSchema,
  stopTaskSchema,
  toJsonSchema,
  type ArnContext,
} from '@berth/domain';
import { TasksService } from './tasks.service.js';
import { taskView } from '../http/views.js';
import { ARN_CONTEXT } from '../http/arn-context.js';
import { Action } from '../auth/action.decorator.js';

@ApiTags('tasks')
@Controller('v1/clusters/:cluster/tasks')
export class TasksController {
  constructor(
    private readonly tasks: TasksService,
    @Inject(ARN_CONTEXT) private readonly ctx: ArnContext,
  ) {}

  @Post()
  @Action('ecs:RunTask')
  @HttpCode(200)
  @ApiOperation({ summary: 'RunTask: start 1-10 tasks of a task definition' })
  @ApiBody({ schema: toJsonSchema(runTaskSchema) })
  async run(@Param('cluster') cluster: string, @Body() body: unknown) {
    const tasks = await this.tasks.runTask(cluster, body);
    const warnings = launchTargetWarnings(body);
    return {
      tasks: tasks.map((t) => taskView(this.ctx, t)),
      failures: [],
      ...(warnings.length && { warnings }),
    };
  }

  @Get()
  @Action('ecs:ListTasks')
  @ApiOperation({ summary: 'ListTasks / DescribeTasks' })
  @ApiQuery({
    name: 'desiredStatus',
    required: false,
    enum: ['RUNNING', 'PENDING', 'STOPPED'],
    description: 'RUNNING unless given, as in ECS',
  })
  @ApiQuery({ name: 'family', required: false })
  @ApiQuery({ name: 'containerInstance', required: false })
  @ApiQuery({ name: 'startedBy', required: false })
  @ApiQuery({ name: 'serviceName', required: false })
  @ApiQuery({ name: 'maxResults', required: false })
  @ApiQuery({ name: 'nextToken', required: false })
  async list(@Param('cluster') cluster: string, @Query() query: Record<string, string | undefined>) {
    const { tasks, nextToken } = await this.tasks.list(cluster, query);
    return { tasks: tasks.map((t) => taskView(this.ctx, t)), nextToken };
  }

  @Get(':task')
  @Action('ecs:DescribeTasks')
  @ApiOperation({ summary: 'DescribeTasks for one task (id or ARN)' })
  async get(@Param('cluster') cluster: string, @Param('task') task: string) {
    return { task: taskView(this.ctx, await this.tasks.get(cluster, task)) };
  }

  @Post(':task/stop')
  @Action('ecs:StopTask')
  @HttpCode(200)
  @ApiOperation({ summary: 'StopTask: SIGTERM, then SIGKILL after each container’s stopTimeout' })
  @ApiBody({ schema: toJsonSchema(stopTaskSchema) })
  async stop(@Param('cluster') cluster: string, @Param('task') task: string, @Body() body: unknown) {
    return { task: taskView(this.ctx, await this.tasks.stop(cluster, task, body)) };
  }
}
