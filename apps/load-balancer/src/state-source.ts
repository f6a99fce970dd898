import type { HealthCheck, ListenerRule, LoadBalancerState, Protocol } from './desired-state.js';

/** Where the desired state comes from: the control plane's tables, or memory in tests. */
export interface StateSource {
  /** The load balancer's listeners and target groups; null when no load balancer has the name. */
  load(name: string): Promise<LoadBalancerState | null>;
}

/** A StateSource held in memory: tests set `states` and the app follows. */
export class InMemoryStateSource implements StateSource {
  readonly states = new Map<string, LoadBalancerState>();

  set(state: LoadBalancerState): void {
    this.states.set(state.name, structuredClone(state));
  }

  async load(name: string): Promise<LoadBalancerState | null> {
    const state = this.states.get(name);
    return state ? structuredClone(state) : null;
  }
}

export class StoredStateError extends Error {}

const num = (v: unknown, field: string, fallback?: number): number => {
  if (v === undefined || v === null) {
    if (fallback !== undefined) return fallback;
  } else if (typeof v === 'number' && Number.isFinite(v)) {
    return v;
  }
  throw new StoredStateError(`health check ${field} is ${JSON.stringify(v)}`);
};

/** A target group's stored `health_check`, with ELB's defaults for anything left out. */
export function readHealthCheck(json: unknown, protocol: Protocol): HealthCheck {
  const hc = (json ?? {}) as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : null);
  return {
    path: protocol === 'HTTP' ? (str(hc.path) ?? '/') : null,
    intervalSeconds: num(hc.intervalSeconds, 'intervalSeconds', 30),
    timeoutSeconds: num(hc.timeoutSeconds, 'timeoutSeconds', protocol === 'HTTP' ? 5 : 10),
    healthyThresholdCount: num(hc.healthyThresholdCount, 'healthyThresholdCount', 5),
    unhealthyThresholdCount: num(hc.unhealthyThresholdCount, 'unhealthyThresholdCount', 2),
    matcher: protocol === 'HTTP' ? (str(hc.matcher) ?? '200') : null,
  };
}

/** A listener's stored `rules`. */
export function readRules(json: unknown): ListenerRule[] {
  if (!Array.isArray(json)) throw new StoredStateError(`listener rules are not a list`);
  return json.map((r: Record<string, unknown>) => {
    if (typeof r.priority !== 'number' || typeof r.targetGroupId !== 'string')
      throw new StoredStateError(`listener rule ${JSON.stringify(r)} lacks priority or targetGroupId`);
    return {
      priority: r.priority,
      pathPrefix: typeof r.pathPrefix === 'string' ? r.pathPrefix : null,
      host: typeof r.host === 'string' ? r.host : null,
      targetGroupId: r.targetGroupId,
    };
  });
}

export function readProtocol(value: string): Protocol {
  if (value === 'HTTP' || value === 'TCP') return value;
  throw new StoredStateError(`protocol ${JSON.stringify(value)} is neither HTTP nor TCP`);
}
