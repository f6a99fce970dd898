/**
 * What one load balancer should serve, as plain data: the listeners and the target groups they
 * route to, with each group's targets. Read from the control plane's tables by a StateSource;
 * planned against by `reconcile.ts` and rendered by `haproxy-config.ts`.
 */

export type Protocol = 'HTTP' | 'TCP';

export interface HealthCheck {
  /** HTTP only: the path checked with GET. */
  path: string | null;
  intervalSeconds: number;
  timeoutSeconds: number;
  healthyThresholdCount: number;
  unhealthyThresholdCount: number;
  /** HTTP only: ELB's HttpCode, "200", "200-299" or "200,302". */
  matcher: string | null;
}

export interface Target {
  id: string;
  host: string;
  port: number;
  /** Set when the target leaves its group: no new requests; removed once idle or after the delay. */
  drainingSince: Date | null;
}

export interface TargetGroup {
  id: string;
  name: string;
  protocol: Protocol;
  healthCheck: HealthCheck;
  deregistrationDelaySeconds: number;
  slowStartSeconds: number;
  targets: Target[];
}

export interface ListenerRule {
  priority: number;
  pathPrefix?: string | null;
  host?: string | null;
  targetGroupId: string;
}

export interface Listener {
  port: number;
  protocol: Protocol;
  defaultTargetGroupId: string;
  rules: ListenerRule[];
  /** TCP listeners: send the PROXY protocol v2 header to targets. */
  proxyProtocol: boolean;
}

export interface LoadBalancerState {
  name: string;
  listeners: Listener[];
  targetGroups: TargetGroup[];
}

/**
 * One HAProxy backend: a target group as one listener kind uses it. A group used both by a TCP
 * listener with the PROXY protocol and by one without gets two backends, since the PROXY header
 * is a property of the server line.
 */
export interface Backend {
  name: string;
  group: TargetGroup;
  proxyProtocol: boolean;
}

/** HAProxy names: letters, digits, '-', '_', '.' and ':'; anything else becomes '_'. */
export function haproxyName(raw: string): string {
  return raw.replace(/[^A-Za-z0-9_.:-]/g, '_');
}

export function backendName(group: TargetGroup, proxyProtocol: boolean): string {
  return `tg-${haproxyName(group.name)}${proxyProtocol ? '-pp' : ''}`;
}

/** A listener that can be served, or why not (a missing group, a protocol mismatch). */
export function listenerProblem(lb: LoadBalancerState, listener: Listener): string | null {
  const ids = [listener.defaultTargetGroupId, ...listener.rules.map((r) => r.targetGroupId)];
  for (const id of ids) {
    const group = lb.targetGroups.find((g) => g.id === id);
    if (!group) return `target group ${id} is missing`;
    if (group.protocol !== listener.protocol)
      return `target group ${group.name} is ${group.protocol}, the listener ${listener.protocol}`;
  }
  return null;
}

/** The listeners that can be served, by port. */
export function servableListeners(lb: LoadBalancerState): Listener[] {
  return lb.listeners.filter((l) => listenerProblem(lb, l) === null).sort((a, b) => a.port - b.port);
}

/** Every backend the servable listeners route to, by name. */
export function backendsOf(lb: LoadBalancerState): Backend[] {
  const byName = new Map<string, Backend>();
  for (const listener of servableListeners(lb)) {
    const pp = listener.protocol === 'TCP' && listener.proxyProtocol;
    for (const id of [listener.defaultTargetGroupId, ...listener.rules.map((r) => r.targetGroupId)]) {
      const group = lb.targetGroups.find((g) => g.id === id)!;
      const name = backendName(group, pp);
      if (!byName.has(name)) byName.set(name, { name, group, proxyProtocol: pp });
    }
  }
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** The HAProxy server name of a target. */
export function serverName(target: Target): string {
  return haproxyName(target.id);
}
