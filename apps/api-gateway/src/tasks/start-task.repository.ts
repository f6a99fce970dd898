import { Inject, Injectable } from '@nestjs/common';
import { createTasks, sqlOf, type ClusterModel, type TaskDefinitionModel } from '@berth/db';
import type { StartTaskInput } from '@berth/domain';
import { PRISMA, type PrismaClient } from '../infra/providers.js';
import type { TaskWithRelations } from '../http/views.js';

/** StartTask's door to Postgres: the instances named, and the targeted tasks in one transaction. */
@Injectable()
export class StartTaskRepository {
  constructor(@Inject(PRISMA) private readonly db: PrismaClient) {}

  /** Which of these ids are instances of the cluster that are not deregistered. */
  async registeredInstances(clusterId: string, ids: string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await this.db.containerInstance.findMany({
      where: { clusterId, id: { in: ids }, status: { not: 'INACTIVE' } },
      select: { id: true },
    });
    return new Set(rows.map((r) => r.id));
  }

  /** One PROVISIONING task per instance, targeted at it: all or none. */
  async create(
    cluster: ClusterModel,
    td: TaskDefinitionModel,
    input: StartTaskInput,
    instanceIds: string[],
    reservation: { cpu: number; memory: number },
  ): Promise<TaskWithRelations[]> {
    const created = await sqlOf(this.db).transaction((tx) =>
      createTasks(tx, {
        clusterId: cluster.id,
        taskDefinition: td,
        count: instanceIds.length,
        targetInstanceIds: instanceIds,
        startedBy: input.startedBy,
        group: input.group,
        overrides: input.overrides,
        placementConstraints: [],
        placementStrategy: [],
        cpu: reservation.cpu,
        memory: reservation.memory,
        tags: input.tags,
      }),
    );
    return created.map((t) => ({ ...t, cluster, taskDefinition: td }));
  }
}
