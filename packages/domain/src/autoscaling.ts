import { z } from 'zod';
import { InvalidParameterError } from './errors.js';
import { checkScheduledActions, type ScheduledActionInput } from './scaling-schedule.js';
import { requestsPerTarget, type TargetGroupRequests } from './request-count.js';
import { readStoredList, StoredDataError } from './stored.js';
import { serviceUtilization, type TaskReservation, type TaskSample } from './task-stats.js';
import { parseOrThrow } from './validation.js';

/**
 * Service auto scaling in Application Auto Scaling's model (docs/autoscaling.md): a scalable
 * target (the service's desiredCount between minCapacity and maxCapacity) with target tracking
 * policies on the service's average CPU or memory utilisation or on the requests per target of its
 * target groups. The decision is a pure function of the service, its policies and two windows of
 * each metric.
 */

export const PREDEFINED_METRICS = [
  'ECSServiceAverageCPUUtilization',
  'ECSServiceAverageMemoryUtilization',
  'ALBRequestCountPerTarget',
] as const;
export type PredefinedMetric = (typeof PREDEFINED_METRICS)[number];

export interface TargetTrackingPolicy {
  policyName: string;
  predefinedMetric: PredefinedMetric;
  /**
   * Percent of what the tasks reserve; for ALBRequestCountPerTarget, requests per target per
   * minute.
   */
  targetValue: number;
  /** AAS's target group label of ALBRequestCountPerTarget: kept as given, not used (the docs say why). */
  resourceLabel?: string;
  /** Seconds after a scale-out before this policy scales out again. */
  scaleOutCooldown: number;
  /** Seconds after a scale-in before this policy scales in again. */
  scaleInCooldown: number;
  disableScaleIn: boolean;
}

export interface ScalingConfiguration {
  minCapacity: number;
  maxCapacity: number;
  targetTrackingPolicies: TargetTrackingPolicy[];
  scheduledActions: ScheduledActionInput[];
}

/** Application Auto Scaling's default cooldowns for an ECS service. */
export const DEFAULT_SCALE_COOLDOWN_SECONDS = 300;
const MAX_CAPACITY = 10_000;
const MAX_COOLDOWN_SECONDS = 86_400;
const MAX_POLICIES = 10;
const TARGET_VALUE_RULE =
  'must be a number greater than 0 (a percent at most 100 for a utilization, requests per target per minute for ALBRequestCountPerTarget)';
/** Requests per target per minute: a bound against typos, far above what one target serves. */
const MAX_REQUEST_TARGET = 1_000_000;
/** Application Auto Scaling's quota of scheduled actions per scalable target. */
const MAX_SCHEDULED_ACTIONS = 200;

const capacity = z
  .int({ error: `must be an integer from 0 to ${MAX_CAPACITY}` })
  .min(0, { error: `must be an integer from 0 to ${MAX_CAPACITY}` })
  .max(MAX_CAPACITY, { error: `must be an integer from 0 to ${MAX_CAPACITY}` });
const cooldown = z
  .int({ error: `must be an integer number of seconds from 0 to ${MAX_COOLDOWN_SECONDS}` })
  .min(0, { error: `must be an integer number of seconds from 0 to ${MAX_COOLDOWN_SECONDS}` })
  .max(MAX_COOLDOWN_SECONDS, {
    error: `must be an integer number of seconds from 0 to ${MAX_COOLDOWN_SECONDS}`,
  });

/** Unknown fields are refused by name: a misspelt cooldown must not silently become the default. */
const objectError = {
  error: (issue: { code?: string; keys?: string[] }) =>
    issue.code === 'unrecognized_keys' ? `unknown field ${issue.keys?.join(', ')}` : 'must be an object',
};

const policySchema = z.strictObject(
  {
    policyName: z
      .string({ error: 'must be a string' })
      .regex(/^[\x20-\x7e]{1,256}$/, { error: 'must be 1-256 printable ASCII characters' })
      .optional(),
    predefinedMetric: z.enum(PREDEFINED_METRICS, {
      error: `must be one of ${PREDEFINED_METRICS.join(', ')}`,
    }),
    // At most 100 for a utilisation (checked below, as it depends on the metric).
    targetValue: z
      .number({ error: TARGET_VALUE_RULE })
      .gt(0, { error: TARGET_VALUE_RULE })
      .max(MAX_REQUEST_TARGET, { error: `must be at most ${MAX_REQUEST_TARGET}` }),
    resourceLabel: z
      .string({ error: 'must be a string' })
      .min(1, { error: 'must be 1-1023 characters' })
      .max(1023, { error: 'must be 1-1023 characters' })
      .optional(),
    scaleOutCooldown: cooldown.default(DEFAULT_SCALE_COOLDOWN_SECONDS),
    scaleInCooldown: cooldown.default(DEFAULT_SCALE_COOLDOWN_SECONDS),
    disableScaleIn: z.boolean({ error: 'must be a boolean' }).default(false),
  },
  objectError,
);

const isoTime = z.iso
  .datetime({ offset: true, error: 'must be an ISO 8601 date and time such as 2026-12-01T08:00:00Z' })
  .transform((t) => new Date(t));

/** AAS's rule for scheduled action names: no control characters, no `:` `/` `|`, no edge spaces. */
// eslint-disable-next-line no-control-regex -- the rule is about control characters
const SCHEDULED_ACTION_NAME = /^(?! )(?!.* $)[^\x00-\x1f\x7f-\x9f:/|]{1,256}$/;

const scheduledActionSchema = z.strictObject(
  {
    scheduledActionName: z
      .string({ error: 'is required: 1-256 characters without : / | or control characters' })
      .regex(SCHEDULED_ACTION_NAME, {
        error:
          'must be 1-256 characters without : / | or control characters, and no leading or trailing space',
      }),
    schedule: z.string({ error: 'is required: rate(...), cron(...) or at(...)' }),
    timezone: z.string({ error: 'must be an IANA time zone name' }).default('UTC'),
    startTime: isoTime.optional(),
    endTime: isoTime.optional(),
    scalableTargetAction: z.strictObject(
      { minCapacity: capacity.optional(), maxCapacity: capacity.optional() },
      {
        error: (issue: { code?: string; keys?: string[] }) =>
          issue.code === 'unrecognized_keys'
            ? `unknown field ${issue.keys?.join(', ')}`
            : 'is required: {minCapacity, maxCapacity}, one or both',
      },
    ),
  },
  objectError,
);

export const putScalingSchema = z.strictObject(
  {
    minCapacity: capacity,
    maxCapacity: capacity,
    targetTrackingPolicies: z
      .array(policySchema, { error: 'must be an array' })
      .max(MAX_POLICIES, { error: `must hold at most ${MAX_POLICIES} policies` })
      .default([]),
    scheduledActions: z
      .array(scheduledActionSchema, { error: 'must be an array' })
      .max(MAX_SCHEDULED_ACTIONS, { error: `must hold at most ${MAX_SCHEDULED_ACTIONS} scheduled actions` })
      .default([]),
  },
  objectError,
);

/**
 * A PUT .../scaling body, checked (400 naming the field and the rule). `loadBalanced`: whether the
 * service has load balancers, which ALBRequestCountPerTarget needs.
 */
export function validateScalingConfiguration(
  body: unknown,
  service: { schedulingStrategy: 'REPLICA' | 'DAEMON'; loadBalanced: boolean },
): ScalingConfiguration {
  const input = parseOrThrow(putScalingSchema, body);
  if (service.schedulingStrategy === 'DAEMON')
    throw new InvalidParameterError(
      'service: a DAEMON service runs one task on each instance; only a REPLICA service can scale',
      'service',
    );
  if (input.minCapacity > input.maxCapacity)
    throw new InvalidParameterError(
      `minCapacity: ${input.minCapacity} is greater than maxCapacity ${input.maxCapacity}`,
      'minCapacity',
    );
  const names = new Set<string>();
  const policies = input.targetTrackingPolicies.map((p, i): TargetTrackingPolicy => {
    const field = `targetTrackingPolicies[${i}]`;
    if (p.predefinedMetric === 'ALBRequestCountPerTarget') {
      if (!service.loadBalanced)
        throw new InvalidParameterError(
          `${field}.predefinedMetric: ALBRequestCountPerTarget needs a service with loadBalancers (the requests of its target groups); this service has none`,
          `${field}.predefinedMetric`,
        );
    } else {
      if (p.targetValue > 100)
        throw new InvalidParameterError(
          `${field}.targetValue: must be a number greater than 0 and at most 100 (percent)`,
          `${field}.targetValue`,
        );
      if (p.resourceLabel !== undefined)
        throw new InvalidParameterError(
          `${field}.resourceLabel: only ALBRequestCountPerTarget takes a resourceLabel`,
          `${field}.resourceLabel`,
        );
    }
    const policyName = p.policyName ?? `${p.predefinedMetric}-${p.targetValue}`;
    if (names.has(policyName))
      throw new InvalidParameterError(
        `${field}.policyName: ${policyName} is used by another policy of this service; policy names must be unique`,
        `${field}.policyName`,
      );
    names.add(policyName);
    return { ...p, policyName };
  });
  const scheduledActions = checkScheduledActions(
    input.scheduledActions.map((a) => ({
      ...a,
      startTime: a.startTime ?? null,
      endTime: a.endTime ?? null,
    })),
  );
  return {
    minCapacity: input.minCapacity,
    maxCapacity: input.maxCapacity,
    targetTrackingPolicies: policies,
    scheduledActions,
  };
}

const storedPolicy = z.object({
  policyName: z.string(),
  predefinedMetric: z.enum(PREDEFINED_METRICS),
  targetValue: z.number().positive(),
  resourceLabel: z.string().optional(),
  scaleOutCooldown: z.int().min(0),
  scaleInCooldown: z.int().min(0),
  disableScaleIn: z.boolean(),
});

/** Reads `service_scaling.policies`, written only after validateScalingConfiguration. */
export function readStoredPolicies(json: unknown, where = ''): TargetTrackingPolicy[] {
  return readStoredList(json, 'scaling policies', where).map((p, i) => {
    const parsed = storedPolicy.safeParse(p);
    if (!parsed.success)
      throw new StoredDataError('scaling policies', where, `[${i}]: ${parsed.error.issues[0]!.message}`);
    return parsed.data;
  });
}

/** One metric of the service over one window. */
export interface MetricReading {
  /**
   * Percent of what the sampled tasks reserve, or requests per target per minute; null when
   * nothing is there to average.
   */
  value: number | null;
  windowSeconds: number;
  /** Samples in the window, over all tasks (or all request counters). */
  samples: number;
}

/** Both windows of one metric: the short one decides scale-out, both together scale-in. */
export interface MetricWindows {
  scaleOut: MetricReading;
  scaleIn: MetricReading;
}

export type ScalingReadings = Record<PredefinedMetric, MetricWindows>;

export interface ScalingWindows {
  scaleOutSeconds: number;
  scaleInSeconds: number;
}

/**
 * The service's RUNNING tasks' utilisation over both windows ending at `now`, with the metrics
 * branch's CloudWatch arithmetic (serviceUtilization), and its target groups' requests per target
 * (requestsPerTarget).
 */
export function scalingReadings(
  tasks: readonly (TaskReservation & { samples: readonly TaskSample[] })[],
  now: Date,
  windows: ScalingWindows,
  requests: TargetGroupRequests = { counters: [], targets: 0 },
): ScalingReadings {
  const read = (seconds: number) => {
    const from = new Date(now.getTime() - seconds * 1000);
    const u = serviceUtilization(tasks, { from, to: now });
    const samples = tasks.reduce(
      (n, t) => n + t.samples.filter((s) => s.sampledAt > from && s.sampledAt <= now).length,
      0,
    );
    return {
      cpu: { value: u.cpuUtilization, windowSeconds: seconds, samples },
      memory: { value: u.memoryUtilization, windowSeconds: seconds, samples },
    };
  };
  const perTarget = (seconds: number): MetricReading => ({
    ...requestsPerTarget(requests, { from: new Date(now.getTime() - seconds * 1000), to: now }),
    windowSeconds: seconds,
  });
  const out = read(windows.scaleOutSeconds);
  const inn = read(windows.scaleInSeconds);
  return {
    ECSServiceAverageCPUUtilization: { scaleOut: out.cpu, scaleIn: inn.cpu },
    ECSServiceAverageMemoryUtilization: { scaleOut: out.memory, scaleIn: inn.memory },
    ALBRequestCountPerTarget: {
      scaleOut: perTarget(windows.scaleOutSeconds),
      scaleIn: perTarget(windows.scaleInSeconds),
    },
  };
}

/** Fewer samples than this in a window is too little to act on. */
export const MIN_SCALING_SAMPLES = 2;
/** As Application Auto Scaling's scale-in alarm: only below 90 % of the target. */
export const SCALE_IN_THRESHOLD = 0.9;

export interface ScalingState {
  serviceName: string;
  /** The service's desiredCount: the capacity the policies scale. */
  desiredCount: number;
  minCapacity: number;
  maxCapacity: number;
  policies: readonly TargetTrackingPolicy[];
  readings: ScalingReadings;
  /** A deployment of the service is IN_PROGRESS: scale-in waits for it. */
  deploymentInProgress: boolean;
  lastScaleOutAt: Date | null;
  lastScaleInAt: Date | null;
  now: Date;
}

export interface ScalingDecision {
  direction: 'out' | 'in';
  desiredCount: number;
  /** The service event, e.g. "(service web) scaled out from 1 to 3 tasks: ...". */
  message: string;
}

const METRIC_WORDS: Record<Exclude<PredefinedMetric, 'ALBRequestCountPerTarget'>, string> = {
  ECSServiceAverageCPUUtilization: 'CPU',
  ECSServiceAverageMemoryUtilization: 'memory',
};

const usable = (r: MetricReading): r is MetricReading & { value: number } =>
  r.value !== null && r.samples >= MIN_SCALING_SAMPLES;

/** ceil, forgiving the float error of e.g. 3 × 50 / 50. */
const ceil = (x: number) => Math.ceil(x - 1e-9);

const inCooldown = (last: Date | null, seconds: number, now: Date) =>
  last !== null && now.getTime() - last.getTime() < seconds * 1000;

const decision = (s: ScalingState, desiredCount: number, why: string): ScalingDecision => {
  const direction = desiredCount > s.desiredCount ? 'out' : 'in';
  return {
    direction,
    desiredCount,
    message: `(service ${s.serviceName}) scaled ${direction} from ${s.desiredCount} to ${desiredCount} tasks: ${why}`,
  };
};

const because = (p: TargetTrackingPolicy, r: MetricReading & { value: number }) =>
  p.predefinedMetric === 'ALBRequestCountPerTarget'
    ? `${r.value.toFixed(1)} requests per target per minute over ${r.windowSeconds} s, target ${p.targetValue} (policy ${p.policyName})`
    : `average ${METRIC_WORDS[p.predefinedMetric]} utilization ${r.value.toFixed(1)} % over ${r.windowSeconds} s, target ${p.targetValue} % (policy ${p.policyName})`;

/**
 * What target tracking does now, or null. A desiredCount outside [min, max] is brought to the
 * nearest bound. Otherwise each policy wants ceil(desiredCount × metric / target) tasks:
 * - scale-out when any policy wants more, out of its scaleOutCooldown, on the short window; the
 *   largest wins;
 * - scale-in only when every policy wants fewer, none has disableScaleIn, none is in its
 *   scaleInCooldown, no deployment is IN_PROGRESS, and the metric is below 90 % of the target
 *   on both windows (their higher value counts): more cautious than scale-out, as AAS is.
 * A window with too few samples (MIN_SCALING_SAMPLES) decides nothing.
 */
export function decideScaling(s: ScalingState): ScalingDecision | null {
  const current = s.desiredCount;
  if (current < s.minCapacity) return decision(s, s.minCapacity, `below minCapacity ${s.minCapacity}`);
  if (current > s.maxCapacity)
    return s.deploymentInProgress ? null : decision(s, s.maxCapacity, `above maxCapacity ${s.maxCapacity}`);
  const clamp = (n: number) => Math.min(s.maxCapacity, Math.max(s.minCapacity, n));

  let out: { desired: number; why: string } | null = null;
  for (const p of s.policies) {
    const r = s.readings[p.predefinedMetric].scaleOut;
    if (!usable(r) || inCooldown(s.lastScaleOutAt, p.scaleOutCooldown, s.now)) continue;
    const desired = clamp(ceil((current * r.value) / p.targetValue));
    if (desired > current && (!out || desired > out.desired)) out = { desired, why: because(p, r) };
  }
  if (out) return decision(s, out.desired, out.why);

  if (s.deploymentInProgress || s.policies.length === 0) return null;
  let inn: { desired: number; why: string } | null = null;
  for (const p of s.policies) {
    const { scaleOut, scaleIn } = s.readings[p.predefinedMetric];
    if (p.disableScaleIn || !usable(scaleOut) || !usable(scaleIn)) return null;
    if (inCooldown(s.lastScaleInAt, p.scaleInCooldown, s.now)) return null;
    const r = scaleIn.value >= scaleOut.value ? scaleIn : scaleOut;
    if (r.value >= SCALE_IN_THRESHOLD * p.targetValue) return null;
    const desired = clamp(ceil((current * r.value) / p.targetValue));
    if (desired >= current) return null;
    if (!inn || desired > inn.desired) inn = { desired, why: because(p, r) };
  }
  return inn && decision(s, inn.desired, inn.why);
}
