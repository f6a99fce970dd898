import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { Action } from '../auth/action.decorator.js';
import { StatsService } from './stats.service.js';

/** Resource use from the agents' stats reports: reads, audited only when refused. */
@ApiTags('stats')
@Controller('v1/clusters/:cluster')
export class StatsController {
  constructor(private readonly stats: StatsService) {}

  @Get('tasks/:task/stats')
  @Action('berth:DescribeTaskStats')
  @ApiOperation({
    summary:
      "A task's latest CPU, memory and network use, per container and in total, and its CPU and memory utilisation as a percentage of what it reserves",
  })
  async task(@Param('cluster') cluster: string, @Param('task') task: string) {
    return this.stats.task(cluster, task);
  }

  @Get('services/:service/stats')
  @Action('berth:DescribeServiceStats')
  @ApiOperation({
    summary:
      "A service's average CPU and memory utilisation over a window (CloudWatch's ECS CPUUtilization / MemoryUtilization): its RUNNING tasks' use as a percentage of what they reserve",
  })
  @ApiQuery({
    name: 'windowSeconds',
    required: false,
    description: 'the window, 1-3600 seconds; 60 unless given',
  })
  async service(
    @Param('cluster') cluster: string,
    @Param('service') service: string,
    @Query('windowSeconds') windowSeconds?: string,
  ) {
    return this.stats.service(cluster, service, windowSeconds);
  }
}
