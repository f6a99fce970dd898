import { Inject, Injectable } from '@nestjs/common';
import {
  arns,
  serviceTaskDeregistrationRefusal,
  storedHealthCheck,
  targetGroupNameFromRef,
  targetState,
  validateCreateLoadBalancer,
  validateCreateTargetGroup,
  validateModifyListeners,
  validateTargets,
  type ArnContext,
} from '@berth/domain';
import { ARN_CONTEXT } from '../http/arn-context.js';
import { LoadBalancingRepository, type LoadBalancerWithListeners } from './load-balancing.repository.js';
import { storedRules } from './load-balancing.views.js';

/**
 * Target groups and load balancers (ELB's CreateTargetGroup ... DeleteLoadBalancer). The data
 * plane (apps/load-balancer) follows these rows; this service only checks and stores them.
 */
@Injectable()
export class LoadBalancingService {
  constructor(
    private readonly repo: LoadBalancingRepository,
    @Inject(ARN_CONTEXT) private readonly ctx: ArnContext,
  ) {}

  createTargetGroup(body: unknown) {
    return this.repo.createTargetGroup(validateCreateTargetGroup(body));
  }

  listTargetGroups() {
    return this.repo.listTargetGroups();
  }

  getTargetGroup(ref: string) {
    return this.repo.getTargetGroup(targetGroupNameFromRef(ref, 'targetGroup'));
  }

  deleteTargetGroup(ref: string) {
    return this.repo.deleteTargetGroup(targetGroupNameFromRef(ref, 'targetGroup'));
  }

  /** DescribeTargetHealth: each target with the state derived from every reporter's last word. */
  async targetHealth(ref: string, now = new Date()) {
    const group = await this.getTargetGroup(ref);
    const { intervalSeconds, unhealthyThresholdCount } = storedHealthCheck(group.healthCheck);
    const targets = await this.repo.targets(group.id);
    return {
      group,
      targets: targets.map((t) => ({
        target: t,
        health: targetState({
          drainingSince: t.drainingSince,
          registeredAt: t.createdAt,
          groupInUse: group.loadBalancerNames.length > 0,
          intervalSeconds,
          unhealthyThresholdCount,
          reports: t.health,
          now,
        }),
      })),
    };
  }

  async registerTargets(ref: string, body: unknown) {
    const targets = validateTargets(body);
    const group = await this.getTargetGroup(ref);
    await this.repo.registerTargets(group.id, targets);
    return group;
  }

  /** DeregisterTargets: hand-registered targets only; a service task's target is refused (400). */
  async deregisterTargets(ref: string, body: unknown) {
    const targets = validateTargets(body);
    const group = await this.getTargetGroup(ref);
    const owned = await this.repo.serviceTaskTargets(group.id, targets);
    const refusal = serviceTaskDeregistrationRefusal(
      targets,
      owned.map((t) => ({
        host: t.host,
        port: t.port,
        taskArn: arns.task(this.ctx, t.task!.cluster.name, t.task!.id),
        stopTaskPath: `/v1/clusters/${t.task!.cluster.name}/tasks/${t.task!.id}/stop`,
        service: t.task!.service?.name ?? null,
      })),
    );
    if (refusal) throw refusal;
    await this.repo.deregisterTargets(group.id, targets, new Date());
    return group;
  }

  async createLoadBalancer(body: unknown) {
    const { name, listeners } = validateCreateLoadBalancer(body);
    return this.withRuleNames([await this.repo.createLoadBalancer(name, listeners)]);
  }

  async listLoadBalancers() {
    return this.withRuleNames(await this.repo.listLoadBalancers());
  }

  async getLoadBalancer(name: string) {
    return this.withRuleNames([await this.repo.getLoadBalancer(loadBalancerName(name))]);
  }

  async modifyListeners(name: string, body: unknown) {
    const { listeners } = validateModifyListeners(body);
    return this.withRuleNames([await this.repo.modifyListeners(loadBalancerName(name), listeners)]);
  }

  async deleteLoadBalancer(name: string) {
    return this.withRuleNames([await this.repo.deleteLoadBalancer(loadBalancerName(name))]);
  }

  /** The load balancers, with the names of the target groups their rules name (rules keep ids). */
  private async withRuleNames(loadBalancers: LoadBalancerWithListeners[]) {
    const ids = loadBalancers.flatMap((lb) =>
      lb.listeners.flatMap((l) => storedRules(l.rules).map((r) => r.targetGroupId)),
    );
    return { loadBalancers, targetGroupNames: await this.repo.targetGroupNames([...new Set(ids)]) };
  }
}

/** A load balancer's name from its name or ARN (`...:loadbalancer/<name>`). */
function loadBalancerName(ref: string): string {
  const at = ref.indexOf(':loadbalancer/');
  return ref.startsWith('arn:') && at >= 0 ? ref.slice(at + ':loadbalancer/'.length) : ref;
}
