import { Inject, Injectable } from '@nestjs/common';
import { ConflictError, NotFoundError, readAttributeMap, type AttributeChange } from '@berth/domain';
import { requestTaskStop } from '@berth/db';
import type { ContainerInstanceModel } from '@berth/db';
import { PRISMA, type PrismaClient } from '../infra/providers.js';
import type { InstanceCounts } from '../http/views.js';

@Injectable()
export class ContainerInstancesRepository {
  constructor(@Inject(PRISMA) private readonly db: PrismaClient) {}

  /** In the order they registered (ties by id), `limit` after `after`. */
  async list(
    clusterId: string,
    status: string | undefined,
    limit: number,
    after?: readonly [string, string],
  ): Promise<ContainerInstanceModel[]> {
    return this.db.containerInstance.findMany({
      where: {
        clusterId,
        ...(status ? { status } : {}),
        ...(after
          ? {
              OR: [
                { registeredAt: { gt: new Date(after[0]) } },
                { registeredAt: new Date(after[0]), id: { gt: after[1] } },
              ],
            }
          : {}),
      },
      orderBy: [{ registeredAt: 'asc' }, { id: 'asc' }],
      take: limit,
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

  async getMany(clusterId: string, ids: readonly string[]): Promise<ContainerInstanceModel[]> {
    return this.db.containerInstance.findMany({ where: { clusterId, id: { in: [...ids] } } });
  }

  /**
   * PutAttributes / DeleteAttributes: every target must be an instance of the cluster, or
   * nothing changes. Only API-set attributes change; what the agent reports is its own.
   */
  async changeAttributes(clusterId: string, changes: AttributeChange[], op: 'put' | 'delete'): Promise<void> {
    await this.db.$transaction(async (tx) => {
      const ids = [...new Set(changes.map((c) => c.targetId))].sort();
      const valid = ids.filter((id) => /^[0-9a-f-]{36}$/i.test(id));
      const rows = await tx.$queryRaw<{ id: string; api_attributes: unknown }[]>`
        SELECT id, api_attributes FROM container_instance
         WHERE id = ANY(${valid}::uuid[]) AND cluster_id = ${clusterId}::uuid ORDER BY id FOR UPDATE`;
      const current = new Map(rows.map((r) => [r.id, { ...readAttributeMap(r.api_attributes, r.id) }]));
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

  /**
   * UpdateContainerInstancesState: DRAINING takes no new tasks and has its service tasks moved;
   * ACTIVE undoes it. Returns the services with live tasks there, which must now reconcile.
   */
  async setStatus(clusterId: string, id: string, status: 'ACTIVE' | 'DRAINING'): Promise<string[]> {
    const instance = await this.get(clusterId, id);
    if (instance.status === 'INACTIVE') {
      throw new ConflictError('ClientException', `container instance ${id} is deregistered (INACTIVE)`);
    }
    await this.db.containerInstance.updateMany({
      where: { id, status: { not: 'INACTIVE' } },
      data: { status },
    });
    return this.liveServiceIds(id);
  }

  /**
   * DeregisterContainerInstance: INACTIVE, for good. Refused while tasks live there unless forced;
   * forced, those tasks are asked to stop (services replace theirs elsewhere).
   */
  async deregister(
    clusterId: string,
    id: string,
    force: boolean,
  ): Promise<{ stopped: string[]; services: string[] }> {
    return this.db.$transaction(async (tx) => {
      await this.get(clusterId, id);
      const live = await tx.task.findMany({
        where: { containerInstanceId: id, lastStatus: { not: 'STOPPED' } },
        select: { id: true, serviceId: true },
      });
      if (live.length > 0 && !force) {
        throw new ConflictError(
          'ClientException',
          `container instance ${id} still runs ${live.length} task(s); stop them, drain it, or deregister with ?force=true`,
        );
      }
      const stopped: string[] = [];
      for (const t of live) {
        if (
          await requestTaskStop(tx, t.id, {
            stopCode: 'UserInitiated',
            reason: 'Container instance deregistered',
          })
        ) {
          stopped.push(t.id);
        }
      }
      await tx.containerInstance.update({ where: { id }, data: { status: 'INACTIVE' } });
      return {
        stopped,
        services: [...new Set(live.map((t) => t.serviceId).filter((s): s is string => s !== null))],
      };
    });
  }

  /** A cluster's DAEMON services: an instance that drains, returns or leaves changes what they run. */
  async daemonServiceIds(clusterId: string): Promise<string[]> {
    const rows = await this.db.service.findMany({
      where: { clusterId, status: 'ACTIVE', schedulingStrategy: 'DAEMON' },
      select: { id: true },
    });
    return rows.map((r) => r.id);
  }

  private async liveServiceIds(instanceId: string): Promise<string[]> {
    const rows = await this.db.task.findMany({
      where: { containerInstanceId: instanceId, lastStatus: { not: 'STOPPED' }, serviceId: { not: null } },
      distinct: ['serviceId'],
      select: { serviceId: true },
    });
    return rows.map((r) => r.serviceId!);
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
