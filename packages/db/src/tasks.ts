import { randomUUID } from 'node:crypto';
import { readTaskDefinition } from '@berth/domain';
import type { Db, Prisma, TaskContainerModel, TaskDefinitionModel, TaskModel } from './client.js';

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

/**
 * Writes PROVISIONING tasks and their container rows (RunTask, or a service starting tasks).
 * Call it inside a transaction so that all of them are written or none.
 */
export async function createTasks(tx: Db, t: NewTasks): Promise<CreatedTask[]> {
  const { family, revision } = t.taskDefinition;
  const containers = readTaskDefinition(
    t.taskDefinition.definition,
    `${family}:${revision}`,
  ).containerDefinitions;
  // Two statements whatever the count: ids are made here so the containers can refer to them.
  if (t.targetInstanceIds && t.targetInstanceIds.length !== t.count)
    throw new Error(`createTasks: ${t.targetInstanceIds.length} target instances for ${t.count} tasks`);
  const ids = Array.from({ length: t.count }, () => randomUUID());
  const tasks = await tx.task.createManyAndReturn({
    data: ids.map((id, i) => ({
      id,
      targetContainerInstanceId: t.targetInstanceIds?.[i] ?? null,
      clusterId: t.clusterId,
      taskDefinitionId: t.taskDefinition.id,
      startedBy: t.startedBy ?? null,
      group: t.group ?? `family:${t.taskDefinition.family}`,
      overrides: (t.overrides ?? {}) as Prisma.InputJsonValue,
      placementConstraints: (t.placementConstraints ?? []) as Prisma.InputJsonValue,
      placementStrategy: (t.placementStrategy ?? []) as Prisma.InputJsonValue,
      cpu: t.cpu ?? t.taskDefinition.cpu,
      memory: t.memory ?? t.taskDefinition.memory,
      tags: (t.tags ?? []) as Prisma.InputJsonValue,
      serviceId: t.serviceId ?? null,
      deploymentId: t.deploymentId ?? null,
      enableExecuteCommand: t.enableExecuteCommand ?? false,
    })),
  });
  const rows = await tx.taskContainer.createManyAndReturn({
    data: ids.flatMap((taskId) =>
      containers.map((c) => ({
        taskId,
        name: c.name,
        essential: c.essential !== false,
        hasHealthCheck: c.healthCheck !== undefined,
      })),
    ),
  });
  return tasks.map((task) => ({ ...task, containers: rows.filter((c) => c.taskId === task.id) }));
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
