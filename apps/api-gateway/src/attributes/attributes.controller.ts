import { Body, Controller, Delete, HttpCode, Inject, Param, Put } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { attributesSchema, toJsonSchema, validateAttributes, type ArnContext } from '@berth/domain';
import { ClustersRepository } from '../clusters/clusters.repository.js';
import { ContainerInstancesRepository } from '../container-instances/container-instances.repository.js';
import { ARN_CONTEXT } from '../http/arn-context.js';
import { arns } from '@berth/domain';
import type { Hints } from '@berth/queues';
import { HINTS } from '../infra/providers.js';
import { Action } from '../auth/action.decorator.js';

/** PutAttributes / DeleteAttributes on container instances, as ECS has them. */
@ApiTags('attributes')
@Controller('v1/clusters/:cluster/attributes')
export class AttributesController {
  constructor(
    private readonly clusters: ClustersRepository,
    private readonly instances: ContainerInstancesRepository,
    @Inject(ARN_CONTEXT) private readonly ctx: ArnContext,
    @Inject(HINTS) private readonly hints: Hints,
  ) {}

  @Put()
  @Action('ecs:PutAttributes')
  @HttpCode(200)
  @ApiOperation({ summary: 'PutAttributes: set custom attributes on container instances (all or none)' })
  @ApiBody({ schema: toJsonSchema(attributesSchema) })
  async put(@Param('cluster') clusterName: string, @Body() body: unknown) {
    return this.change(clusterName, body, 'put');
  }

  @Delete()
  @Action('ecs:DeleteAttributes')
  @ApiOperation({ summary: 'DeleteAttributes: clear custom attributes from container instances' })
  @ApiBody({ schema: toJsonSchema(attributesSchema) })
  async delete(@Param('cluster') clusterName: string, @Body() body: unknown) {
    return this.change(clusterName, body, 'delete');
  }

  private async change(clusterName: string, body: unknown, op: 'put' | 'delete') {
    const attributes = validateAttributes(body, op);
    const cluster = await this.clusters.get(clusterName);
    await this.instances.changeAttributes(cluster.id, attributes, op);
    // Tasks waiting on a memberOf constraint may fit now.
    await this.hints.placeInCluster(cluster.id).catch(() => undefined);
    return {
      attributes: attributes.map((a) => ({
        name: a.name,
        value: op === 'put' ? a.value : undefined,
        targetType: 'container-instance',
        targetId: arns.containerInstance(this.ctx, cluster.name, a.targetId),
      })),
    };
  }
}
