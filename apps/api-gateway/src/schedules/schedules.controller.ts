import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Param,
  Patch,
  Post,
  Put,
  Query,
} from '@nestjs/common';
import { ApiBody, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { scheduleSchema, toJsonSchema, type ArnContext } from '@berth/domain';
import { Action } from '../auth/action.decorator.js';
import { ARN_CONTEXT } from '../http/arn-context.js';
import { scheduleRunView, scheduleView } from '../http/views.js';
import { SchedulesService } from './schedules.service.js';

/**
 * Scheduled tasks, in EventBridge Scheduler's model: a schedule expression in a time zone whose
 * every firing makes one RunTask in the cluster (docs/scheduled-tasks.md). The body is a RunTask
 * request (taskDefinition, count, overrides, placement, tags...) plus the schedule's own fields.
 */
@ApiTags('schedules')
@Controller('v1/clusters/:cluster/schedules')
export class SchedulesController {
  constructor(
    private readonly schedules: SchedulesService,
    @Inject(ARN_CONTEXT) private readonly ctx: ArnContext,
  ) {}

  @Post()
  @HttpCode(200)
  @Action('scheduler:CreateSchedule', { alsoRequires: ['ecs:RunTask'] })
  @ApiOperation({ summary: 'Create a schedule whose firings run tasks: cron(...), rate(...) or at(...)' })
  @ApiBody({ schema: toJsonSchema(scheduleSchema) })
  async create(@Param('cluster') clusterName: string, @Body() body: unknown) {
    const { cluster, schedule } = await this.schedules.create(clusterName, body);
    return { schedule: scheduleView(this.ctx, cluster.name, schedule) };
  }

  @Get()
  @Action('scheduler:ListSchedules')
  @ApiOperation({ summary: "The cluster's schedules in name order" })
  @ApiQuery({ name: 'maxResults', required: false })
  @ApiQuery({ name: 'nextToken', required: false })
  async list(
    @Param('cluster') clusterName: string,
    @Query() query: { maxResults?: string; nextToken?: string },
  ) {
    const { cluster, schedules, nextToken } = await this.schedules.list(clusterName, query);
    return { schedules: schedules.map((s) => scheduleView(this.ctx, cluster.name, s)), nextToken };
  }

  @Get(':schedule')
  @Action('scheduler:GetSchedule')
  @ApiOperation({ summary: 'A schedule, its next firing and its last runs' })
  async get(@Param('cluster') clusterName: string, @Param('schedule') name: string) {
    const { cluster, schedule, runs } = await this.schedules.get(clusterName, name);
    return {
      schedule: {
        ...scheduleView(this.ctx, cluster.name, schedule),
        lastRuns: runs.map((r) => scheduleRunView(this.ctx, cluster.name, r)),
      },
    };
  }

  @Get(':schedule/runs')
  @Action('scheduler:ListScheduleRuns')
  @ApiOperation({ summary: "A schedule's firings, newest first: the tasks each started, or why none" })
  @ApiQuery({ name: 'maxResults', required: false })
  async runs(
    @Param('cluster') clusterName: string,
    @Param('schedule') name: string,
    @Query() query: { maxResults?: string },
  ) {
    const { cluster, runs } = await this.schedules.runs(clusterName, name, query);
    return { runs: runs.map((r) => scheduleRunView(this.ctx, cluster.name, r)) };
  }

  @Put(':schedule')
  @Action('scheduler:UpdateSchedule', { alsoRequires: ['ecs:RunTask'] })
  @ApiOperation({
    summary: 'Replace a schedule, as UpdateSchedule does (fields left out take their defaults)',
  })
  @ApiBody({ schema: toJsonSchema(scheduleSchema) })
  async replace(
    @Param('cluster') clusterName: string,
    @Param('schedule') name: string,
    @Body() body: unknown,
  ) {
    const { cluster, schedule } = await this.schedules.update(clusterName, name, body, 'replace');
    return { schedule: scheduleView(this.ctx, cluster.name, schedule) };
  }

  @Patch(':schedule')
  @Action('scheduler:UpdateSchedule', { alsoRequires: ['ecs:RunTask'] })
  @ApiOperation({ summary: 'Change some fields of a schedule, e.g. {"state": "DISABLED"}' })
  async patch(@Param('cluster') clusterName: string, @Param('schedule') name: string, @Body() body: unknown) {
    const { cluster, schedule } = await this.schedules.update(clusterName, name, body, 'merge');
    return { schedule: scheduleView(this.ctx, cluster.name, schedule) };
  }

  @Delete(':schedule')
  @Action('scheduler:DeleteSchedule')
  @ApiOperation({ summary: 'Delete a schedule and its runs; tasks it started keep running' })
  async delete(@Param('cluster') clusterName: string, @Param('schedule') name: string) {
    const { cluster, schedule } = await this.schedules.delete(clusterName, name);
    return { schedule: scheduleView(this.ctx, cluster.name, schedule) };
  }
}
