import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import {
  InvalidParameterError,
  cursors,
  nextPageToken,
  parsePage,
  parseTaskDefinitionRef,
  registerTaskDefinitionSchema,
  toJsonSchema,
  validateTaskDefinition,
  type ArnContext,
} from '@berth/domain';
import { parseConstraints } from '@berth/scheduler-core';
import { TaskDefinitionsRepository } from './task-definitions.repository.js';
import { taskDefinitionView } from '../http/views.js';
import { ARN_CONTEXT } from '../http/arn-context.js';
import { Action } from '../auth/action.decorator.js';

@ApiTags('task-definitions')
@Controller('v1/task-definitions')
export class TaskDefinitionsController {
  constructor(
    private readonly taskDefinitions: TaskDefinitionsRepository,
    @Inject(ARN_CONTEXT) private readonly ctx: ArnContext,
  ) {}

  @Post()
  @Action('ecs:RegisterTaskDefinition')
  @HttpCode(200)
  @ApiOperation({ summary: 'RegisterTaskDefinition: creates the next revision of the family' })
  @ApiBody({ schema: toJsonSchema(registerTaskDefinitionSchema) })
  async register(@Body() body: unknown) {
    const valid = validateTaskDefinition(body);
    // ECS takes only memberOf constraints in a task definition; tasks add their own at run time.
    const constraints = parseConstraints(valid.definition.placementConstraints);
    const distinct = constraints.findIndex((c) => c.type === 'distinctInstance');
    if (distinct >= 0) {
      throw new InvalidParameterError(
        `placementConstraints[${distinct}].type: a task definition takes only memberOf constraints; give distinctInstance to RunTask or the service`,
        `placementConstraints[${distinct}].type`,
      );
    }
    const td = await this.taskDefinitions.register(valid);
    // Fields kept but not acted on are reported, never fatal (ECS JSON registers as it is).
    return {
      taskDefinition: taskDefinitionView(this.ctx, td),
      tags: valid.definition.tags ?? [],
      warnings: valid.warnings,
    };
  }

  @Get()
  @Action('ecs:ListTaskDefinitions')
  @ApiOperation({ summary: 'ListTaskDefinitions, with the definitions, paged' })
  @ApiQuery({ name: 'familyPrefix', required: false })
  @ApiQuery({ name: 'status', required: false, enum: ['ACTIVE', 'INACTIVE'] })
  @ApiQuery({ name: 'maxResults', required: false })
  @ApiQuery({ name: 'nextToken', required: false })
  async list(
    @Query() query: { familyPrefix?: string; status?: string; maxResults?: string; nextToken?: string },
  ) {
    const { familyPrefix, status } = query;
    if (status !== undefined && status !== 'ACTIVE' && status !== 'INACTIVE') {
      throw new InvalidParameterError('status: must be ACTIVE or INACTIVE', 'status');
    }
    const { limit, after } = parsePage(query, cursors.familyRevision);
    const tds = await this.taskDefinitions.list({ familyPrefix, status }, limit, after);
    return {
      taskDefinitions: tds.map((td) => taskDefinitionView(this.ctx, td)),
      nextToken: nextPageToken(tds, limit, (td) => [td.family, td.revision]),
    };
  }

  @Get(':ref')
  @Action('ecs:DescribeTaskDefinition')
  @ApiOperation({ summary: 'DescribeTaskDefinition: `family` (latest ACTIVE) or `family:revision`' })
  async get(@Param('ref') ref: string) {
    const { family, revision } = parseTaskDefinitionRef(ref);
    return {
      taskDefinition: taskDefinitionView(this.ctx, await this.taskDefinitions.find(family, revision)),
    };
  }

  @Delete(':ref')
  @Action('ecs:DeregisterTaskDefinition')
  @ApiOperation({ summary: 'DeregisterTaskDefinition: INACTIVE; running tasks carry on, no new ones start' })
  async deregister(@Param('ref') ref: string) {
    const { family, revision } = parseTaskDefinitionRef(ref);
    if (revision === undefined) {
      throw new InvalidParameterError(
        'taskDefinition: deregistering needs family:revision',
        'taskDefinition',
      );
    }
    return {
      taskDefinition: taskDefinitionView(this.ctx, await this.taskDefinitions.deregister(family, revision)),
    };
  }
}
