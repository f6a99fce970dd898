import { Inject, Injectable } from '@nestjs/common';
import { Prisma } from '@berth/db';
import { NotFoundError, type RunTaskInput, type StopCode } from '@berth/domain';
import type { TaskDefinitionModel } from '@berth/db';
import { PRISMA, type PrismaClient } from '../infra/providers.js';
import type { TaskWithRelations } from '../http/views.js';

export const TASK_INCLUDE = { containers: true, cluster: true, taskDefinition: true } as const;

export interface TaskFilter {
  clusterId: string;
  desiredStatus?: string;
  family?: string;
  containerInstanceId?: string;
  startedBy?: string;
  afterId?: string;
  limit: number;
}

@Injectable()
export class TasksRepository {
  constructor(@Inject(PRISMA) private readonly db: PrismaClient) {}

  /** Writes `count` PROVISIONING tasks and their containers in one transaction: all or none. */
  async createTasks(
    clusterId: string,
    td: TaskDefinitionModel,
    input: RunTaskInput,
    essentials: { name: string; essential: boolean }[],
  ): Promise<TaskWithRelations[]> {
    return this.db.$transaction(async (tx) => {
      const created: TaskWithRelations[] = [];
      for (let i = 0; i < input.count; i++) {
        created.push(
          await tx.task.create({
            data: {
              clusterId,
              taskDefinitionId: td.id,
              startedBy: input.startedBy ?? null,
              group: input.group ?? `family:${td.family}`,
              overrides: (input.overrides ?? {}) as Prisma.InputJsonValue,
              cpu: td.cpu,
              memory: td.memory,
              containers: { create: essentials.map((c) => ({ name: c.name, essential: c.essential })) },
            },
            include: TASK_INCLUDE,
          }),
        );
      }
      return created;
    });
  }

  async list(f: TaskFilter): Promise<TaskWithRelations[]> {
    return this.db.task.findMany({
      where: {
        clusterId: f.clusterId,
        ...(f.desiredStatus ? { desiredStatus: f.desiredStatus } : {}),
        ...(f.family ? { taskDefinition: { family: f.family } } : {}),
        ...(f.containerInstanceId ? { containerInstanceId: f.containerInstanceId } : {}),
        ...(f.startedBy ? { startedBy: f.startedBy } : {}),
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

  /**
   * Asks a task to stop. Idempotent: only the first stop sets the stop code and reason. A task
   * not yet placed has nothing to stop and goes straight to STOPPED; the scheduler's placement is
   * guarded on desiredStatus RUNNING, so it cannot place the task after this commits.
   */
  async requestStop(taskId: string, stopCode: StopCode, reason: string): Promise<TaskWithRelations> {
    return this.db.$transaction(async (tx) => {
      const now = new Date();
      await tx.task.updateMany({
        where: { id: taskId, desiredStatus: 'RUNNING' },
        data: { desiredStatus: 'STOPPED', stopCode, stoppedReason: reason, stoppingAt: now },
      });
      await tx.task.updateMany({
        where: { id: taskId, lastStatus: 'PROVISIONING' },
        data: { lastStatus: 'STOPPED', stoppedAt: now, provisioningReason: null },
      });
      await tx.taskContainer.updateMany({
        where: { taskId, task: { lastStatus: 'STOPPED' } },
        data: { lastStatus: 'STOPPED' },
      });
      return tx.task.findUniqueOrThrow({ where: { id: taskId }, include: TASK_INCLUDE });
    });
  }
}
