import { Inject, Injectable } from '@nestjs/common';
import {
  isUniqueViolation,
  Prisma,
  purgeDeletedTaskDefinitions,
  sqlOf,
  statement,
  type ClusterModel,
} from '@berth/db';
import { ConflictError, NotFoundError, type ContainerPolicy, type Tag } from '@berth/domain';
import { PRISMA, type PrismaClient } from '../infra/providers.js';
import type { ClusterCounts } from '../http/views.js';

/** What CreateCluster and UpdateCluster keep: tags, and ECS settings and configuration as sent. */
export interface ClusterSpec {
  tags?: Tag[];
  settings?: unknown[];
  configuration?: Record<string, unknown>;
}

const CLUSTER_BY_NAME = statement(
  'cluster_by_name',
  `SELECT id, name, container_policy_level AS "containerPolicyLevel",
          allowed_host_path_prefixes AS "allowedHostPathPrefixes", status, tags, settings, configuration,
          created_at AS "createdAt"
     FROM cluster WHERE name = $1`,
);

@Injectable()
export class ClustersRepository {
  constructor(@Inject(PRISMA) private readonly db: PrismaClient) {}

  /**
   * Idempotent like ECS CreateCluster: creating an ACTIVE cluster returns it as it is. The name of
   * an INACTIVE (deleted) cluster is taken again, as ECS allows: the row becomes ACTIVE with the
   * new call's tags, settings and configuration, and a new creation time.
   */
  async create(name: string, spec: ClusterSpec = {}): Promise<ClusterModel> {
    const fresh = {
      tags: (spec.tags ?? []) as unknown as Prisma.InputJsonValue,
      settings: (spec.settings ?? []) as Prisma.InputJsonValue,
      configuration: (spec.configuration ?? Prisma.DbNull) as Prisma.InputJsonValue,
    };
    const revived = await this.db.cluster.updateMany({
      where: { name, status: 'INACTIVE' },
      data: { ...fresh, status: 'ACTIVE', createdAt: new Date() },
    });
    if (revived.count > 0) return this.get(name);
    try {
      return await this.db.cluster.upsert({ where: { name }, create: { name, ...fresh }, update: {} });
    } catch (error) {
      // Two concurrent creates of one name: the loser reads the winner's row.
      if (isUniqueViolation(error)) return this.get(name);
      throw error;
    }
  }

  /** UpdateCluster / UpdateClusterSettings: the members given replace the stored ones. */
  async update(name: string, spec: Omit<ClusterSpec, 'tags'>): Promise<ClusterModel> {
    const cluster = await this.get(name);
    return this.db.cluster.update({
      where: { id: cluster.id },
      data: {
        ...(spec.settings ? { settings: spec.settings as Prisma.InputJsonValue } : {}),
        ...(spec.configuration ? { configuration: spec.configuration as Prisma.InputJsonValue } : {}),
      },
    });
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

  /** ACTIVE clusters by name, `limit` after the name `after`. */
  async list(limit: number, after?: string): Promise<ClusterModel[]> {
    return this.db.cluster.findMany({
      where: { status: 'ACTIVE', ...(after ? { name: { gt: after } } : {}) },
      orderBy: { name: 'asc' },
      take: limit,
    });
  }

  /** ACTIVE and INACTIVE clusters alike, as DescribeClusters answers both. */
  async findByNames(names: readonly string[]): Promise<ClusterModel[]> {
    return this.db.cluster.findMany({ where: { name: { in: [...names] } } });
  }

  /** An ACTIVE cluster: every call but DescribeClusters treats an INACTIVE one as gone. */
  /** Every cluster-scoped request starts here: plain SQL (see @berth/db's sql.ts). */
  async get(nameOrId: string): Promise<ClusterModel> {
    const [cluster] = await sqlOf(this.db).rows<ClusterModel>(CLUSTER_BY_NAME, [nameOrId]);
    if (!cluster || cluster.status !== 'ACTIVE')
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
   * Deletes a cluster that holds no service, no live task and no registered instance: it stays,
   * INACTIVE and describable, and what it held (stopped tasks, INACTIVE services and instances,
   * secrets, registry credentials, join and client tokens) is removed. The checks and the writes
   * run in one serializable transaction, so a RunTask racing the delete cannot slip in.
   */
  async delete(name: string): Promise<ClusterModel> {
    return this.db.$transaction(
      async (tx) => {
        const cluster = await tx.cluster.findUnique({ where: { name } });
        if (!cluster || cluster.status !== 'ACTIVE')
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
        const inCluster = { where: { clusterId: cluster.id } };
        await tx.task.deleteMany(inCluster);
        await tx.service.deleteMany(inCluster);
        await tx.containerInstance.deleteMany(inCluster);
        await tx.secret.deleteMany(inCluster);
        await tx.schedule.deleteMany(inCluster);
        await tx.registryCredential.deleteMany(inCluster);
        await tx.clientToken.deleteMany(inCluster);
        await tx.joinToken.deleteMany(inCluster);
        // Revisions DeleteTaskDefinitions left because those tasks referred to them can go now.
        await purgeDeletedTaskDefinitions(tx);
        return tx.cluster.update({ where: { id: cluster.id }, data: { status: 'INACTIVE' } });
      },
      { isolationLevel: 'Serializable' },
    );
  }
}
