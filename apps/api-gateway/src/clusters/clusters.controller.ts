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
import {
  createClusterSchema,
  toJsonSchema,
  updateClusterSettingsSchema,
  type ArnContext,
} from '@berth/domain';
import { ClustersService, type ClusterWithCounts } from './clusters.service.js';
import { clusterView } from '../http/views.js';
import { ARN_CONTEXT } from '../http/arn-context.js';
import { Action } from '../auth/action.decorator.js';

@ApiTags('clusters')
@Controller('v1/clusters')
export class ClustersController {
  constructor(
    private readonly clusters: ClustersService,
    @Inject(ARN_CONTEXT) private readonly ctx: ArnContext,
  ) {}

  private view({ cluster, counts }: ClusterWithCounts, status?: string) {
    return clusterView(this.ctx, cluster, counts, status);
  }

  @Post()
  @Action('ecs:CreateCluster')
  @HttpCode(200)
  @ApiOperation({
    summary: 'CreateCluster: create a cluster (returns the existing one if the name is taken)',
  })
  @ApiBody({ schema: toJsonSchema(createClusterSchema) })
  async create(@Body() body: unknown) {
    return { cluster: this.view(await this.clusters.create(body)) };
  }

  @Get()
  @Action('ecs:ListClusters')
  @ApiOperation({ summary: 'ListClusters / DescribeClusters, paged' })
  @ApiQuery({ name: 'maxResults', required: false })
  @ApiQuery({ name: 'nextToken', required: false })
  async list(@Query() query: { maxResults?: string; nextToken?: string }) {
    const { clusters, nextToken } = await this.clusters.list(query);
    return { clusters: clusters.map((c) => this.view(c)), nextToken };
  }

  @Get(':cluster')
  @Action('ecs:DescribeClusters')
  @ApiOperation({ summary: 'DescribeClusters for one cluster' })
  async get(@Param('cluster') name: string) {
    return { cluster: this.view(await this.clusters.get(name)) };
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
    return { cluster: this.view(await this.clusters.updateSettings(name, body)) };
  }

  @Patch(':cluster')
  @Action('ecs:UpdateCluster')
  @ApiOperation({
    summary: 'UpdateCluster: settings and configuration, kept and returned, not acted on',
  })
  async update(@Param('cluster') name: string, @Body() body: unknown) {
    return { cluster: this.view(await this.clusters.update(name, body)) };
  }

  @Delete(':cluster')
  @Action('ecs:DeleteCluster')
  @ApiOperation({
    summary: 'DeleteCluster: refused with 409 while services, live tasks or registered instances remain',
  })
  async delete(@Param('cluster') name: string) {
    return { cluster: this.view(await this.clusters.delete(name), 'INACTIVE') };
  }
}
