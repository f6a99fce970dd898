import { Inject, Injectable } from '@nestjs/common';
import {
  findClientToken,
  requestTaskStop,
  writeRunTasks,
  type ClientTokenClaim,
  type ClusterModel,
  type LaunchableRevision,
  type RunTaskRequest,
} from '@berth/db';
import { checkClientTokenReuse, NotFoundError, type StopCode } from '@berth/domain';
import { PRISMA, type PrismaClient } from '../infra/providers.js';
import type { TaskWithRelations } from '../http/views.js';

export const TASK_INCLUDE = { containers: true, cluster: true, taskDefinition: true } as const;

export interface TaskFilter {
  clusterId: string;
  desiredStatus?: string;
  family?: string;
  containerInstanceId?: string;
  startedBy?: string;
  serviceName?: string;
  afterId?: string;
  limit: number;
}

@Injectable()
export class TasksRepository {
  constructor(@Inject(PRISMA) private readonly db: PrismaClient) {}

  /**
   * Writes RunTask's PROVISIONING tasks and their containers in one transaction: all or none (see
   * writeRunTasks, which a schedule's firing shares).
   */
  async createTasks(
    cluster: ClusterModel,
    revision: LaunchableRevision,
    request: RunTaskRequest,
    claim?: ClientTokenClaim,
  ): Promise<TaskWithRelations[]> {
    const created = await this.db.$transaction((tx) => writeRunTasks(tx, cluster, revision, request, claim));
    return created.map((t) => ({ ...t, cluster, taskDefinition: revision.td }));
  }

  /**
   * The tasks an earlier RunTask with this client token created, as they are now; undefined if no
   * call has used the token. A 400 if that call had other parameters.
   */
  async replay(claim: ClientTokenClaim): Promise<TaskWithRelations[] | undefined> {
    const stored = await findClientToken(this.db, claim);
    if (!stored) return undefined;
    checkClientTokenReuse(stored, claim.requestHash);
    const tasks = await this.db.task.findMany({
      where: { id: { in: stored.resourceIds } },
      include: TASK_INCLUDE,
    });
    const byId = new Map(tasks.map((t) => [t.id, t]));
    return stored.resourceIds.flatMap((id) => byId.get(id) ?? []);
  }

  async list(f: TaskFilter): Promise<TaskWithRelations[]> {
    return this.db.task.findMany({
      where: {
        clusterId: f.clusterId,
        ...(f.desiredStatus ? { desiredStatus: f.desiredStatus } : {}),
        ...(f.family ? { taskDefinition: { family: f.family } } : {}),
        ...(f.containerInstanceId ? { containerInstanceId: f.containerInstanceId } : {}),
        ...(f.startedBy ? { startedBy: f.startedBy } : {}),
        ...(f.serviceName ? { service: { name: f.serviceName } } : {}),
        ...(f.afterId ? { id: { gt: f.afterId } } : {}),
      },
      include: TASK_INCLUDE,
      orderBy: { id: 'asc' },
      take: f.limit,
    });
  }

  async getMany(clusterId: string, taskIds: readonly string[]): Promise<TaskWithRelations[]> {
    return this.db.task.findMany({ where: { id: { in: [...taskIds] }, clusterId }, include: TASK_INCLUDE });
  }

  async get(clusterId: string, taskId: string): Promise<TaskWithRelations> {
    const task = /^[0-9a-f-]{36}$/i.test(taskId)
      ? await this.db.task.findFirst({ where: { id: taskId, clusterId }, include: TASK_INCLUDE })
      : null;
    if (!task)
      throw new NotFoundError(
        'InvalidParameterException',
        `task ${taskId} does not exist in this cluster`,
        'task',
      );
    return task;
  }

  /** StopTask: idempotent; see requestTaskStop. */
  async requestStop(taskId: string, stopCode: StopCode, reason: string): Promise<TaskWithRelations> {
    return this.db.$transaction(async (tx) => {
      await requestTaskStop(tx, taskId, { stopCode, reason });
      return tx.task.findUniqueOrThrow({ where: { id: taskId }, include: TASK_INCLUDE });
    });
  }
}
