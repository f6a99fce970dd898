import { Body, Controller, Get, HttpCode, Param, Put, Query } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { toJsonSchema, updateTaskProtectionSchema } from '@berth/domain';
import { Action } from '../auth/action.decorator.js';
import { TaskProtectionService } from './task-protection.service.js';

/** ECS task scale-in protection: `{protectedTasks: [{taskArn, protectionEnabled, expirationDate}], failures}`. */
@ApiTags('tasks')
@Controller('v1/clusters/:cluster/task-protection')
export class TaskProtectionController {
  constructor(private readonly protection: TaskProtectionService) {}

  @Put()
  @Action('ecs:UpdateTaskProtection')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'UpdateTaskProtection: protect 1-10 service tasks from scale-in and deployments for expiresInMinutes (1-2880, default 120), or clear it',
  })
  @ApiBody({ schema: toJsonSchema(updateTaskProtectionSchema) })
  async update(@Param('cluster') cluster: string, @Body() body: unknown) {
    return this.protection.update(cluster, body);
  }

  @Get()
  @Action('ecs:GetTaskProtection')
  @ApiOperation({ summary: 'GetTaskProtection: the protection of the tasks named, or every protected task' })
  @ApiQuery({ name: 'tasks', required: false, description: 'task ids or ARNs, separated by commas' })
  async get(@Param('cluster') cluster: string, @Query('tasks') tasks?: string) {
    return this.protection.get(
      cluster,
      tasks === undefined ? {} : { tasks: tasks.split(',').filter((t) => t.length > 0) },
    );
  }
}
