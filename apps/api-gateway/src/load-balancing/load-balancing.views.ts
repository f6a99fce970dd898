import { arns, elbArns, storedHealthCheck, type ArnContext, type DerivedTargetHealth } from '@berth/domain';
import type {
  LoadBalancerWithListeners,
  TargetGroupWithUse,
  TargetWithHealth,
} from './load-balancing.repository.js';

/** Load-balancing rows → ELB-shaped JSON (camelCase, as the rest of the REST API). */

export interface StoredRule {
  priority: number;
  pathPrefix?: string;
  host?: string;
  targetGroupId: string;
}

/** A listener's rules jsonb, read back (written only by LoadBalancingRepository). */
export function storedRules(value: unknown): StoredRule[] {
  if (!Array.isArray(value)) return [];
  return value.filter(
    (r): r is StoredRule =>
      typeof r === 'object' && r !== null && typeof (r as StoredRule).targetGroupId === 'string',
  );
}

export function targetGroupView(ctx: ArnContext, tg: TargetGroupWithUse) {
  const hc = storedHealthCheck(tg.healthCheck);
  return {
    targetGroupArn: elbArns.targetGroup(ctx, tg.name),
    targetGroupName: tg.name,
    protocol: tg.protocol,
    targetType: 'ip',
    healthCheck: hc,
    healthCheckProtocol: tg.protocol,
    healthCheckPath: hc.path ?? undefined,
    healthCheckIntervalSeconds: hc.intervalSeconds,
    healthCheckTimeoutSeconds: hc.timeoutSeconds,
    healthyThresholdCount: hc.healthyThresholdCount,
    unhealthyThresholdCount: hc.unhealthyThresholdCount,
    matcher: hc.matcher ? { httpCode: hc.matcher } : undefined,
    deregistrationDelaySeconds: tg.deregistrationDelaySeconds,
    slowStartSeconds: tg.slowStartSeconds,
    loadBalancerArns: tg.loadBalancerNames.map((n) => elbArns.loadBalancer(ctx, n)),
    createdAt: tg.createdAt.toISOString(),
  };
}

export function targetHealthView(ctx: ArnContext, t: TargetWithHealth, health: DerivedTargetHealth) {
  return {
    target: { id: t.host, port: t.port },
    taskArn: t.task ? arns.task(ctx, t.task.cluster.name, t.task.id) : undefined,
    healthCheckPort: String(t.port),
    targetHealth: {
      state: health.state,
      ...(health.reason ? { reason: health.reason } : {}),
      ...(health.description ? { description: health.description } : {}),
    },
    drainingSince: t.drainingSince?.toISOString(),
    activeSessions: t.health.reduce((n, h) => n + h.activeSessions, 0),
  };
}

export function loadBalancerView(
  ctx: ArnContext,
  lb: LoadBalancerWithListeners,
  targetGroupNames: ReadonlyMap<string, string>,
) {
  const loadBalancerArn = elbArns.loadBalancer(ctx, lb.name);
  return {
    loadBalancerArn,
    loadBalancerName: lb.name,
    type: 'application',
    createdTime: lb.createdAt.toISOString(),
    listeners: lb.listeners.map((l) => ({
      listenerArn: `${loadBalancerArn.replace(':loadbalancer/', ':listener/')}/${l.port}`,
      port: l.port,
      protocol: l.protocol,
      defaultTargetGroupArn: elbArns.targetGroup(ctx, l.defaultTargetGroup.name),
      rules: storedRules(l.rules).map((r) => ({
        priority: r.priority,
        ...(r.pathPrefix !== undefined ? { pathPrefix: r.pathPrefix } : {}),
        ...(r.host !== undefined ? { host: r.host } : {}),
        targetGroupArn: elbArns.targetGroup(ctx, targetGroupNames.get(r.targetGroupId) ?? r.targetGroupId),
      })),
      proxyProtocol: l.proxyProtocol,
    })),
  };
}
