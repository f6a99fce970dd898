import { Body, Controller, Get, HttpCode, Inject, Param, Put } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { containerPolicySchema, toJsonSchema, type ArnContext } from '@berth/domain';
import { ClustersService } from './clusters.service.js';
import { containerPolicyView } from '../http/views.js';
import { ARN_CONTEXT } from '../http/arn-context.js';
import { Action } from '../auth/action.decorator.js';

/** A cluster's container policy (docs/container-policy.md): what its task definitions may ask of a host. */
@ApiTags('clusters')
@Controller('v1/clusters/:cluster/policy')
export class ClusterPolicyController {
  constructor(
    private readonly clusters: ClustersService,
    @Inject(ARN_CONTEXT) private readonly ctx: ArnContext,
  ) {}

  @Get()
  @Action('berth:DescribeClusterPolicy')
  @ApiOperation({
    summary: "DescribeClusterPolicy: the cluster's container policy level and allowed host paths",
  })
  async get(@Param('cluster') name: string) {
    return { containerPolicy: containerPolicyView(this.ctx, await this.clusters.policy(name)) };
  }

  @Put()
  @Action('berth:UpdateClusterPolicy')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'UpdateClusterPolicy: replace the container policy; new tasks are checked against it, running ones carry on',
  })
  @ApiBody({ schema: toJsonSchema(containerPolicySchema) })
  async put(@Param('cluster') name: string, @Body() body: unknown) {
    const cluster = await this.clusters.putPolicy(name, body);
    return { containerPolicy: containerPolicyView(this.ctx, cluster) };
  }
}
