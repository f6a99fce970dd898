import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { createTargetGroupSchema, toJsonSchema, type ArnContext } from '@berth/domain';
import { Action } from '../auth/action.decorator.js';
import { ARN_CONTEXT } from '../http/arn-context.js';
import { LoadBalancingService } from './load-balancing.service.js';
import { targetGroupView, targetHealthView } from './load-balancing.views.js';

/**
 * ELB target groups: the host:port targets a listener sends traffic to, with the health check
 * the load balancers run. `{targetGroup}` is a name or a target group ARN (URL-encoded).
 */
@ApiTags('load balancing')
@Controller('v1/target-groups')
export class TargetGroupsController {
  constructor(
    private readonly lb: LoadBalancingService,
    @Inject(ARN_CONTEXT) private readonly ctx: ArnContext,
  ) {}

  @Post()
  @HttpCode(200)
  @Action('elasticloadbalancing:CreateTargetGroup')
  @ApiOperation({ summary: 'Create a target group (HTTP or TCP) with its health check' })
  @ApiBody({ schema: toJsonSchema(createTargetGroupSchema) })
  async create(@Body() body: unknown) {
    const tg = await this.lb.createTargetGroup(body);
    return {
      targetGroup: targetGroupView(this.ctx, tg),
      targetGroupArn: targetGroupView(this.ctx, tg).targetGroupArn,
    };
  }

  @Get()
  @Action('elasticloadbalancing:DescribeTargetGroups')
  @ApiOperation({ summary: 'Every target group, in name order' })
  async list() {
    return { targetGroups: (await this.lb.listTargetGroups()).map((tg) => targetGroupView(this.ctx, tg)) };
  }

  @Get(':targetGroup')
  @Action('elasticloadbalancing:DescribeTargetGroups')
  @ApiOperation({ summary: 'One target group' })
  async describe(@Param('targetGroup') ref: string) {
    return { targetGroup: targetGroupView(this.ctx, await this.lb.getTargetGroup(ref)) };
  }

  @Delete(':targetGroup')
  @Action('elasticloadbalancing:DeleteTargetGroup')
  @ApiOperation({ summary: 'Delete a target group; 409 while a service or a listener uses it' })
  async delete(@Param('targetGroup') ref: string) {
    return { targetGroup: targetGroupView(this.ctx, await this.lb.deleteTargetGroup(ref)) };
  }

  @Get(':targetGroup/health')
  @Action('elasticloadbalancing:DescribeTargetHealth')
  @ApiOperation({
    summary:
      "The group's targets: task, host:port, state (initial, healthy, unhealthy, draining, unused) and reason",
  })
  async health(@Param('targetGroup') ref: string) {
    const { group, targets } = await this.lb.targetHealth(ref);
    return {
      targetGroupArn: targetGroupView(this.ctx, group).targetGroupArn,
      targetHealthDescriptions: targets.map((t) => targetHealthView(this.ctx, t.target, t.health)),
    };
  }

  @Post(':targetGroup/targets')
  @HttpCode(200)
  @Action('elasticloadbalancing:RegisterTargets')
  @ApiOperation({ summary: 'Register targets by hand: {targets: [{id: host, port}]}' })
  async register(@Param('targetGroup') ref: string, @Body() body: unknown) {
    await this.lb.registerTargets(ref, body);
    return {};
  }

  @Post(':targetGroup/targets/deregister')
  @HttpCode(200)
  @Action('elasticloadbalancing:DeregisterTargets')
  @ApiOperation({ summary: 'Deregister targets: they drain for deregistrationDelaySeconds, then go' })
  async deregister(@Param('targetGroup') ref: string, @Body() body: unknown) {
    await this.lb.deregisterTargets(ref, body);
    return {};
  }
}
