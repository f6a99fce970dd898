import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import {
  createServiceSchema,
  launchTargetWarnings,
  toJsonSchema,
  updateServiceSchema,
  type ArnContext,
} from '@berth/domain';
import { ServicesService } from './services.service.js';
import { serviceEventView, serviceView } from '../http/views.js';
import { ARN_CONTEXT } from '../http/arn-context.js';
import type { ServiceWithRelations } from './services.repository.js';
import { Action } from '../auth/action.decorator.js';

@ApiTags('services')
@Controller('v1/clusters/:cluster/services')
export class ServicesController {
  constructor(
    private readonly services: ServicesService,
    @Inject(ARN_CONTEXT) private readonly ctx: ArnContext,
  ) {}

  private async view(service: ServiceWithRelations) {
    return serviceView(this.ctx, service, await this.services.taskCounts([service.id]));
  }

  @Post()
  @Action('ecs:CreateService')
  @HttpCode(200)
  @ApiOperation({ summary: 'CreateService: keep desiredCount tasks of a task definition running' })
  @ApiBody({ schema: toJsonSchema(createServiceSchema) })
  async create(@Param('cluster') cluster: string, @Body() body: unknown) {
    const service = await this.view(await this.services.create(cluster, body));
    const warnings = launchTargetWarnings(body);
    return { service, ...(warnings.length && { warnings }) };
  }

  @Get()
  @Action('ecs:ListServices')
  @ApiOperation({ summary: 'ListServices / DescribeServices (ACTIVE and DRAINING), paged' })
  @ApiQuery({ name: 'maxResults', required: false })
  @ApiQuery({ name: 'nextToken', required: false })
  async list(@Param('cluster') cluster: string, @Query() query: { maxResults?: string; nextToken?: string }) {
    const { services, nextToken } = await this.services.list(cluster, query);
    const counts = await this.services.taskCounts(services.map((s) => s.id));
    return {
      nextToken,
      services: services.map((s) =>
        serviceView(
          this.ctx,
          s,
          counts.filter((c) => s.deployments.some((d) => d.id === c.deploymentId)),
        ),
      ),
    };
  }

  @Get(':service')
  @Action('ecs:DescribeServices')
  @ApiOperation({ summary: 'DescribeServices for one service, with its deployments and latest events' })
  async get(@Param('cluster') cluster: string, @Param('service') name: string) {
    return { service: await this.view((await this.services.get(cluster, name)).service) };
  }

  @Patch(':service')
  @Action('ecs:UpdateService')
  @ApiOperation({
    summary: 'UpdateService: new task definition or forceNewDeployment rolls out; desiredCount scales',
  })
  @ApiBody({ schema: toJsonSchema(updateServiceSchema) })
  async update(@Param('cluster') cluster: string, @Param('service') name: string, @Body() body: unknown) {
    return { service: await this.view(await this.services.update(cluster, name, body)) };
  }

  @Delete(':service')
  @Action('ecs:DeleteService')
  @ApiOperation({ summary: 'DeleteService: refused while desiredCount > 0 unless ?force=true' })
  @ApiQuery({ name: 'force', required: false, type: Boolean })
  async delete(
    @Param('cluster') cluster: string,
    @Param('service') name: string,
    @Query('force') force?: string,
  ) {
    return { service: await this.view(await this.services.delete(cluster, name, force === 'true')) };
  }

  @Get(':service/events')
  @Action('ecs:DescribeServices')
  @ApiOperation({ summary: 'The service events, newest first, paged' })
  @ApiQuery({ name: 'maxResults', required: false })
  @ApiQuery({ name: 'nextToken', required: false })
  async events(
    @Param('cluster') cluster: string,
    @Param('service') name: string,
    @Query() query: { maxResults?: string; nextToken?: string },
  ) {
    const { events, nextToken } = await this.services.events(cluster, name, query);
    return { events: events.map(serviceEventView), nextToken };
  }
}
