import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import {
  CONTAINER_INSTANCE_STATUSES,
  InvalidParameterError,
  idFromArnOrId,
  type ArnContext,
} from '@berth/domain';
import { ClustersRepository } from '../clusters/clusters.repository.js';
import { ContainerInstancesRepository } from './container-instances.repository.js';
import { containerInstanceView } from '../http/views.js';
import { ARN_CONTEXT } from '../http/arn-context.js';

@ApiTags('container-instances')
@Controller('v1/clusters/:cluster/container-instances')
export class ContainerInstancesController {
  constructor(
    private readonly clusters: ClustersRepository,
    private readonly instances: ContainerInstancesRepository,
    @Inject(ARN_CONTEXT) private readonly ctx: ArnContext,
  ) {}

  @Get()
  @ApiOperation({ summary: 'ListContainerInstances / DescribeContainerInstances' })
  @ApiQuery({ name: 'status', required: false, enum: CONTAINER_INSTANCE_STATUSES })
  async list(@Param('cluster') clusterName: string, @Query('status') status?: string) {
    if (status !== undefined && !(CONTAINER_INSTANCE_STATUSES as readonly string[]).includes(status)) {
      throw new InvalidParameterError(
        `status: must be one of ${CONTAINER_INSTANCE_STATUSES.join(', ')}`,
        'status',
      );
    }
    const cluster = await this.clusters.get(clusterName);
    const instances = await this.instances.list(cluster.id, status);
    const counts = await this.instances.counts(instances.map((i) => i.id));
    return {
      containerInstances: instances.map((i) =>
        containerInstanceView(this.ctx, cluster.name, i, counts.get(i.id)!),
      ),
    };
  }

  @Get(':id')
  @ApiOperation({ summary: 'DescribeContainerInstances for one instance (id or ARN)' })
  async get(@Param('cluster') clusterName: string, @Param('id') id: string) {
    const cluster = await this.clusters.get(clusterName);
    const instance = await this.instances.get(cluster.id, idFromArnOrId(id));
    const counts = await this.instances.counts([instance.id]);
    return {
      containerInstance: containerInstanceView(this.ctx, cluster.name, instance, counts.get(instance.id)!),
    };
  }
}
