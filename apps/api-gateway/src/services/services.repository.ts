import { Inject, Injectable } from '@nestjs/common';
import {
  claimClientToken,
  findClientToken,
  isUniqueViolation,
  Prisma,
  recordClientTokenResources,
  setServiceDesiredCount,
  viaPrisma,
  type ClientTokenClaim,
} from '@berth/db';
import {
  checkClientTokenReuse,
  ConflictError,
  InvalidParameterError,
  loadBalancersDiffer,
  NotFoundError,
  type DeploymentConfiguration,
  type DisconnectedTaskBehavior,
  type PropagateTags,
  type SchedulingStrategyName,
  type Tag,
} from '@berth/domain';
import type { TaskDefinitionModel } from '@berth/db';
import { PRISMA, type PrismaClient } from '../infra/providers.js';

export const SERVICE_INCLUDE = {
  cluster: true,
  taskDefinition: true,
  deployments: {
    where: { status: { not: 'INACTIVE' } },
    include: { taskDefinition: true },
    orderBy: { createdAt: 'desc' },
  },
  events: { orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: 10 },
  loadBalancers: {
    include: { targetGroup: { select: { name: true } } },
    orderBy: [{ containerName: 'asc' }, { containerPort: 'asc' }],
  },
} as const satisfies Prisma.ServiceInclude;

/** A service's loadBalancers entry, its target group named (resolved to an id in the transaction). */
export interface ServiceLoadBalancerEntry {
  targetGroupName: string;
  containerName: string;
  containerPort: number;
}

export type ServiceWithRelations = Prisma.ServiceGetPayload<{ include: typeof SERVICE_INCLUDE }>;

export interface NewService {
  clusterId: string;
  serviceName: string;
  taskDefinition: TaskDefinitionModel;
  desiredCount: number;
  deployment: DeploymentConfiguration;
  healthCheckGracePeriodSeconds: number;
  disconnectedTaskBehavior: DisconnectedTaskBehavior;
  placementConstraints: unknown[];
  placementStrategy: unknown[];
  schedulingStrategy: SchedulingStrategyName;
  tags: Tag[];
  propagateTags: PropagateTags;
  enableEcsManagedTags: boolean;
  enableExecuteCommand: boolean;
  loadBalancers: ServiceLoadBalancerEntry[];
}

export interface ServiceChange {
  taskDefinition?: TaskDefinitionModel;
  forceNewDeployment?: boolean;
  desiredCount?: number;
  deployment?: DeploymentConfiguration;
  healthCheckGracePeriodSeconds?: number;
  disconnectedTaskBehavior?: DisconnectedTaskBehavior;
  propagateTags?: PropagateTags;
  enableEcsManagedTags?: boolean;
  enableExecuteCommand?: boolean;
  /** The new full set, when given. */
  loadBalancers?: ServiceLoadBalancerEntry[];
}

type Tx = Prisma.TransactionClient;

export interface TaskCountRow {
  deploymentId: string | null;
  lastStatus: string;
  failed: boolean;
  count: number;
}

const duplicate = (name: string) =>
  new InvalidParameterError(
    `serviceName: a service named ${name} is already ACTIVE or DRAINING in this cluster; update it, or delete it first`,
    'serviceName',
  );

@Injectable()
export class ServicesRepository {
  constructor(@Inject(PRISMA) private readonly db: PrismaClient) {}

  /** The service and its first PRIMARY deployment, in one transaction. */
  /**
   * With a client token, the transaction takes the token first (ClientTokenTaken if another call
   * holds it) and records the service id.
   */
  async create(s: NewService, claim?: ClientTokenClaim): Promise<ServiceWithRelations> {
    try {
      return await this.db.$transaction(async (tx) => {
        if (claim) await claimClientToken(viaPrisma(tx), claim);
        const live = await tx.service.findFirst({
          where: { clusterId: s.clusterId, name: s.serviceName, status: { not: 'INACTIVE' } },
        });
        if (live) throw duplicate(s.serviceName);
        const service = await tx.service.create({
          data: {
            clusterId: s.clusterId,
            name: s.serviceName,
            taskDefinitionId: s.taskDefinition.id,
            desiredCount: s.desiredCount,
            minimumHealthyPercent: s.deployment.minimumHealthyPercent,
            maximumPercent: s.deployment.maximumPercent,
            circuitBreakerEnable: s.deployment.deploymentCircuitBreaker.enable,
            circuitBreakerRollback: s.deployment.deploymentCircuitBreaker.rollback,
            healthCheckGracePeriodSeconds: s.healthCheckGracePeriodSeconds,
            disconnectedTaskBehavior: s.disconnectedTaskBehavior,
            placementConstraints: s.placementConstraints as Prisma.InputJsonValue,
            placementStrategy: s.placementStrategy as Prisma.InputJsonValue,
            schedulingStrategy: s.schedulingStrategy,
            tags: s.tags as unknown as Prisma.InputJsonValue,
            propagateTags: s.propagateTags,
            enableEcsManagedTags: s.enableEcsManagedTags,
            enableExecuteCommand: s.enableExecuteCommand,
          },
        });
        const deployment = await tx.deployment.create({
          data: {
            serviceId: service.id,
            status: 'PRIMARY',
            taskDefinitionId: s.taskDefinition.id,
            desiredCount: s.desiredCount,
          },
        });
        await this.setLoadBalancers(tx, service.id, s.loadBalancers);
        await this.copyLoadBalancers(tx, service.id, deployment.id);
        if (claim) await recordClientTokenResources(viaPrisma(tx), claim, [service.id]);
        return tx.service.findUniqueOrThrow({ where: { id: service.id }, include: SERVICE_INCLUDE });
      });
    } catch (error) {
      // Two creates of one name at once: the partial unique index lets one through.
      if (isUniqueViolation(error)) throw duplicate(s.serviceName);
      throw error;
    }
  }

  /**
   * The service an earlier CreateService with this client token created, as it is now; undefined
   * if no call has used the token. A 400 if that call had other parameters.
   */
  async replay(claim: ClientTokenClaim): Promise<ServiceWithRelations | undefined> {
    const stored = await findClientToken(this.db, claim);
    if (!stored) return undefined;
    checkClientTokenReuse(stored, claim.requestHash);
    return (
      (await this.db.service.findUnique({
        where: { id: stored.resourceIds[0] },
        include: SERVICE_INCLUDE,
      })) ?? undefined
    );
  }

  /** Live services by name (unique among them), `limit` after the name `after`. */
  async list(clusterId: string, limit: number, after?: string): Promise<ServiceWithRelations[]> {
    return this.db.service.findMany({
      where: { clusterId, status: { not: 'INACTIVE' }, ...(after ? { name: { gt: after } } : {}) },
      include: SERVICE_INCLUDE,
      orderBy: { name: 'asc' },
      take: limit,
    });
  }

  /** The live service of that name, or else the most recent INACTIVE one (as ECS describes them). */
  async get(clusterId: string, name: string): Promise<ServiceWithRelations> {
    const found =
      (await this.db.service.findFirst({
        where: { clusterId, name, status: { not: 'INACTIVE' } },
        include: SERVICE_INCLUDE,
      })) ??
      (await this.db.service.findFirst({
        where: { clusterId, name },
        include: SERVICE_INCLUDE,
        orderBy: { createdAt: 'desc' },
      }));
    if (!found)
      throw new NotFoundError(
        'ServiceNotFoundException',
        `service ${name} does not exist in this cluster`,
        'service',
      );
    return found;
  }

  /** Like get, for several names at once; names without a service are left out. */
  async getMany(clusterId: string, names: readonly string[]): Promise<ServiceWithRelations[]> {
    const rows = await this.db.service.findMany({
      where: { clusterId, name: { in: [...names] } },
      include: SERVICE_INCLUDE,
      orderBy: { createdAt: 'desc' },
    });
    const byName = new Map<string, ServiceWithRelations>();
    for (const row of rows) {
      const seen = byName.get(row.name);
      if (!seen || (seen.status === 'INACTIVE' && row.status !== 'INACTIVE')) byName.set(row.name, row);
    }
    return [...byName.values()];
  }

  /**
   * UpdateService. A new task definition, new loadBalancers, or forceNewDeployment start a new
   * PRIMARY deployment and turn the previous one ACTIVE (drained by the controller). The service
   * row is locked, so an update and a controller's reconcile never interleave.
   */
  async update(clusterId: string, name: string, change: ServiceChange): Promise<ServiceWithRelations> {
    return this.db.$transaction(async (tx) => {
      const service = await this.lockLive(tx, clusterId, name);
      if (service.status !== 'ACTIVE') {
        throw new ConflictError(
          'ServiceNotActiveException',
          `service ${name} is ${service.status}; it can no longer be updated`,
        );
      }
      const desiredCount = change.desiredCount ?? service.desiredCount;
      const newDefinition = change.taskDefinition && change.taskDefinition.id !== service.taskDefinitionId;
      const current = await tx.serviceLoadBalancer.findMany({
        where: { serviceId: service.id },
        select: { containerName: true, containerPort: true, targetGroup: { select: { name: true } } },
      });
      const newLoadBalancers =
        !!change.loadBalancers &&
        loadBalancersDiffer(
          current.map((b) => ({ ...b, targetGroupName: b.targetGroup.name })),
          change.loadBalancers,
        );
      if (change.loadBalancers) await this.setLoadBalancers(tx, service.id, change.loadBalancers);
      if (newDefinition || newLoadBalancers || change.forceNewDeployment) {
        const taskDefinitionId = change.taskDefinition?.id ?? service.taskDefinitionId;
        await tx.deployment.updateMany({
          where: { serviceId: service.id, status: 'PRIMARY' },
          data: { status: 'ACTIVE' },
        });
        const deployment = await tx.deployment.create({
          data: { serviceId: service.id, status: 'PRIMARY', taskDefinitionId, desiredCount },
        });
        await this.copyLoadBalancers(tx, service.id, deployment.id);
      }
      await setServiceDesiredCount(tx, service.id, desiredCount);
      await tx.service.update({
        where: { id: service.id },
        data: {
          taskDefinitionId: change.taskDefinition?.id ?? service.taskDefinitionId,
          healthCheckGracePeriodSeconds:
            change.healthCheckGracePeriodSeconds ?? service.healthCheckGracePeriodSeconds,
          disconnectedTaskBehavior: change.disconnectedTaskBehavior ?? service.disconnectedTaskBehavior,
          propagateTags: change.propagateTags ?? service.propagateTags,
          enableEcsManagedTags: change.enableEcsManagedTags ?? service.enableEcsManagedTags,
          enableExecuteCommand: change.enableExecuteCommand ?? service.enableExecuteCommand,
          steady: false,
          ...(change.deployment
            ? {
                minimumHealthyPercent: change.deployment.minimumHealthyPercent,
                maximumPercent: change.deployment.maximumPercent,
                circuitBreakerEnable: change.deployment.deploymentCircuitBreaker.enable,
                circuitBreakerRollback: change.deployment.deploymentCircuitBreaker.rollback,
              }
            : {}),
        },
      });
      return tx.service.findUniqueOrThrow({ where: { id: service.id }, include: SERVICE_INCLUDE });
    });
  }

  /** DeleteService: DRAINING with no desired tasks; the controller stops them, then INACTIVE. */
  async delete(clusterId: string, name: string, force: boolean): Promise<ServiceWithRelations> {
    return this.db.$transaction(async (tx) => {
      const service = await this.lockLive(tx, clusterId, name);
      // As in ECS, only a REPLICA service must be scaled to 0 first: a DAEMON one's count is its instances'.
      if (service.desiredCount > 0 && !force && service.schedulingStrategy !== 'DAEMON') {
        throw new InvalidParameterError(
          `service: ${name} still has desiredCount ${service.desiredCount}; scale it to 0 first, or delete with ?force=true`,
          'service',
        );
      }
      await tx.service.update({ where: { id: service.id }, data: { status: 'DRAINING', desiredCount: 0 } });
      await tx.deployment.updateMany({
        where: { serviceId: service.id, status: { not: 'INACTIVE' } },
        data: { desiredCount: 0 },
      });
      return tx.service.findUniqueOrThrow({ where: { id: service.id }, include: SERVICE_INCLUDE });
    });
  }

  async events(serviceId: string, limit: number, before?: { createdAt: Date; id: string }) {
    return this.db.serviceEvent.findMany({
      where: {
        serviceId,
        ...(before
          ? {
              OR: [
                { createdAt: { lt: before.createdAt } },
                { createdAt: before.createdAt, id: { lt: before.id } },
              ],
            }
          : {}),
      },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: limit,
    });
  }

  /** Task counts per deployment, by status and failure: what the view and the breaker show. */
  async taskCounts(serviceIds: string[]): Promise<TaskCountRow[]> {
    const rows = await this.db.task.groupBy({
      by: ['deploymentId', 'lastStatus', 'failed'],
      where: { serviceId: { in: serviceIds } },
      _count: true,
    });
    return rows.map((r) => ({
      deploymentId: r.deploymentId,
      lastStatus: r.lastStatus,
      failed: r.failed,
      count: r._count,
    }));
  }

  /**
   * Replaces the service's loadBalancers. The target groups are share-locked, so a concurrent
   * DeleteTargetGroup (which update-locks its group) either sees these rows or fails them.
   */
  private async setLoadBalancers(tx: Tx, serviceId: string, entries: readonly ServiceLoadBalancerEntry[]) {
    const names = [...new Set(entries.map((e) => e.targetGroupName))];
    const groups = names.length
      ? await tx.$queryRaw<{ id: string; name: string }[]>`
          SELECT id, name FROM target_group WHERE name = ANY(${names}) FOR SHARE`
      : [];
    const ids = new Map(groups.map((g) => [g.name, g.id]));
    const rows = entries.map((e, i) => {
      const targetGroupId = ids.get(e.targetGroupName);
      if (!targetGroupId)
        throw new InvalidParameterError(
          `loadBalancers[${i}].targetGroupArn: target group ${e.targetGroupName} does not exist`,
          `loadBalancers[${i}].targetGroupArn`,
        );
      return { serviceId, targetGroupId, containerName: e.containerName, containerPort: e.containerPort };
    });
    await tx.serviceLoadBalancer.deleteMany({ where: { serviceId } });
    if (rows.length) await tx.serviceLoadBalancer.createMany({ data: rows });
  }

  /**
   * A new deployment's copy of the service's loadBalancers: what its tasks register in, whatever
   * later updates change (the target groups are share-locked by setLoadBalancers).
   */
  private async copyLoadBalancers(tx: Tx, serviceId: string, deploymentId: string) {
    const entries = await tx.serviceLoadBalancer.findMany({
      where: { serviceId },
      select: { targetGroupId: true, containerName: true, containerPort: true },
    });
    if (entries.length)
      await tx.deploymentLoadBalancer.createMany({ data: entries.map((e) => ({ ...e, deploymentId })) });
  }

  private async lockLive(tx: Tx, clusterId: string, name: string) {
    const rows = await tx.$queryRaw<{ id: string }[]>`
      SELECT id FROM service WHERE cluster_id = ${clusterId}::uuid AND name = ${name} AND status <> 'INACTIVE' FOR UPDATE`;
    if (!rows[0])
      throw new NotFoundError(
        'ServiceNotFoundException',
        `service ${name} does not exist in this cluster`,
        'service',
      );
    return tx.service.findUniqueOrThrow({ where: { id: rows[0].id } });
  }
}
