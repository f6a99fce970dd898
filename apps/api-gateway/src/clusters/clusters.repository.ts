import { Inject, Injectable } from '@nestjs/common';
import { isUniqueViolation, type ClusterModel } from '@berth/db';
import { ConflictError, NotFoundError, type ContainerPolicy } from '@berth/domain';
import { PRISMA, type PrismaClient } from '../infra/providers.js';
import type { ClusterCounts } from '../http/views.js';

@Injectable()
export class ClustersRepository {
  constructor(@Inject(PRISMA) private readonly db: PrismaClient) {}

  /** Idempotent like ECS CreateCluster: creating an existing cluster returns it. */
  async create(name: string): Promise<ClusterModel> {
    try {
      return await this.db.cluster.upsert({ where: { name }, create: { name }, update: {} });
    } catch (error) {
      // Two concurrent creates of one name: the loser reads the winner's row.
      if (isUniqueViolation(error)) return this.get(name);
      throw error;
    }
  }

  /** Replaces the cluster's container policy (PutClusterPolicy). */
  async putPolicy(name: string, policy: ContainerPolicy): Promise<ClusterModel> {
    const cluster = await this.get(name);
    return this.db.cluster.update({
      where: { id: cluster.id },
      data: {
        containerPolicyLevel: policy.level,
        allowedHostPathPrefixes: [...policy.allowedHostPathPrefixes],
      },
    });
  }

  /** Clusters by name, `limit` after the name `after`. */
  async list(limit: number, after?: string): Promise<ClusterModel[]> {
    return this.db.cluster.findMany({
      where: after ? { name: { gt: after } } : {},
      orderBy: { name: 'asc' },
      take: limit,
    });
  }

  async findByNames(names: readonly string[]): Promise<ClusterModel[]> {
    return this.db.cluster.findMany({ where: { name: { in: [...names] } } });
  }

  async get(nameOrId: string): Promise<ClusterModel> {
    const cluster = await this.db.cluster.findUnique({ where: { name: nameOrId } });
    if (!cluster)
      throw new NotFoundError('ClusterNotFoundException', `cluster ${nameOrId} does not exist`, 'cluster');
    return cluster;
  }

  async counts(clusterIds: string[]): Promise<Map<string, ClusterCounts>> {
    const [instances, tasks, services] = await Promise.all([
      this.db.containerInstance.groupBy({
        by: ['clusterId'],
        where: { clusterId: { in: clusterIds }, status: { not: 'INACTIVE' } },
        _count: true,
      }),
      this.db.task.groupBy({
        by: ['clusterId', 'lastStatus'],
        where: { clusterId: { in: clusterIds }, lastStatus: { not: 'STOPPED' } },
        _count: true,
      }),
      this.db.service.groupBy({
        by: ['clusterId'],
        where: { clusterId: { in: clusterIds }, status: 'ACTIVE' },
        _count: true,
      }),
    ]);
    const out = new Map<string, ClusterCounts>(
      clusterIds.map((id) => [
        id,
        {
          registeredContainerInstancesCount: 0,
          runningTasksCount: 0,
          pendingTasksCount: 0,
          activeServicesCount: 0,
        },
      ]),
    );
    for (const row of instances) out.get(row.clusterId)!.registeredContainerInstancesCount = row._count;
    for (const row of services) out.get(row.clusterId)!.activeServicesCount = row._count;
    for (const row of tasks) {
      const c = out.get(row.clusterId)!;
      if (row.lastStatus === 'RUNNING') c.runningTasksCount += row._count;
      else c.pendingTasksCount += row._count;
    }
    return out;
  }

  /**
   * Deletes a cluster that holds no service, no live task and no registered instance. The checks and the
   * delete run in one serializable transaction, so a RunTask racing the delete cannot slip in.
   */
  async delete(name: string): Promise<ClusterModel> {
    return this.db.$transaction(
      async (tx) => {
        const cluster = await tx.cluster.findUnique({ where: { name } });
        if (!cluster)
          throw new NotFoundError('ClusterNotFoundException', `cluster ${name} does not exist`, 'cluster');
        const services = await tx.service.count({
          where: { clusterId: cluster.id, status: { not: 'INACTIVE' } },
        });
        if (services > 0) {
          throw new ConflictError(
            'ClusterContainsServicesException',
            `cluster ${name} still has ${services} service(s); delete them first`,
          );
        }
        const liveTasks = await tx.task.count({
          where: { clusterId: cluster.id, lastStatus: { not: 'STOPPED' } },
        });
        if (liveTasks > 0) {
          throw new ConflictError(
            'ClusterContainsTasksException',
            `cluster ${name} still has ${liveTasks} task(s) that are not STOPPED; stop them first`,
          );
        }
        const instances = await tx.containerInstance.count({
          where: { clusterId: cluster.id, status: { not: 'INACTIVE' } },
        });
        if (instances > 0) {
          throw new ConflictError(
            'ClusterContainsContainerInstancesException',
            `cluster ${name} still has ${instances} registered container instance(s); deregister them first`,
          );
        }
        await tx.containerInstance.deleteMany({ where: { clusterId: cluster.id } });
        await tx.cluster.delete({ where: { id: cluster.id } });
        return cluster;
      },
      { isolationLevel: 'Serializable' },
    );
  }
}
