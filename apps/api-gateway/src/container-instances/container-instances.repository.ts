import { Inject, Injectable } from '@nestjs/common';
import { NotFoundError } from '@berth/domain';
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
