import type { PrismaClient } from '@berth/db';
import { parseStatus, type StopDecision } from '@berth/domain';
import type { TaskRecord, TaskStore } from './stores.js';

/** The controller's only door to Postgres for tasks. */
export class TasksRepository implements TaskStore {
  constructor(private readonly db: PrismaClient) {}

  async get(taskId: string): Promise<TaskRecord | null> {
    const t = await this.db.task.findUnique({ where: { id: taskId }, include: { containers: true } });
    if (!t) return null;
    return {
      id: t.id,
      clusterId: t.clusterId,
      containerInstanceId: t.containerInstanceId,
      serviceId: t.serviceId,
      lastStatus: parseStatus.taskLast(t.lastStatus),
      desiredStatus: parseStatus.taskDesired(t.desiredStatus),
      startedAt: t.startedAt,
      containers: t.containers.map((c) => ({
        name: c.name,
        essential: c.essential,
        lastStatus: parseStatus.container(c.lastStatus),
        exitCode: c.exitCode,
        reason: c.reason,
      })),
    };
  }

  async withStoppedEssentialContainer(limit = 500): Promise<string[]> {
    const rows = await this.db.task.findMany({
      where: { desiredStatus: 'RUNNING', containers: { some: { essential: true, lastStatus: 'STOPPED' } } },
      select: { id: true },
      take: limit,
    });
    return rows.map((r) => r.id);
  }

  async requestStop(taskId: string, decision: StopDecision): Promise<boolean> {
    // Every essential stop is a failure: it is what the deployment circuit breaker counts.
    const data = {
      desiredStatus: 'STOPPED',
      stopCode: decision.stopCode,
      stoppingAt: new Date(),
      failed: true,
    };
    // A reason the agent already gave (the task stopped before we looked) is the more precise one.
    const { count } = await this.db.task.updateMany({
      where: { id: taskId, desiredStatus: 'RUNNING', stoppedReason: null },
      data: { ...data, stoppedReason: decision.stoppedReason },
    });
    if (count === 1) return true;
    return (
      (await this.db.task.updateMany({ where: { id: taskId, desiredStatus: 'RUNNING' }, data })).count === 1
    );
  }
}
