import { Body, Controller, Delete, Get, HttpCode, Param, Put } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { putScalingSchema, toJsonSchema } from '@berth/domain';
import { Action } from '../auth/action.decorator.js';
import { ScalingService } from './scaling.service.js';

/** Service auto scaling, named as Application Auto Scaling's actions (docs/autoscaling.md). */
@ApiTags('services')
@Controller('v1/clusters/:cluster/services/:service/scaling')
export class ScalingController {
  constructor(private readonly scaling: ScalingService) {}

  @Put()
  @Action('application-autoscaling:RegisterScalableTarget')
  @HttpCode(200)
  @ApiOperation({
    summary:
      "Sets the service's scaling: desiredCount kept between minCapacity and maxCapacity, target tracking policies on its average CPU or memory utilisation or requests per target, scheduled actions that set the bounds at set times",
  })
  @ApiBody({ schema: toJsonSchema(putScalingSchema) })
  async put(@Param('cluster') cluster: string, @Param('service') service: string, @Body() body: unknown) {
    return this.scaling.put(cluster, service, body);
  }

  @Get()
  @Action('application-autoscaling:DescribeScalableTargets')
  @ApiOperation({ summary: "The service's scaling, with when it last scaled out and in" })
  async get(@Param('cluster') cluster: string, @Param('service') service: string) {
    return this.scaling.get(cluster, service);
  }

  @Delete()
  @Action('application-autoscaling:DeregisterScalableTarget')
  @ApiOperation({
    summary: "Removes the service's scaling, answering it as it was: desiredCount stays as it is",
  })
  async delete(@Param('cluster') cluster: string, @Param('service') service: string) {
    return this.scaling.delete(cluster, service);
  }
}
