import { z } from 'zod';
import { InvalidParameterError } from './errors.js';
import type { ArnContext } from './arns.js';
import { parseOrThrow } from './validation.js';

/**
 * Load balancing, as Elastic Load Balancing has it (docs/load-balancing.md): target groups of
 * host:port targets with a health check, load balancers with listeners that send traffic to them,
 * and services whose tasks register in target groups. The data plane (apps/load-balancer) reports
 * what its HAProxy sees of each target; everything here is pure: the state a target shows, when
 * its drain ends, and the checks of the requests.
 */

export const LB_PROTOCOLS = ['HTTP', 'TCP'] as const;
export type LbProtocol = (typeof LB_PROTOCOLS)[number];

/** What one load-balancer app reports of a target (table target_health). */
export const REPORTED_TARGET_STATES = ['healthy', 'unhealthy', 'initial'] as const;
export type ReportedTargetState = (typeof REPORTED_TARGET_STATES)[number];

/** The state a target shows (DescribeTargetHealth's TargetHealth.State, in ELB's lower case). */
export type TargetState = 'initial' | 'healthy' | 'unhealthy' | 'draining' | 'unused';

export interface HealthCheck {
  /** HTTP only (null for TCP): the path HAProxy requests. */
  path: string | null;
  intervalSeconds: number;
  timeoutSeconds: number;
  healthyThresholdCount: number;
  unhealthyThresholdCount: number;
  /** HTTP only (null for TCP): ELB's HttpCode, "200", "200-299" or "200,302". */
  matcher: string | null;
}

export const elbArns = {
  targetGroup: (ctx: ArnContext, name: string) =>
    `arn:berth:elasticloadbalancing:${ctx.region}:${ctx.account}:targetgroup/${name}`,
  loadBalancer: (ctx: ArnContext, name: string) =>
    `arn:berth:elasticloadbalancing:${ctx.region}:${ctx.account}:loadbalancer/${name}`,
};

/** ELB's rule for target group and load balancer names. */
export const ELB_NAME_RULE = /^(?!-)(?!internal-)[A-Za-z0-9-]{1,32}(?<!-)$/;
const ELB_NAME_MESSAGE = 'must be 1-32 letters, digits or hyphens, and must not begin or end with a hyphen';

/** A target group's name from its name or ARN (`...:targetgroup/<name>`); `field` names it in errors. */
export function targetGroupNameFromRef(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '')
    throw new InvalidParameterError(`${field}: is required: a target group ARN or name`, field);
  let name = value;
  if (value.startsWith('arn:')) {
    const at = value.indexOf(':targetgroup/');
    if (at < 0) throw new InvalidParameterError(`${field}: is not a target group ARN`, field);
    name = value.slice(at + ':targetgroup/'.length);
  }
  if (!ELB_NAME_RULE.test(name))
    throw new InvalidParameterError(`${field}: the target group name ${ELB_NAME_MESSAGE}`, field);
  return name;
}

// ---------------------------------------------------------------------------------------------
// The state a target shows.

export interface TargetHealthReport {
  reporter: string;
  state: string;
  reason: string | null;
  activeSessions: number;
  reportedAt: Date;
}

export interface TargetStateInput {
  drainingSince: Date | null;
  /** When the target joined its group (the row's createdAt). */
  registeredAt: Date;
  /** Whether any listener sends traffic to the target's group (default action or a rule). */
  groupInUse: boolean;
  intervalSeconds: number;
  unhealthyThresholdCount: number;
  reports: readonly TargetHealthReport[];
  now: Date;
}

export interface DerivedTargetHealth {
  state: TargetState;
  /** ELB's reason code (Elb.RegistrationInProgress, Target.FailedHealthChecks, ...), null when healthy. */
  reason: string | null;
  description: string | null;
}

/** A report is current while younger than three health-check intervals; older ones are ignored. */
export function isReportFresh(report: { reportedAt: Date }, intervalSeconds: number, now: Date): boolean {
  return now.getTime() - report.reportedAt.getTime() <= 3 * intervalSeconds * 1000;
}

/**
 * What a target shows: draining once it must leave; unused while no listener uses its group;
 * otherwise from the current reports of every load-balancer app: unhealthy if any says so (once
 * the target is older than its initial checks), healthy only if all say so (and there is at
 * least one), initial until then.
 */
export function targetState(input: TargetStateInput): DerivedTargetHealth {
  if (input.drainingSince)
    return {
      state: 'draining',
      reason: 'Target.DeregistrationInProgress',
      description: 'Target deregistration is in progress',
    };
  if (!input.groupInUse)
    return {
      state: 'unused',
      reason: 'Target.NotInUse',
      description: 'Target group is not configured to receive traffic from the load balancer',
    };
  const fresh = input.reports.filter((r) => isReportFresh(r, input.intervalSeconds, input.now));
  const unhealthy = fresh.find((r) => r.state === 'unhealthy');
  // ELB calls a new target unhealthy only after unhealthyThresholdCount failed checks; HAProxy
  // marks a server that has never passed one DOWN at its first failure. Until that many checks
  // could have run, a new target is still in its initial checks (an app slow to listen is not
  // replaced as failed).
  const initialChecksMs = input.unhealthyThresholdCount * input.intervalSeconds * 1000;
  if (unhealthy && input.now.getTime() - input.registeredAt.getTime() < initialChecksMs)
    return {
      state: 'initial',
      reason: 'Elb.InitialHealthChecking',
      description: 'Initial health checks in progress',
    };
  if (unhealthy)
    return {
      state: 'unhealthy',
      reason: 'Target.FailedHealthChecks',
      description: `${unhealthy.reporter}: ${unhealthy.reason ?? 'Health checks failed'}`,
    };
  if (fresh.length > 0 && fresh.every((r) => r.state === 'healthy'))
    return { state: 'healthy', reason: null, description: null };
  if (fresh.length === 0)
    return {
      state: 'initial',
      reason: 'Elb.RegistrationInProgress',
      description: 'Target registration is in progress',
    };
  return {
    state: 'initial',
    reason: 'Elb.InitialHealthChecking',
    description: 'Initial health checks in progress',
  };
}

export interface DrainInput {
  drainingSince: Date;
  deregistrationDelaySeconds: number;
  intervalSeconds: number;
  reports: readonly TargetHealthReport[];
  now: Date;
}

/**
 * The reasons a load-balancer app gives only for a target it knows is draining: it has stopped
 * sending the target new connections (or removed it). A report without one may come from a pass
 * that read the desired state before the drain began, and its count of 0 sessions says nothing.
 */
const DRAIN_APPLIED = new Set(['Target.DeregistrationInProgress', 'Target.NotRegistered']);

/**
 * Whether a draining target may go (and its task be stopped): the deregistration delay has
 * passed, or every current reporter has no session open on it and sends it no new ones: it has
 * applied the drain, or it finds the target unhealthy (HAProxy sends nothing to a server that is
 * DOWN, drained or not, so such a report needs no pass after the drain began). With no current
 * reporter at all (no load-balancer app running) nothing can be in flight.
 */
export function drainEnded(input: DrainInput): boolean {
  if (input.now.getTime() - input.drainingSince.getTime() >= input.deregistrationDelaySeconds * 1000)
    return true;
  const fresh = input.reports.filter((r) => isReportFresh(r, input.intervalSeconds, input.now));
  const applied = (r: TargetHealthReport) =>
    r.reportedAt.getTime() >= input.drainingSince.getTime() &&
    r.reason !== null &&
    DRAIN_APPLIED.has(r.reason);
  return fresh.every((r) => r.activeSessions === 0 && (r.state === 'unhealthy' || applied(r)));
}

/** What decides whether a service task's target may wait for a drain. */
export interface TargetTaskView {
  lastStatus: string;
  desiredStatus: string;
  /** An essential container of the task has STOPPED (exited, killed, or never started). */
  essentialContainerStopped: boolean;
}

/**
 * Whether a service task's target leaves its group at once, without a drain: it points at a port
 * that is dead or about to be (the task is STOPPED, or an essential container exited, which stops
 * the task), or the task was asked to stop without a drain (the target was not draining when the
 * stop was requested, or was registered just after it). Nothing on it can finish.
 */
export function targetLeavesAtOnce(target: { drainingSince: Date | null }, task: TargetTaskView): boolean {
  return (
    task.lastStatus === 'STOPPED' ||
    task.essentialContainerStopped ||
    (task.desiredStatus === 'STOPPED' && target.drainingSince === null)
  );
}

/**
 * A task passes the load balancers' gate when each of its service's loadBalancers entries has
 * given it a target (`expected` of them) and every target is healthy. A target in a group that no
 * listener uses (`unused`) has no health check to wait for, and passes.
 */
export function targetsPassGate(states: readonly TargetState[], expected = states.length): boolean {
  return states.length >= expected && states.every((s) => s === 'healthy' || s === 'unused');
}

/**
 * What the service planner sees of a RUNNING task's targets (`expected`: its service's number of
 * loadBalancers entries): whether it passes the gate, and the target groups in which it is
 * unhealthy, for which the planner replaces it once past the health check grace period (ECS's
 * "failed ELB health checks"). A target still `initial` is not a failure.
 */
export function taskLoadBalancerHealth(
  targets: readonly { targetGroup: string; state: TargetState }[],
  expected: number,
): { loadBalancersHealthy: boolean; unhealthyTargetGroups: string[] } {
  return {
    loadBalancersHealthy: targetsPassGate(
      targets.map((t) => t.state),
      expected,
    ),
    unhealthyTargetGroups: [
      ...new Set(targets.filter((t) => t.state === 'unhealthy').map((t) => t.targetGroup)),
    ].sort(),
  };
}

// ---------------------------------------------------------------------------------------------
// Where a task's targets are.

export interface ServiceLoadBalancerBinding {
  targetGroupId: string;
  containerName: string;
  containerPort: number;
}

export interface ContainerBindings {
  name: string;
  /** As the agent reports them: [{bindIP, containerPort, hostPort, protocol}]. */
  networkBindings?: unknown;
}

const ANY_ADDRESS = new Set(['', '0.0.0.0', '::', '[::]']);

/**
 * The targets a RUNNING task registers: for each of its service's loadBalancers entries, the
 * host port the named container's port is published on, at the binding's address (or the
 * instance's address when the binding listens on every address). An entry whose port is not
 * published (yet) gives no target.
 */
export function taskTargets(
  bindings: readonly ServiceLoadBalancerBinding[],
  containers: readonly ContainerBindings[],
  instanceAddress: string | null,
): { targetGroupId: string; host: string; port: number }[] {
  const out: { targetGroupId: string; host: string; port: number }[] = [];
  for (const b of bindings) {
    const container = containers.find((c) => c.name === b.containerName);
    const list = Array.isArray(container?.networkBindings) ? (container.networkBindings as unknown[]) : [];
    const nb = list.find(
      (x): x is { bindIP?: unknown; containerPort?: unknown; hostPort?: unknown } =>
        typeof x === 'object' &&
        x !== null &&
        (x as { containerPort?: unknown }).containerPort === b.containerPort &&
        ((x as { protocol?: unknown }).protocol ?? 'tcp') === 'tcp',
    );
    if (!nb || typeof nb.hostPort !== 'number' || nb.hostPort <= 0) continue;
    const bindIp = typeof nb.bindIP === 'string' ? nb.bindIP : '';
    const host = ANY_ADDRESS.has(bindIp) ? instanceAddress : bindIp;
    if (!host) continue;
    out.push({ targetGroupId: b.targetGroupId, host, port: nb.hostPort });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Requests.

const intRange = (min: number, max: number, what: string) =>
  z
    .int({ error: `must be an integer from ${min} to ${max} (${what})` })
    .min(min, { error: `must be an integer from ${min} to ${max} (${what})` })
    .max(max, { error: `must be an integer from ${min} to ${max} (${what})` });

const elbName = z
  .string({ error: `is required and ${ELB_NAME_MESSAGE}` })
  .regex(ELB_NAME_RULE, { error: ELB_NAME_MESSAGE });
const protocol = z.enum(LB_PROTOCOLS, { error: 'must be HTTP or TCP' });
const MATCHER_RULE = /^([1-5][0-9]{2})(-[1-5][0-9]{2})?(,([1-5][0-9]{2})(-[1-5][0-9]{2})?)*$/;

const healthCheckSchema = z.looseObject(
  {
    path: z
      .string({ error: 'must be a string starting with /' })
      .regex(/^\/[\x21-\x7e]{0,1023}$/, {
        error: 'must start with / and be at most 1024 printable characters',
      })
      .optional(),
    intervalSeconds: intRange(5, 300, 'seconds').optional(),
    timeoutSeconds: intRange(2, 120, 'seconds').optional(),
    healthyThresholdCount: intRange(2, 10, 'checks').optional(),
    unhealthyThresholdCount: intRange(2, 10, 'checks').optional(),
    matcher: z
      .string({ error: 'must be HTTP codes: "200", "200-299" or "200,302"' })
      .regex(MATCHER_RULE, { error: 'must be HTTP codes: "200", "200-299" or "200,302"' })
      .optional(),
  },
  { error: 'must be an object {path, intervalSeconds, timeoutSeconds, ...}' },
);

export const createTargetGroupSchema = z.looseObject({
  name: elbName,
  protocol,
  healthCheck: healthCheckSchema.optional(),
  deregistrationDelaySeconds: intRange(0, 3600, 'seconds').optional(),
  slowStartSeconds: intRange(0, 900, 'seconds').optional(),
});

export interface CreateTargetGroupRequest {
  name: string;
  protocol: LbProtocol;
  healthCheck: HealthCheck;
  deregistrationDelaySeconds: number;
  slowStartSeconds: number;
}

/** CreateTargetGroup, checked, with ELB's defaults filled in. */
export function validateCreateTargetGroup(input: unknown): CreateTargetGroupRequest {
  const p = parseOrThrow(createTargetGroupSchema, input ?? {});
  const hc = p.healthCheck ?? {};
  if (p.protocol === 'TCP') {
    for (const field of ['path', 'matcher'] as const)
      if (hc[field] !== undefined)
        throw new InvalidParameterError(
          `healthCheck.${field}: TCP target groups check that a connection opens; remove ${field}`,
          `healthCheck.${field}`,
        );
  }
  const healthCheck: HealthCheck = {
    path: p.protocol === 'HTTP' ? (hc.path ?? '/') : null,
    intervalSeconds: hc.intervalSeconds ?? 30,
    timeoutSeconds: hc.timeoutSeconds ?? (p.protocol === 'HTTP' ? 5 : 10),
    healthyThresholdCount: hc.healthyThresholdCount ?? 5,
    unhealthyThresholdCount: hc.unhealthyThresholdCount ?? 2,
    matcher: p.protocol === 'HTTP' ? (hc.matcher ?? '200') : null,
  };
  if (healthCheck.timeoutSeconds >= healthCheck.intervalSeconds)
    throw new InvalidParameterError(
      `healthCheck.timeoutSeconds: must be less than intervalSeconds (${healthCheck.intervalSeconds})`,
      'healthCheck.timeoutSeconds',
    );
  return {
    name: p.name,
    protocol: p.protocol,
    healthCheck,
    deregistrationDelaySeconds: p.deregistrationDelaySeconds ?? 30,
    slowStartSeconds: p.slowStartSeconds ?? 0,
  };
}

/** A stored health_check, read back: every field present (the creation filled in defaults). */
export function storedHealthCheck(value: unknown): HealthCheck {
  const v = (typeof value === 'object' && value !== null ? value : {}) as Partial<HealthCheck>;
  return {
    path: typeof v.path === 'string' ? v.path : null,
    intervalSeconds: typeof v.intervalSeconds === 'number' ? v.intervalSeconds : 30,
    timeoutSeconds: typeof v.timeoutSeconds === 'number' ? v.timeoutSeconds : 5,
    healthyThresholdCount: typeof v.healthyThresholdCount === 'number' ? v.healthyThresholdCount : 5,
    unhealthyThresholdCount: typeof v.unhealthyThresholdCount === 'number' ? v.unhealthyThresholdCount : 2,
    matcher: typeof v.matcher === 'string' ? v.matcher : null,
  };
}

const targetsSchema = z
  .array(
    z.looseObject(
      {
        id: z
          .string({ error: 'is required: the target IP address or host name' })
          .regex(/^[A-Za-z0-9.:-]{1,253}$/, { error: 'must be an IP address or host name' }),
        port: intRange(1, 65535, 'port'),
      },
      { error: 'must be an object {id, port}' },
    ),
    { error: 'is required: an array of {id, port}' },
  )
  .min(1, { error: 'must name at least one target' })
  .max(500, { error: 'must name at most 500 targets' });

/** RegisterTargets / DeregisterTargets by hand: `{targets: [{id, port}]}`, id the host. */
export function validateTargets(input: unknown): { host: string; port: number }[] {
  const p = parseOrThrow(z.looseObject({ targets: targetsSchema }), input ?? {});
  return p.targets.map((t) => ({ host: t.id, port: t.port }));
}

const ruleSchema = z.looseObject(
  {
    priority: intRange(1, 50000, 'priority'),
    pathPrefix: z
      .string({ error: 'must be a path starting with /' })
      .regex(/^\/[\x21-\x7e]{0,127}$/, { error: 'must start with / and be at most 128 printable characters' })
      .optional(),
    host: z
      .string({ error: 'must be a host name' })
      .regex(/^[A-Za-z0-9*.-]{1,128}$/, { error: 'must be a host name (letters, digits, -, . and *)' })
      .optional(),
    targetGroupArn: z.string({ error: 'is required: a target group ARN or name' }),
  },
  { error: 'must be an object {priority, pathPrefix | host, targetGroupArn}' },
);

const listenerSchema = z.looseObject(
  {
    port: intRange(1, 65535, 'port'),
    protocol,
    defaultTargetGroupArn: z.string({ error: 'is required: a target group ARN or name' }),
    rules: z.array(ruleSchema, { error: 'must be an array of rules' }).max(100).optional(),
    proxyProtocol: z.boolean({ error: 'must be a boolean' }).optional(),
  },
  { error: 'must be an object {port, protocol, defaultTargetGroupArn, rules?}' },
);

const listenersSchema = z
  .array(listenerSchema, { error: 'is required: an array of listeners' })
  .max(50, { error: 'must hold at most 50 listeners' });

export interface ListenerRuleRequest {
  priority: number;
  pathPrefix?: string;
  host?: string;
  /** The target group's name, from its ARN or name. */
  targetGroupName: string;
}

export interface ListenerRequest {
  port: number;
  protocol: LbProtocol;
  defaultTargetGroupName: string;
  rules: ListenerRuleRequest[];
  proxyProtocol: boolean;
}

function checkListeners(listeners: z.output<typeof listenersSchema>): ListenerRequest[] {
  const ports = new Set<number>();
  return listeners.map((l, i) => {
    const at = `listeners[${i}]`;
    if (ports.has(l.port))
      throw new InvalidParameterError(`${at}.port: ${l.port} is given to another listener`, `${at}.port`);
    ports.add(l.port);
    if (l.protocol === 'HTTP' && l.proxyProtocol)
      throw new InvalidParameterError(
        `${at}.proxyProtocol: only TCP listeners send the PROXY protocol (HTTP listeners add X-Forwarded-For)`,
        `${at}.proxyProtocol`,
      );
    const rules = l.rules ?? [];
    if (l.protocol === 'TCP' && rules.length > 0)
      throw new InvalidParameterError(`${at}.rules: TCP listeners have no rules`, `${at}.rules`);
    const priorities = new Set<number>();
    return {
      port: l.port,
      protocol: l.protocol,
      defaultTargetGroupName: targetGroupNameFromRef(l.defaultTargetGroupArn, `${at}.defaultTargetGroupArn`),
      proxyProtocol: l.proxyProtocol ?? false,
      rules: rules.map((r, j) => {
        const rat = `${at}.rules[${j}]`;
        if (priorities.has(r.priority))
          throw new InvalidParameterError(
            `${rat}.priority: ${r.priority} is given to another rule`,
            `${rat}.priority`,
          );
        priorities.add(r.priority);
        if ((r.pathPrefix === undefined) === (r.host === undefined))
          throw new InvalidParameterError(
            `${rat}: give exactly one of pathPrefix and host`,
            `${rat}.pathPrefix`,
          );
        return {
          priority: r.priority,
          ...(r.pathPrefix !== undefined ? { pathPrefix: r.pathPrefix } : {}),
          ...(r.host !== undefined ? { host: r.host } : {}),
          targetGroupName: targetGroupNameFromRef(r.targetGroupArn, `${rat}.targetGroupArn`),
        };
      }),
    };
  });
}

/** CreateLoadBalancer: `{name, listeners}`. */
export function validateCreateLoadBalancer(input: unknown): { name: string; listeners: ListenerRequest[] } {
  const p = parseOrThrow(z.looseObject({ name: elbName, listeners: listenersSchema }), input ?? {});
  return { name: p.name, listeners: checkListeners(p.listeners) };
}

/** ModifyListener (PATCH a load balancer): `{listeners}`, the full new set. */
export function validateModifyListeners(input: unknown): { listeners: ListenerRequest[] } {
  const p = parseOrThrow(z.looseObject({ listeners: listenersSchema }), input ?? {});
  return { listeners: checkListeners(p.listeners) };
}

/** Every target group a listener set names (default actions and rules), each once. */
export function listenerTargetGroupNames(listeners: readonly ListenerRequest[]): string[] {
  return [
    ...new Set(
      listeners.flatMap((l) => [l.defaultTargetGroupName, ...l.rules.map((r) => r.targetGroupName)]),
    ),
  ];
}

export const serviceLoadBalancersSchema = z
  .array(
    z.looseObject(
      {
        targetGroupArn: z.string({ error: 'is required: a target group ARN' }),
        containerName: z.string({ error: 'is required: a container of the task definition' }).min(1),
        containerPort: intRange(1, 65535, 'port'),
        loadBalancerName: z
          .undefined({ error: 'Classic Load Balancers are not supported: give targetGroupArn' })
          .optional(),
      },
      { error: 'must be an object {targetGroupArn, containerName, containerPort}' },
    ),
    { error: 'must be an array of {targetGroupArn, containerName, containerPort}' },
  )
  .max(5, { error: 'must hold at most 5 entries' });

export interface ServiceLoadBalancerRequest {
  targetGroupName: string;
  containerName: string;
  containerPort: number;
}

/** A container definition's ports, as far as this check needs them. */
export interface ContainerPorts {
  name: string;
  portMappings?: readonly { containerPort?: number; protocol?: string }[];
}

/**
 * A service's loadBalancers, checked against the task definition's containers: each entry's
 * container must exist and map containerPort (tcp). The target groups' existence is the caller's.
 */
export function validateServiceLoadBalancers(
  entries: z.output<typeof serviceLoadBalancersSchema>,
  containers: readonly ContainerPorts[],
): ServiceLoadBalancerRequest[] {
  const seen = new Set<string>();
  return entries.map((e, i) => {
    const at = `loadBalancers[${i}]`;
    const targetGroupName = targetGroupNameFromRef(e.targetGroupArn, `${at}.targetGroupArn`);
    const container = containers.find((c) => c.name === e.containerName);
    if (!container)
      throw new InvalidParameterError(
        `${at}.containerName: the task definition has no container named ${e.containerName}`,
        `${at}.containerName`,
      );
    const mapped = (container.portMappings ?? []).some(
      (m) => m.containerPort === e.containerPort && (m.protocol ?? 'tcp') === 'tcp',
    );
    if (!mapped)
      throw new InvalidParameterError(
        `${at}.containerPort: container ${e.containerName} has no tcp port mapping for port ${e.containerPort}`,
        `${at}.containerPort`,
      );
    const key = `${targetGroupName}/${e.containerName}/${e.containerPort}`;
    if (seen.has(key))
      throw new InvalidParameterError(`${at}: the same entry is given twice`, `${at}.targetGroupArn`);
    seen.add(key);
    return { targetGroupName, containerName: e.containerName, containerPort: e.containerPort };
  });
}

/**
 * Whether UpdateService's loadBalancers differ from the service's: as in ECS, a change starts a
 * new deployment (the running tasks keep the targets they registered until they are replaced).
 * The order of the entries does not matter.
 */
export function loadBalancersDiffer(
  current: readonly ServiceLoadBalancerRequest[],
  next: readonly ServiceLoadBalancerRequest[],
): boolean {
  const key = (e: ServiceLoadBalancerRequest) => `${e.targetGroupName}/${e.containerName}/${e.containerPort}`;
  const a = new Set(current.map(key));
  const b = new Set(next.map(key));
  return a.size !== b.size || [...a].some((k) => !b.has(k));
}

/** A service task's target, as DeregisterTargets by hand finds it. */
export interface ServiceTaskTarget {
  host: string;
  port: number;
  taskArn: string;
  /** StopTask's route for the task. */
  stopTaskPath: string;
  service: string | null;
}

/**
 * DeregisterTargets by hand is refused on a service task's target: the target sweep registers a
 * RUNNING task's targets again after the drain, so the target would flap. A task leaves its target
 * groups when it stops (StopTask drains it first). Returns the refusal for the first such target
 * among those requested, or null.
 */
export function serviceTaskDeregistrationRefusal(
  requested: readonly { host: string; port: number }[],
  owned: readonly ServiceTaskTarget[],
): InvalidParameterError | null {
  for (const [i, r] of requested.entries()) {
    const t = owned.find((o) => o.host === r.host && o.port === r.port);
    if (!t) continue;
    const of = t.service ? ` of service ${t.service}` : '';
    return new InvalidParameterError(
      `targets[${i}]: ${r.host}:${r.port} is the target of task ${t.taskArn}${of}, registered while the task runs; ` +
        `deregister it by stopping the task (StopTask drains it first: POST ${t.stopTaskPath}) or by scaling the service in`,
      `targets[${i}]`,
    );
  }
  return null;
}

export const loadBalancingEvents = {
  registered: (service: string, count: number, targetGroup: string) =>
    `(service ${service}) registered ${count} targets in (target-group ${targetGroup})`,
  deregistered: (service: string, count: number, targetGroup: string) =>
    `(service ${service}) deregistered ${count} targets in (target-group ${targetGroup})`,
};
