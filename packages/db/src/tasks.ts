import { randomUUID } from 'node:crypto';
import { readTaskDefinition } from '@berth/domain';
import type { Db, TaskContainerModel, TaskDefinitionModel, TaskModel } from './client.js';
import { statement, type SqlExecutor } from './sql.js';

export interface NewTasks {
  clusterId: string;
  taskDefinition: TaskDefinitionModel;
  count: number;
  startedBy?: string | null;
  group?: string | null;
  overrides?: unknown;
  serviceId?: string;
  deploymentId?: string;
  placementConstraints?: unknown[];
  placementStrategy?: unknown[];
  /** The reservation of each task when RunTask overrides change it; the definition's otherwise. */
  cpu?: number;
  memory?: number;
  tags?: unknown[];
  /** One target instance per task (a DAEMON service's tasks, StartTask): `count` must match. */
  targetInstanceIds?: string[];
  /** RunTask's enableExecuteCommand, or the service's. */
  enableExecuteCommand?: boolean;
}

/** A task row as the Task model, for plain SQL (`SELECT ${TASK_COLUMNS} FROM task t`). */
export const TASK_COLUMNS = `t.id, t.cluster_id AS "clusterId", t.task_definition_id AS "taskDefinitionId",
  t.container_instance_id AS "containerInstanceId", t.last_status AS "lastStatus",
  t.desired_status AS "desiredStatus", t.started_by AS "startedBy", t.service_id AS "serviceId",
  t.deployment_id AS "deploymentId", t.failed, t."group", t.overrides, t.tags,
  t.placement_constraints AS "placementConstraints", t.placement_strategy AS "placementStrategy",
  t.cpu, t.memory, t.holds_reservation AS "holdsReservation",
  t.provisioning_reason AS "provisioningReason", t.stop_code AS "stopCode",
  t.stopped_reason AS "stoppedReason", t.created_at AS "createdAt", t.placed_at AS "placedAt",
  t.pull_started_at AS "pullStartedAt", t.pull_stopped_at AS "pullStoppedAt",
  t.started_at AS "startedAt", t.stopping_at AS "stoppingAt", t.stopped_at AS "stoppedAt",
  t.updated_at AS "updatedAt", t.protected_until AS "protectedUntil",
  t.target_container_instance_id AS "targetContainerInstanceId",
  t.enable_execute_command AS "enableExecuteCommand", t.start_trace AS "startTrace"`;

/** A container row as the TaskContainer model (`SELECT ${CONTAINER_COLUMNS} FROM task_container c`). */
export const CONTAINER_COLUMNS = `c.id, c.task_id AS "taskId", c.name, c.runtime_id AS "runtimeId",
  c.last_status AS "lastStatus", c.exit_code AS "exitCode", c.reason, c.health_status AS "healthStatus",
  c.has_health_check AS "hasHealthCheck", c.essential, c.network_bindings AS "networkBindings"`;

/** Tasks with their containers (`containers`, as Prisma's include gives them) in one statement. */
export const TASK_WITH_CONTAINERS = `SELECT ${TASK_COLUMNS},
    coalesce((SELECT json_agg(json_build_object('id', c.id, 'taskId', c.task_id, 'name', c.name,
                'runtimeId', c.runtime_id, 'lastStatus', c.last_status, 'exitCode', c.exit_code,
                'reason', c.reason, 'healthStatus', c.health_status, 'hasHealthCheck', c.has_health_check,
                'essential', c.essential, 'networkBindings', c.network_bindings) ORDER BY c.id)
                FROM task_container c WHERE c.task_id = t.id), '[]') AS containers
  FROM task t`;

/** Tasks by id, with their containers. */
export const TASKS_WITH_CONTAINERS_BY_ID = statement(
  'tasks_with_containers_by_id',
  `${TASK_WITH_CONTAINERS} WHERE t.id = ANY($1::uuid[])`,
);

// Two statements whatever the count: ids are made here so the containers can refer to them.
const INSERT_TASKS = statement(
  'insert_tasks',
  `INSERT INTO task AS t (id, target_container_instance_id, cluster_id, task_definition_id, started_by, "group",
          overrides, placement_constraints, placement_strategy, cpu, memory, tags, service_id, deployment_id,
          enable_execute_command, created_at, updated_at)
   SELECT v.id, v.target, $3::uuid, $4::uuid, $5, $6, $7::jsonb, $8::jsonb, $9::jsonb, $10, $11, $12::jsonb,
          $13::uuid, $14::uuid, $15, $16::timestamp(3), $16::timestamp(3)
     FROM unnest($1::uuid[], $2::uuid[]) AS v(id, target)
   RETURNING ${TASK_COLUMNS}`,
);
const INSERT_CONTAINERS = statement(
  'insert_task_containers',
  `INSERT INTO task_container AS c (id, task_id, name, essential, has_health_check)
   SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::bool[], $5::bool[])
   RETURNING ${CONTAINER_COLUMNS}`,
);

/**
 * Writes PROVISIONING tasks and their container rows (RunTask, or a service starting tasks).
 * Call it inside a transaction so that all of them are written or none.
 */
export async function createTasks(tx: SqlExecutor, t: NewTasks): Promise<CreatedTask[]> {
  const { family, revision } = t.taskDefinition;
  const containers = readTaskDefinition(
    t.taskDefinition.definition,
    `${family}:${revision}`,
  ).containerDefinitions;
  if (t.targetInstanceIds && t.targetInstanceIds.length !== t.count)
    throw new Error(`createTasks: ${t.targetInstanceIds.length} target instances for ${t.count} tasks`);
  const ids = Array.from({ length: t.count }, () => randomUUID());
  const tasks = await tx.rows<TaskModel>(INSERT_TASKS, [
    ids,
    ids.map((_, i) => t.targetInstanceIds?.[i] ?? null),
    t.clusterId,
    t.taskDefinition.id,
    t.startedBy ?? null,
    t.group ?? `family:${t.taskDefinition.family}`,
    JSON.stringify(t.overrides ?? {}),
    JSON.stringify(t.placementConstraints ?? []),
    JSON.stringify(t.placementStrategy ?? []),
    t.cpu ?? t.taskDefinition.cpu,
    t.memory ?? t.taskDefinition.memory,
    JSON.stringify(t.tags ?? []),
    t.serviceId ?? null,
    t.deploymentId ?? null,
    t.enableExecuteCommand ?? false,
    new Date(),
  ]);
  const rows = ids.flatMap((taskId) => containers.map((c) => ({ taskId, c })));
  const created = await tx.rows<TaskContainerModel>(INSERT_CONTAINERS, [
    rows.map(() => randomUUID()),
    rows.map((r) => r.taskId),
    rows.map((r) => r.c.name),
    rows.map((r) => r.c.essential !== false),
    rows.map((r) => r.c.healthCheck !== undefined),
  ]);
  const byTask = new Map<string, TaskContainerModel[]>();
  for (const c of created) byTask.set(c.taskId, [...(byTask.get(c.taskId) ?? []), c]);
  // In the order asked, as Prisma's createManyAndReturn gave them.
  const byId = new Map(tasks.map((task) => [task.id, task]));
  return ids.map((id) => ({ ...byId.get(id)!, containers: byTask.get(id) ?? [] }));
}

export type CreatedTask = TaskModel & { containers: TaskContainerModel[] };

/**
 * Asks a task to stop. Idempotent: only the first request sets the stop code and reason. A task
 * not yet placed has nothing to stop and goes straight to STOPPED; the scheduler's placement is
 * guarded on desiredStatus RUNNING, so it cannot place the task once this commits. Returns
 * whether this call made the request.
 */
export async function requestTaskStop(
  tx: Db,
  taskId: string,
  stop: { stopCode: string; reason: string; failed?: boolean },
): Promise<boolean> {
  const now = new Date();
  const { count } = await tx.task.updateMany({
    where: { id: taskId, desiredStatus: 'RUNNING' },
    data: {
      desiredStatus: 'STOPPED',
      stopCode: stop.stopCode,
      stoppedReason: stop.reason,
      stoppingAt: now,
      ...(stop.failed ? { failed: true } : {}),
    },
  });
  await tx.task.updateMany({
    where: { id: taskId, lastStatus: 'PROVISIONING' },
    data: { lastStatus: 'STOPPED', stoppedAt: now, provisioningReason: null },
  });
  await tx.taskContainer.updateMany({
    where: { taskId, task: { lastStatus: 'STOPPED' } },
    data: { lastStatus: 'STOPPED' },
  });
  if (count === 1) await startTaskDrain(tx, taskId, now);
  return count === 1;
}

/**
 * A RUNNING task with load-balancer targets leaves them before it stops: its targets start
 * draining (the load balancers stop sending it new requests) and it shows DEACTIVATING. The
 * gateway keeps it RUNNING on its agent until the deployment-controller's target sweep ends the
 * drain (deletes the targets) and tells the agent. A task without targets is not touched.
 */
export async function startTaskDrain(tx: Db, taskId: string, now: Date): Promise<boolean> {
  const targets = await tx.target.count({ where: { taskId } });
  if (targets === 0) return false;
  await tx.target.updateMany({ where: { taskId, drainingSince: null }, data: { drainingSince: now } });
  const { count } = await tx.task.updateMany({
    where: { id: taskId, lastStatus: 'RUNNING' },
    data: { lastStatus: 'DEACTIVATING' },
  });
  return count === 1;
}
