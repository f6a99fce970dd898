import { Injectable } from '@nestjs/common';
import {
  storedHealthCheck,
  targetGroupNameFromRef,
  targetState,
  validateCreateLoadBalancer,
  validateCreateTargetGroup,
  validateModifyListeners,
  validateTargets,
} from '@berth/domain';
import { LoadBalancingRepository, type LoadBalancerWithListeners } from './load-balancing.repository.js';
import { storedRules } from './load-balancing.views.js';

/**
 * Target groups and load balancers (ELB's CreateTargetGroup ... DeleteLoadBalancer). The data
 * plane (apps/load-balancer) follows these rows; this service only checks and stores them.
 */
@Injectable()
export class LoadBalancingService {
  constructor(private readonly repo: LoadBalancingRepository) {}

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
    const { intervalSeconds } = storedHealthCheck(group.healthCheck);
    const targets = await this.repo.targets(group.id);
    return {
      group,
      targets: targets.map((t) => ({
        target: t,
        health: targetState({
          drainingSince: t.drainingSince,
          groupInUse: group.loadBalancerNames.length > 0,
          intervalSeconds,
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

  async deregisterTargets(ref: string, body: unknown) {
    const targets = validateTargets(body);
    const group = await this.getTargetGroup(ref);
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
