import { z } from 'zod';
import { arns, type ArnContext } from './arns.js';
import { InvalidParameterError } from './errors.js';
import { instanceAttributes } from './instance-attributes.js';
import { serviceEvents } from './service-plan.js';
import { readNetworkBindings, readTaskOverrides, StoredDataError } from './stored.js';

/**
 * Live events in the shape of Amazon ECS's EventBridge events: pure functions from one row of the
 * `event` outbox (a snapshot of the row that changed, written by a trigger in the transaction that
 * changed it) to the event a client sees. See docs/observability.md, "Events".
 */

export type EventKind = 'task' | 'instance' | 'deployment' | 'service';

export const EVENT_DETAIL_TYPES = {
  task: 'ECS Task State Change',
  instance: 'ECS Container Instance State Change',
  deployment: 'ECS Deployment State Change',
  service: 'ECS Service Action',
} as const satisfies Record<EventKind, string>;

export type EventDetailType = (typeof EVENT_DETAIL_TYPES)[EventKind];

/** One outbox row as the reader returns it. */
export interface OutboxEvent {
  /** Where the row is in the stream: `<xid>-<id>`, see `eventPosition`. */
  position: string;
  time: Date;
  kind: EventKind;
  payload: unknown;
}

export interface EcsEvent {
  version: '0';
  id: string;
  'detail-type': EventDetailType;
  source: 'aws.ecs';
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
}

/**
 * A position in the event stream: the writing transaction's id and the row's id. Rows are read in
 * this order, which is gap-free below the oldest running transaction (see the migration), and it
 * is the SSE event id a client resumes from.
 */
export interface EventPosition {
  xid: bigint;
  id: bigint;
}

export const formatEventPosition = (p: EventPosition) => `${p.xid}-${p.id}`;

/** `Last-Event-ID` or `?after=`: a position this API gave out. */
export function parseEventPosition(value: string, field: string): EventPosition {
  const m = /^([0-9]{1,19})-([0-9]{1,19})$/.exec(value);
  if (!m)
    throw new InvalidParameterError(
      `${field}: must be an event id this API returned (<digits>-<digits>)`,
      field,
    );
  return { xid: BigInt(m[1]!), id: BigInt(m[2]!) };
}

// Postgres writes timestamp(3) without a zone for Prisma's DateTime: those values are UTC.
const time = z
  .string()
  .nullish()
  .transform((v) => (v ? new Date(/[zZ]|[+-]\d\d:\d\d$/.test(v) ? v : `${v}Z`).toISOString() : undefined));
const text = z
  .string()
  .nullish()
  .transform((v) => v ?? undefined);

const taskSnapshot = z.object({
  id: z.string(),
  cluster_name: z.string(),
  /** From the task definition, joined when read; absent once the definition has been deleted. */
  family: z.string().nullish(),
  revision: z.number().int().nullish(),
  container_definitions: z.array(z.object({ name: z.string(), image: text })).nullish(),
  container_instance_id: text,
  last_status: z.string(),
  desired_status: z.string(),
  started_by: text,
  group: text,
  overrides: z.unknown(),
  cpu: z.number().int(),
  memory: z.number().int(),
  stop_code: text,
  stopped_reason: text,
  created_at: time,
  pull_started_at: time,
  pull_stopped_at: time,
  started_at: time,
  stopping_at: time,
  stopped_at: time,
  /** The container rows at the change: none yet when the task was just created. */
  containers: z.array(
    z.object({
      name: z.string(),
      runtime_id: text,
      last_status: z.string(),
      exit_code: z.number().int().nullish(),
      reason: text,
      health_status: z.string(),
      network_bindings: z.unknown(),
    }),
  ),
});

const instanceSnapshot = z.object({
  id: z.string(),
  cluster_name: z.string(),
  status: z.string(),
  agent_connected: z.boolean(),
  agent_version: text,
  registered_cpu: z.number().int(),
  registered_memory: z.number().int(),
  reserved_cpu: z.number().int(),
  reserved_memory: z.number().int(),
  attributes: z.unknown(),
  api_attributes: z.unknown(),
  registered_at: time,
});

const deploymentSnapshot = z.object({
  id: z.string(),
  cluster_name: z.string(),
  service_name: z.string(),
  status: z.string(),
  rollout_state: z.string(),
  rollout_state_reason: text,
  rolled_back_from: text,
  /** The rollout state before this change; null for a new deployment. */
  previous_rollout_state: z.string().nullable(),
});

const serviceSnapshot = z.object({
  message: z.string(),
  created_at: time,
  service_name: z.string(),
  desired_count: z.number().int(),
  cluster_name: z.string(),
});

function read<T extends z.ZodType>(schema: T, payload: unknown, kind: string): z.output<T> {
  const parsed = schema.safeParse(payload);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new StoredDataError(
      `${kind} event`,
      '',
      `${issue?.path.join('.')}: ${issue?.message ?? 'invalid'}`,
    );
  }
  return parsed.data;
}

export type TaskSnapshot = z.input<typeof taskSnapshot>;
export type InstanceSnapshot = z.input<typeof instanceSnapshot>;
export type DeploymentSnapshot = z.input<typeof deploymentSnapshot>;
export type ServiceEventSnapshot = z.input<typeof serviceSnapshot>;

/** The definition's containers in order, or the rows' when the definition is gone. */
function containerNames(t: z.output<typeof taskSnapshot>): { name: string; image?: string }[] {
  if (t.container_definitions?.length) return t.container_definitions;
  return t.containers.map((c) => ({ name: c.name }));
}

/** "ECS Task State Change": the task as DescribeTasks shows it at the change. */
export function taskStateChange(ctx: ArnContext, payload: unknown, updatedAt: Date) {
  const t = read(taskSnapshot, payload, 'task');
  const taskArn = arns.task(ctx, t.cluster_name, t.id);
  return {
    resources: [taskArn],
    detail: {
      attachments: [],
      attributes: [],
      clusterArn: arns.cluster(ctx, t.cluster_name),
      containerInstanceArn: t.container_instance_id
        ? arns.containerInstance(ctx, t.cluster_name, t.container_instance_id)
        : undefined,
      containers: containerNames(t).map(({ name, image }) => {
        const c = t.containers.find((row) => row.name === name);
        return {
          taskArn,
          name,
          image,
          runtimeId: c?.runtime_id,
          lastStatus: c?.last_status ?? 'PENDING',
          exitCode: c?.exit_code ?? undefined,
          reason: c?.reason,
          healthStatus: c?.health_status ?? 'UNKNOWN',
          networkBindings: c ? readNetworkBindings(c.network_bindings, t.id) : [],
        };
      }),
      cpu: String(t.cpu),
      memory: String(t.memory),
      createdAt: t.created_at,
      desiredStatus: t.desired_status,
      group: t.group,
      launchType: 'EC2',
      lastStatus: t.last_status,
      overrides: readTaskOverrides(t.overrides, t.id),
      pullStartedAt: t.pull_started_at,
      pullStoppedAt: t.pull_stopped_at,
      startedAt: t.started_at,
      startedBy: t.started_by,
      stopCode: t.stop_code,
      stoppedAt: t.stopped_at,
      stoppedReason: t.stopped_reason,
      stoppingAt: t.stopping_at,
      taskArn,
      taskDefinitionArn: t.family && t.revision ? arns.taskDefinition(ctx, t.family, t.revision) : undefined,
      updatedAt: updatedAt.toISOString(),
    },
  };
}

/** "ECS Container Instance State Change": the instance as DescribeContainerInstances shows it. */
export function containerInstanceStateChange(ctx: ArnContext, payload: unknown, updatedAt: Date) {
  const i = read(instanceSnapshot, payload, 'container instance');
  const containerInstanceArn = arns.containerInstance(ctx, i.cluster_name, i.id);
  const resources = (cpu: number, memory: number) => [
    { name: 'CPU', type: 'INTEGER', integerValue: cpu },
    { name: 'MEMORY', type: 'INTEGER', integerValue: memory },
  ];
  return {
    resources: [containerInstanceArn],
    detail: {
      agentConnected: i.agent_connected,
      attributes: Object.entries(
        instanceAttributes({
          id: i.id,
          attributes: i.attributes ?? {},
          apiAttributes: i.api_attributes ?? {},
        }),
      ).map(([name, value]) => ({ name, value })),
      clusterArn: arns.cluster(ctx, i.cluster_name),
      containerInstanceArn,
      registeredAt: i.registered_at,
      registeredResources: resources(i.registered_cpu, i.registered_memory),
      remainingResources: resources(
        i.registered_cpu - i.reserved_cpu,
        i.registered_memory - i.reserved_memory,
      ),
      status: i.status,
      versionInfo: { agentVersion: i.agent_version },
      updatedAt: updatedAt.toISOString(),
    },
  };
}

/** ECS names a service's deployments `ecs-svc/<id>`, as in a service task's startedBy. */
export const ecsDeploymentId = (id: string) => `ecs-svc/${id}`;

/**
 * "ECS Deployment State Change": a new PRIMARY is IN_PROGRESS (its reason says whether it is a
 * rollback), then COMPLETED or FAILED. Other changes of a deployment (ACTIVE, INACTIVE) are no ECS
 * event: null.
 */
export function deploymentStateChange(ctx: ArnContext, payload: unknown, updatedAt: Date) {
  const d = read(deploymentSnapshot, payload, 'deployment');
  const deploymentId = ecsDeploymentId(d.id);
  let change: { eventType: 'INFO' | 'ERROR'; eventName: string; reason: string } | null = null;
  if (d.previous_rollout_state === null && d.rollout_state === 'IN_PROGRESS') {
    change = {
      eventType: 'INFO',
      eventName: 'SERVICE_DEPLOYMENT_IN_PROGRESS',
      reason: d.rolled_back_from
        ? `ECS deployment circuit breaker: rolling back to deploymentId ${deploymentId}.`
        : `ECS deployment ${deploymentId} in progress.`,
    };
  } else if (d.previous_rollout_state !== d.rollout_state && d.rollout_state === 'COMPLETED') {
    change = {
      eventType: 'INFO',
      eventName: 'SERVICE_DEPLOYMENT_COMPLETED',
      reason: `ECS deployment ${deploymentId} completed.`,
    };
  } else if (d.previous_rollout_state !== d.rollout_state && d.rollout_state === 'FAILED') {
    change = {
      eventType: 'ERROR',
      eventName: 'SERVICE_DEPLOYMENT_FAILED',
      reason: d.rollout_state_reason ?? `ECS deployment ${deploymentId} failed.`,
    };
  }
  if (!change) return null;
  return {
    resources: [arns.service(ctx, d.cluster_name, d.service_name)],
    detail: { ...change, deploymentId, updatedAt: updatedAt.toISOString() },
  };
}

/**
 * Which ECS service action a line of a service's history is: the lines are worded in one place
 * (`serviceEvents`), and matched here against the same wording. Lines with no ECS counterpart
 * (a deployment's own lines, which are deployment events) are null.
 */
export function serviceActionOf(
  service: string,
  message: string,
): { eventType: 'INFO' | 'WARN' | 'ERROR'; eventName: string; reason?: string } | null {
  const prefix = `(service ${service}) `;
  if (!message.startsWith(prefix)) return null;
  if (message === serviceEvents.steady(service))
    return { eventType: 'INFO', eventName: 'SERVICE_STEADY_STATE' };
  const rest = message.slice(prefix.length);
  if (rest.startsWith('has stopped '))
    return { eventType: 'INFO', eventName: 'TASKS_STOPPED', reason: message };
  if (rest.startsWith('now has ') && rest.includes(' eligible container instances'))
    return { eventType: 'INFO', eventName: 'SERVICE_DESIRED_COUNT_UPDATED' };
  if (rest.startsWith('was unable to place a task'))
    return { eventType: 'ERROR', eventName: 'SERVICE_TASK_PLACEMENT_FAILURE', reason: message };
  if (rest.startsWith('was unable to start a task'))
    return { eventType: 'ERROR', eventName: 'SERVICE_TASK_CONFIGURATION_FAILURE', reason: message };
  return null;
}

/** "ECS Service Action", from a line the controller or the scheduler wrote to a service's history. */
export function serviceAction(ctx: ArnContext, payload: unknown) {
  const s = read(serviceSnapshot, payload, 'service');
  const action = serviceActionOf(s.service_name, s.message);
  if (!action) return null;
  return {
    resources: [arns.service(ctx, s.cluster_name, s.service_name)],
    detail: {
      ...action,
      clusterArn: arns.cluster(ctx, s.cluster_name),
      createdAt: s.created_at,
      ...(action.eventName === 'SERVICE_DESIRED_COUNT_UPDATED' ? { desiredCount: s.desired_count } : {}),
    },
  };
}

/** The EventBridge envelope around one outbox row; null for a row that is no ECS event. */
export function ecsEvent(ctx: ArnContext, row: OutboxEvent): EcsEvent | null {
  const made =
    row.kind === 'task'
      ? taskStateChange(ctx, row.payload, row.time)
      : row.kind === 'instance'
        ? containerInstanceStateChange(ctx, row.payload, row.time)
        : row.kind === 'deployment'
          ? deploymentStateChange(ctx, row.payload, row.time)
          : serviceAction(ctx, row.payload);
  if (!made) return null;
  return {
    version: '0',
    id: row.position,
    'detail-type': EVENT_DETAIL_TYPES[row.kind],
    source: 'aws.ecs',
    account: ctx.account,
    time: row.time.toISOString(),
    region: ctx.region,
    resources: made.resources,
    detail: made.detail,
  };
}

/** The cluster an event is about, for the reader's per-cluster policy check. */
export function eventClusterName(payload: unknown): string {
  return read(z.object({ cluster_name: z.string() }), payload, 'cluster').cluster_name;
}
