import { Inject, Injectable } from '@nestjs/common';
import { PRISMA, type PrismaClient } from '../infra/providers.js';

export interface TaskProtectionRow {
  id: string;
  serviceId: string | null;
  protectedUntil: Date | null;
}

const SELECT = { id: true, serviceId: true, protectedUntil: true } as const;

/** The only door to Postgres for task protection: one column on `task`. */
@Injectable()
export class TaskProtectionRepository {
  constructor(@Inject(PRISMA) private readonly db: PrismaClient) {}

  /** The cluster's tasks among `ids`, whatever their status. */
  async find(clusterId: string, ids: string[]): Promise<TaskProtectionRow[]> {
    if (ids.length === 0) return [];
    return this.db.task.findMany({ where: { clusterId, id: { in: ids } }, select: SELECT });
  }

  /** The cluster's live service tasks protected after `now`. */
  async protectedAfter(clusterId: string, now: Date): Promise<TaskProtectionRow[]> {
    return this.db.task.findMany({
      where: {
        clusterId,
        serviceId: { not: null },
        lastStatus: { not: 'STOPPED' },
        protectedUntil: { gt: now },
      },
      select: SELECT,
      orderBy: { createdAt: 'asc' },
    });
  }

  /** Sets (or, with null, clears) the protection of these service tasks of the cluster. */
  async setProtection(clusterId: string, ids: string[], protectedUntil: Date | null): Promise<void> {
    if (ids.length === 0) return;
    await this.db.task.updateMany({
      where: { clusterId, id: { in: ids }, serviceId: { not: null } },
      data: { protectedUntil },
    });
  }
}
