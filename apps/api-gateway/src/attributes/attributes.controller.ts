import { Body, Controller, Delete, HttpCode, Inject, Param, Put } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { attributesSchema, toJsonSchema, type ArnContext } from '@berth/domain';
import { ContainerInstancesService } from '../container-instances/container-instances.service.js';
import { ARN_CONTEXT } from '../http/arn-context.js';
import { attributeView } from '../http/views.js';
import { Action } from '../auth/action.decorator.js';

/** PutAttributes / DeleteAttributes on container instances, as ECS has them. */
@ApiTags('attributes')
@Controller('v1/clusters/:cluster/attributes')
export class AttributesController {
  constructor(
    private readonly instances: ContainerInstancesService,
    @Inject(ARN_CONTEXT) private readonly ctx: ArnContext,
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
    const { cluster, attributes } = await this.instances.changeAttributes(clusterName, body, op);
    return { attributes: attributes.map((a) => attributeView(this.ctx, cluster.name, a, op)) };
  }
}
