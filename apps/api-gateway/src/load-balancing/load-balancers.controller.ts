import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Patch, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { ArnContext } from '@berth/domain';
import { Action } from '../auth/action.decorator.js';
import { ARN_CONTEXT } from '../http/arn-context.js';
import { LoadBalancingService } from './load-balancing.service.js';
import { loadBalancerView } from './load-balancing.views.js';

/**
 * ELB load balancers and their listeners. Each load-balancer app (apps/load-balancer) serves one
 * load balancer, by name, on its edge machine. `{loadBalancer}` is a name or an ARN.
 */
@ApiTags('load balancing')
@Controller('v1/load-balancers')
export class LoadBalancersController {
  constructor(
    private readonly lb: LoadBalancingService,
    @Inject(ARN_CONTEXT) private readonly ctx: ArnContext,
  ) {}

  private views(r: Awaited<ReturnType<LoadBalancingService['listLoadBalancers']>>) {
    return r.loadBalancers.map((lb) => loadBalancerView(this.ctx, lb, r.targetGroupNames));
  }

  @Post()
  @HttpCode(200)
  @Action('elasticloadbalancing:CreateLoadBalancer')
  @ApiOperation({
    summary: 'Create a load balancer: {name, listeners: [{port, protocol, defaultTargetGroupArn, rules?}]}',
  })
  async create(@Body() body: unknown) {
    const [view] = this.views(await this.lb.createLoadBalancer(body));
    return { loadBalancer: view, loadBalancerArn: view!.loadBalancerArn };
  }

  @Get()
  @Action('elasticloadbalancing:DescribeLoadBalancers')
  @ApiOperation({ summary: 'Every load balancer with its listeners, in name order' })
  async list() {
    return { loadBalancers: this.views(await this.lb.listLoadBalancers()) };
  }

  @Get(':loadBalancer')
  @Action('elasticloadbalancing:DescribeLoadBalancers')
  @ApiOperation({ summary: 'One load balancer with its listeners' })
  async describe(@Param('loadBalancer') name: string) {
    return { loadBalancer: this.views(await this.lb.getLoadBalancer(name))[0] };
  }

  @Patch(':loadBalancer')
  @Action('elasticloadbalancing:ModifyListener')
  @ApiOperation({ summary: 'Replace the listeners: {listeners: [...]}; a listener keeps its port' })
  async modify(@Param('loadBalancer') name: string, @Body() body: unknown) {
    return { loadBalancer: this.views(await this.lb.modifyListeners(name, body))[0] };
  }

  @Delete(':loadBalancer')
  @Action('elasticloadbalancing:DeleteLoadBalancer')
  @ApiOperation({ summary: 'Delete a load balancer and its listeners (its target groups stay)' })
  async delete(@Param('loadBalancer') name: string) {
    return { loadBalancer: this.views(await this.lb.deleteLoadBalancer(name))[0] };
  }
}
