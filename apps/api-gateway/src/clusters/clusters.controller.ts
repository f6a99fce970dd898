import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Put, Query } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import {
  createClusterSchema,
  cursors,
  nextPageToken,
  parsePage,
  toJsonSchema,
  updateClusterSettingsSchema,
  validateCreateCluster,
  validateUpdateClusterSettings,
  type ArnContext,
} from '@berth/domain';
import { ClustersRepository } from './clusters.repository.js';
import { clusterView } from '../http/views.js';
import { ARN_CONTEXT } from '../http/arn-context.js';
import { Action } from '../auth/action.decorator.js';

@ApiTags('clusters')
@Controller('v1/clusters')
export class ClustersController {
  constructor(
    private readonly clusters: ClustersRepository,
    @Inject(ARN_CONTEXT) private readonly ctx: ArnContext,
  ) {}

  @Post()
  @Action('ecs:CreateCluster')
  @HttpCode(200)
  @ApiOperation({
    summary: 'CreateCluster: create a cluster (returns the existing one if the name is taken)',
  })
  @ApiBody({ schema: toJsonSchema(createClusterSchema) })
  async create(@Body() body: unknown) {
    const { clusterName } = validateCreateCluster(body);
    const cluster = await this.clusters.create(clusterName);
    const counts = await this.clusters.counts([cluster.id]);
    return { cluster: clusterView(this.ctx, cluster, counts.get(cluster.id)!) };
  }

  @Get()
  @Action('ecs:ListClusters')
  @ApiOperation({ summary: 'ListClusters / DescribeClusters, paged' })
  @ApiQuery({ name: 'maxResults', required: false })
  @ApiQuery({ name: 'nextToken', required: false })
  async list(@Query() query: { maxResults?: string; nextToken?: string }) {
    const { limit, after } = parsePage(query, cursors.name);
    const clusters = await this.clusters.list(limit, after);
    const counts = await this.clusters.counts(clusters.map((c) => c.id));
    return {
      clusters: clusters.map((c) => clusterView(this.ctx, c, counts.get(c.id)!)),
      nextToken: nextPageToken(clusters, limit, (c) => c.name),
    };
  }

  @Get(':cluster')
  @Action('ecs:DescribeClusters')
  @ApiOperation({ summary: 'DescribeClusters for one cluster' })
  async get(@Param('cluster') name: string) {
    const cluster = await this.clusters.get(name);
    const counts = await this.clusters.counts([cluster.id]);
    return { cluster: clusterView(this.ctx, cluster, counts.get(cluster.id)!) };
  }

  @Put(':cluster/settings')
  @Action('ecs:UpdateClusterSettings')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'UpdateClusterSettings: containerInsights, accepted and not acted on (the container policy is PUT .../policy)',
  })
  @ApiBody({ schema: toJsonSchema(updateClusterSettingsSchema) })
  async updateSettings(@Param('cluster') name: string, @Body() body: unknown) {
    validateUpdateClusterSettings(body);
    const cluster = await this.clusters.get(name);
    const counts = await this.clusters.counts([cluster.id]);
    return { cluster: clusterView(this.ctx, cluster, counts.get(cluster.id)!) };
  }

  @Delete(':cluster')
  @Action('ecs:DeleteCluster')
  @ApiOperation({
    summary: 'DeleteCluster: refused with 409 while services, live tasks or registered instances remain',
  })
  async delete(@Param('cluster') name: string) {
    const cluster = await this.clusters.delete(name);
    return {
      cluster: clusterView(
        this.ctx,
        cluster,
        {
          registeredContainerInstancesCount: 0,
          runningTasksCount: 0,
          pendingTasksCount: 0,
          activeServicesCount: 0,
        },
        'INACTIVE',
      ),
    };
  }
}
