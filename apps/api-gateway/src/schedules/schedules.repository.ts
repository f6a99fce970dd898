import { Inject, Injectable } from '@nestjs/common';
import { isUniqueViolation, Prisma, type ScheduleModel, type ScheduleRunModel } from '@berth/db';
import { ConflictError, NotFoundError } from '@berth/domain';
import { PRISMA, type PrismaClient } from '../infra/providers.js';

/** A schedule's columns as the service computes them. */
export interface ScheduleData {
  name: string;
  description: string | null;
  scheduleExpression: string;
  scheduleExpressionTimezone: string;
  flexibleTimeWindow: unknown;
  state: 'ENABLED' | 'DISABLED';
  runTask: Record<string, unknown>;
  startAt: Date;
  nextFireAt: Date | null;
}

const notFound = (name: string, cluster: string) =>
  new NotFoundError(
    'ResourceNotFoundException',
    `schedule ${name} does not exist in cluster ${cluster}`,
    'schedule',
  );

const columns = (d: ScheduleData) => ({
  ...d,
  flexibleTimeWindow: d.flexibleTimeWindow as Prisma.InputJsonValue,
  runTask: d.runTask as Prisma.InputJsonValue,
});

@Injectable()
export class SchedulesRepository {
  constructor(@Inject(PRISMA) private readonly db: PrismaClient) {}

  async create(cluster: { id: string; name: string }, data: ScheduleData): Promise<ScheduleModel> {
    try {
      return await this.db.schedule.create({ data: { clusterId: cluster.id, ...columns(data) } });
    } catch (error) {
      if (isUniqueViolation(error))
        throw new ConflictError(
          'ConflictException',
          `schedule ${data.name} already exists in cluster ${cluster.name}; update it with PUT or PATCH`,
        );
      throw error;
    }
  }

  /** In name order, `limit` at a time, after `afterName`. */
  async list(clusterId: string, afterName: string | undefined, limit: number): Promise<ScheduleModel[]> {
    return this.db.schedule.findMany({
      where: { clusterId, ...(afterName === undefined ? {} : { name: { gt: afterName } }) },
      orderBy: { name: 'asc' },
      take: limit,
    });
  }

  async get(cluster: { id: string; name: string }, name: string): Promise<ScheduleModel> {
    const found = await this.db.schedule.findFirst({ where: { clusterId: cluster.id, name } });
    if (!found) throw notFound(name, cluster.name);
    return found;
  }

  /**
   * Replaces the schedule's columns if it is still as `read` was (its updatedAt), so that two
   * concurrent updates cannot both build on the same read: the later one gets a 409 and retries.
   */
  async update(
    cluster: { id: string; name: string },
    read: ScheduleModel,
    data: ScheduleData,
  ): Promise<ScheduleModel> {
    const [updated] = await this.db.schedule.updateManyAndReturn({
      where: { id: read.id, updatedAt: read.updatedAt },
      data: columns(data),
    });
    if (updated) return updated;
    await this.get(cluster, read.name);
    throw new ConflictError(
      'ConflictException',
      `schedule ${read.name} was changed by another call meanwhile; read it again and retry`,
    );
  }

  async delete(cluster: { id: string; name: string }, name: string): Promise<ScheduleModel> {
    const found = await this.get(cluster, name);
    // deleteMany: a concurrent delete of the same schedule is not an error. Runs go with it.
    await this.db.schedule.deleteMany({ where: { id: found.id } });
    return found;
  }

  /** The schedule's latest runs, newest first. */
  async runs(scheduleId: string, limit: number): Promise<ScheduleRunModel[]> {
    return this.db.scheduleRun.findMany({
      where: { scheduleId },
      orderBy: { scheduledAt: 'desc' },
      take: limit,
    });
  }
}
