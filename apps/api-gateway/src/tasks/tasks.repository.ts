import { Inject, Injectable } from '@nestjs/common';
import { createTasks, requestTaskStop } from '@berth/db';
import { NotFoundError, type RunTaskInput, type StopCode } from '@berth/domain';
import type { ClusterModel, TaskDefinitionModel } from '@berth/db';
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

  /** Writes `count` PROVISIONING tasks and their containers in one transaction: all or none. */
  async createTasks(
    cluster: ClusterModel,
    td: TaskDefinitionModel,
    input: RunTaskInput,
    placement: { placementConstraints: unknown[]; placementStrategy: readonly unknown[] },
    reservation: { cpu: number; memory: number },
  ): Promise<TaskWithRelations[]> {
    const created = await this.db.$transaction((tx) =>
      createTasks(tx, {
        clusterId: cluster.id,
        taskDefinition: td,
        count: input.count,
        startedBy: input.startedBy,
        group: input.group,
        overrides: input.overrides,
        placementConstraints: placement.placementConstraints,
        placementStrategy: [...placement.placementStrategy],
        cpu: reservation.cpu,
        memory: reservation.memory,
        tags: input.tags,
      }),
    );
    return created.map((t) => ({ ...t, cluster, taskDefinition: td }));
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
