import { Body, Controller, Delete, Get, Inject, Param, Patch, Query } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import {
  CONTAINER_INSTANCE_STATUSES,
  toJsonSchema,
  updateContainerInstanceSchema,
  type ArnContext,
} from '@berth/domain';
import type { ContainerInstanceModel } from '@berth/db';
import { ContainerInstancesService } from './container-instances.service.js';
import { containerInstanceView } from '../http/views.js';
import { ARN_CONTEXT } from '../http/arn-context.js';
import { Action } from '../auth/action.decorator.js';

@ApiTags('container-instances')
@Controller('v1/clusters/:cluster/container-instances')
export class ContainerInstancesController {
  constructor(
    private readonly service: ContainerInstancesService,
    @Inject(ARN_CONTEXT) private readonly ctx: ArnContext,
  ) {}

  private async view(clusterName: string, instance: ContainerInstanceModel) {
    const [row] = await this.service.withCounts([instance]);
    return { containerInstance: containerInstanceView(this.ctx, clusterName, instance, row!.counts) };
  }

  @Patch(':id')
  @Action('ecs:UpdateContainerInstancesState')
  @ApiOperation({
    summary: 'UpdateContainerInstancesState: DRAINING (move service tasks off, place nothing new) or ACTIVE',
  })
  @ApiBody({ schema: toJsonSchema(updateContainerInstanceSchema) })
  async update(@Param('cluster') clusterName: string, @Param('id') id: string, @Body() body: unknown) {
    const { cluster, instance } = await this.service.setStatus(clusterName, id, body);
    return this.view(cluster.name, instance);
  }

  @Delete(':id')
  @Action('ecs:DeregisterContainerInstance')
  @ApiOperation({ summary: 'DeregisterContainerInstance: refused while tasks run there unless ?force=true' })
  @ApiQuery({ name: 'force', required: false, type: Boolean })
  async deregister(
    @Param('cluster') clusterName: string,
    @Param('id') id: string,
    @Query('force') force?: string,
  ) {
    const { cluster, instance } = await this.service.deregister(clusterName, id, force === 'true');
    return this.view(cluster.name, instance);
  }

  @Get()
  @Action('ecs:ListContainerInstances')
  @ApiOperation({ summary: 'ListContainerInstances / DescribeContainerInstances, paged' })
  @ApiQuery({ name: 'status', required: false, enum: CONTAINER_INSTANCE_STATUSES })
  @ApiQuery({
    name: 'filter',
    required: false,
    description: 'the cluster query language, as in memberOf: attribute:zone == eu-1a',
  })
  @ApiQuery({ name: 'maxResults', required: false })
  @ApiQuery({ name: 'nextToken', required: false })
  async list(
    @Param('cluster') clusterName: string,
    @Query() query: { status?: string; filter?: string; maxResults?: string; nextToken?: string },
  ) {
    const { cluster, instances, nextToken } = await this.service.list(clusterName, query);
    return {
      containerInstances: instances.map((i) =>
        containerInstanceView(this.ctx, cluster.name, i.instance, i.counts),
      ),
      nextToken,
    };
  }

  @Get(':id')
  @Action('ecs:DescribeContainerInstances')
  @ApiOperation({ summary: 'DescribeContainerInstances for one instance (id or ARN)' })
  async get(@Param('cluster') clusterName: string, @Param('id') id: string) {
    const { cluster, instance } = await this.service.get(clusterName, id);
    return {
      containerInstance: containerInstanceView(this.ctx, cluster.name, instance.instance, instance.counts),
    };
  }
}
