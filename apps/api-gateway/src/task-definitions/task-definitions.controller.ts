import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import {
  ClientError,
  NotFoundError,
  registerTaskDefinitionSchema,
  toJsonSchema,
  type ArnContext,
} from '@berth/domain';
import { TaskDefinitionsService } from './task-definitions.service.js';
import { taskDefinitionView } from '../http/views.js';
import { ARN_CONTEXT } from '../http/arn-context.js';
import { Action } from '../auth/action.decorator.js';

@ApiTags('task-definitions')
@Controller('v1/task-definitions')
export class TaskDefinitionsController {
  constructor(
    private readonly taskDefinitions: TaskDefinitionsService,
    @Inject(ARN_CONTEXT) private readonly ctx: ArnContext,
  ) {}

  @Post()
  @Action('ecs:RegisterTaskDefinition')
  @HttpCode(200)
  @ApiOperation({ summary: 'RegisterTaskDefinition: creates the next revision of the family' })
  @ApiBody({ schema: toJsonSchema(registerTaskDefinitionSchema) })
  async register(@Body() body: unknown) {
    const { taskDefinition, tags, warnings } = await this.taskDefinitions.register(body);
    // Fields kept but not acted on are reported, never fatal (ECS JSON registers as it is).
    return { taskDefinition: taskDefinitionView(this.ctx, taskDefinition), tags, warnings };
  }

  @Get()
  @Action('ecs:ListTaskDefinitions')
  @ApiOperation({ summary: 'ListTaskDefinitions, with the definitions, paged' })
  @ApiQuery({ name: 'familyPrefix', required: false })
  @ApiQuery({
    name: 'status',
    required: false,
    enum: ['ACTIVE', 'INACTIVE', 'DELETE_IN_PROGRESS', 'ALL'],
    description: 'ACTIVE unless given, as in ECS; ALL for every revision',
  })
  @ApiQuery({ name: 'maxResults', required: false })
  @ApiQuery({ name: 'nextToken', required: false })
  async list(
    @Query() query: { familyPrefix?: string; status?: string; maxResults?: string; nextToken?: string },
  ) {
    const { taskDefinitions, nextToken } = await this.taskDefinitions.list(query);
    return { taskDefinitions: taskDefinitions.map((td) => taskDefinitionView(this.ctx, td)), nextToken };
  }

  @Get(':ref')
  @Action('ecs:DescribeTaskDefinition')
  @ApiOperation({ summary: 'DescribeTaskDefinition: `family` (latest ACTIVE) or `family:revision`' })
  async get(@Param('ref') ref: string) {
    return { taskDefinition: taskDefinitionView(this.ctx, await this.taskDefinitions.describe(ref)) };
  }

  @Delete(':ref')
  @Action('ecs:DeregisterTaskDefinition')
  @ApiOperation({ summary: 'DeregisterTaskDefinition: INACTIVE; running tasks carry on, no new ones start' })
  async deregister(@Param('ref') ref: string) {
    return { taskDefinition: taskDefinitionView(this.ctx, await this.taskDefinitions.deregister(ref)) };
  }

  @Post(':ref/delete')
  @Action('ecs:DeleteTaskDefinitions')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'DeleteTaskDefinitions for one INACTIVE revision: DELETE_IN_PROGRESS, removed once no task or service refers to it',
  })
  async delete(@Param('ref') ref: string) {
    const { deleted, failures } = await this.taskDefinitions.deleteMany([ref]);
    const [failure] = failures;
    if (failure?.reason === 'MISSING')
      throw new NotFoundError('ClientException', `task definition ${ref} does not exist`, 'taskDefinition');
    if (failure)
      throw new ClientError('ClientException', `task definition ${ref}: ${failure.detail ?? failure.reason}`);
    return { taskDefinition: taskDefinitionView(this.ctx, deleted[0]!) };
  }
}
