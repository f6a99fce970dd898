import { Inject, Injectable } from '@nestjs/common';
import { NotFoundError, type AttributeChange } from '@berth/domain';
import type { ContainerInstanceModel } from '@berth/db';
import { PRISMA, type PrismaClient } from '../infra/providers.js';
import type { InstanceCounts } from '../http/views.js';

@Injectable()
export class ContainerInstancesRepository {
  constructor(@Inject(PRISMA) private readonly db: PrismaClient) {}

  async list(clusterId: string, status?: string): Promise<ContainerInstanceModel[]> {
    return this.db.containerInstance.findMany({
      where: { clusterId, ...(status ? { status } : {}) },
      orderBy: { registeredAt: 'asc' },
    });
  }

  async get(clusterId: string, id: string): Promise<ContainerInstanceModel> {
    const instance = /^[0-9a-f-]{36}$/i.test(id)
      ? await this.db.containerInstance.findFirst({ where: { id, clusterId } })
      : null;
    if (!instance) {
      throw new NotFoundError(
        'InvalidParameterException',
        `container instance ${id} does not exist in this cluster`,
        'containerInstance',
      );
    }
    return instance;
  }

  /**
   * PutAttributes / DeleteAttributes: every target must be an instance of the cluster, or
   * nothing changes. Only API-set attributes change; what the agent reports is its own.
   */
  async changeAttributes(clusterId: string, changes: AttributeChange[], op: 'put' | 'delete'): Promise<void> {
    await this.db.$transaction(async (tx) => {
      const ids = [...new Set(changes.map((c) => c.targetId))].sort();
      const valid = ids.filter((id) => /^[0-9a-f-]{36}$/i.test(id));
      const rows = await tx.$queryRaw<{ id: string; api_attributes: Record<string, string> }[]>`
        SELECT id, api_attributes FROM container_instance
         WHERE id = ANY(${valid}::uuid[]) AND cluster_id = ${clusterId}::uuid ORDER BY id FOR UPDATE`;
      const current = new Map(rows.map((r) => [r.id, { ...r.api_attributes }]));
      changes.forEach((c, i) => {
        const attrs = current.get(c.targetId);
        if (!attrs) {
          throw new NotFoundError(
            'TargetNotFoundException',
            `attributes[${i}].targetId: container instance ${c.targetId} is not in this cluster`,
            `attributes[${i}].targetId`,
          );
        }
        if (op === 'put') attrs[c.name] = c.value!;
        else delete attrs[c.name];
      });
      for (const [id, attrs] of current) {
        await tx.containerInstance.update({ where: { id }, data: { apiAttributes: attrs } });
      }
    });
  }

  async counts(ids: string[]): Promise<Map<string, InstanceCounts>> {
    const [tasks, ports] = await Promise.all([
      this.db.task.groupBy({
        by: ['containerInstanceId', 'lastStatus'],
        where: { containerInstanceId: { in: ids }, lastStatus: { in: ['PENDING', 'RUNNING'] } },
        _count: true,
      }),
      this.db.portReservation.findMany({
        where: { containerInstanceId: { in: ids } },
        orderBy: { hostPort: 'asc' },
      }),
    ]);
    const out = new Map<string, InstanceCounts>(
      ids.map((id) => [id, { runningTasksCount: 0, pendingTasksCount: 0, reservedPorts: [] }]),
    );
    for (const row of tasks) {
      const c = out.get(row.containerInstanceId!)!;
      if (row.lastStatus === 'RUNNING') c.runningTasksCount += row._count;
      else c.pendingTasksCount += row._count;
    }
    for (const p of ports) out.get(p.containerInstanceId)!.reservedPorts.push(`${p.hostPort}/${p.protocol}`);
    return out;
  }
}
