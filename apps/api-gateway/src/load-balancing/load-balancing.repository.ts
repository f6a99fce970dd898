import { Inject, Injectable } from '@nestjs/common';
import {
  ConflictError,
  InvalidParameterError,
  NotFoundError,
  type CreateTargetGroupRequest,
  type ListenerRequest,
} from '@berth/domain';
import { isUniqueViolation, Prisma } from '@berth/db';
import { PRISMA, type PrismaClient } from '../infra/providers.js';

type Tx = Prisma.TransactionClient;

export const targetGroupNotFound = (name: string, field = 'name') =>
  new NotFoundError('TargetGroupNotFoundException', `target group ${name} does not exist`, field);
const loadBalancerNotFound = (name: string) =>
  new NotFoundError('LoadBalancerNotFoundException', `load balancer ${name} does not exist`, 'name');

const LOAD_BALANCER_INCLUDE = {
  listeners: { orderBy: { port: 'asc' }, include: { defaultTargetGroup: { select: { name: true } } } },
} as const satisfies Prisma.LoadBalancerInclude;

export type LoadBalancerWithListeners = Prisma.LoadBalancerGetPayload<{
  include: typeof LOAD_BALANCER_INCLUDE;
}>;

const TARGET_GROUP_INCLUDE = {
  listeners: { select: { loadBalancer: { select: { name: true } } } },
} as const satisfies Prisma.TargetGroupInclude;

export type TargetGroupWithUse = Prisma.TargetGroupGetPayload<{ include: typeof TARGET_GROUP_INCLUDE }> & {
  /** Names of the load balancers whose listeners use it (default action or a rule). */
  loadBalancerNames: string[];
};

const TARGET_INCLUDE = {
  health: true,
  task: { select: { id: true, cluster: { select: { name: true } } } },
} as const satisfies Prisma.TargetInclude;

export type TargetWithHealth = Prisma.TargetGetPayload<{ include: typeof TARGET_INCLUDE }>;

/**
 * Target groups, load balancers and listeners, and hand-registered targets. Listener rules keep
 * target group ids in jsonb: writers of listeners take a share lock on the target groups they
 * name, and DeleteTargetGroup an update lock on its group, so a rule can never name a deleted group.
 */
@Injectable()
export class LoadBalancingRepository {
  constructor(@Inject(PRISMA) private readonly db: PrismaClient) {}

  async createTargetGroup(req: CreateTargetGroupRequest): Promise<TargetGroupWithUse> {
    try {
      const row = await this.db.targetGroup.create({
        data: {
          name: req.name,
          protocol: req.protocol,
          healthCheck: req.healthCheck as unknown as Prisma.InputJsonValue,
          deregistrationDelaySeconds: req.deregistrationDelaySeconds,
          slowStartSeconds: req.slowStartSeconds,
        },
        include: TARGET_GROUP_INCLUDE,
      });
      return { ...row, loadBalancerNames: [] };
    } catch (error) {
      if (isUniqueViolation(error))
        throw new ConflictError(
          'DuplicateTargetGroupNameException',
          `a target group named ${req.name} already exists`,
        );
      throw error;
    }
  }

  async listTargetGroups(): Promise<TargetGroupWithUse[]> {
    const rows = await this.db.targetGroup.findMany({
      orderBy: { name: 'asc' },
      include: TARGET_GROUP_INCLUDE,
    });
    return this.withUse(this.db, rows);
  }

  async getTargetGroup(name: string, field = 'name'): Promise<TargetGroupWithUse> {
    const row = await this.db.targetGroup.findUnique({ where: { name }, include: TARGET_GROUP_INCLUDE });
    if (!row) throw targetGroupNotFound(name, field);
    return (await this.withUse(this.db, [row]))[0]!;
  }

  /** Adds the load balancers that use each group through a listener rule. */
  private async withUse(
    db: Tx | PrismaClient,
    rows: Prisma.TargetGroupGetPayload<{ include: typeof TARGET_GROUP_INCLUDE }>[],
  ): Promise<TargetGroupWithUse[]> {
    const byRule = rows.length
      ? await db.$queryRaw<{ target_group_id: string; name: string }[]>`
          SELECT DISTINCT r->>'targetGroupId' AS target_group_id, lb.name
          FROM listener l
          JOIN load_balancer lb ON lb.id = l.load_balancer_id
          CROSS JOIN LATERAL jsonb_array_elements(l.rules) r
          WHERE r->>'targetGroupId' = ANY(${rows.map((r) => r.id)})`
      : [];
    return rows.map((row) => ({
      ...row,
      loadBalancerNames: [
        ...new Set([
          ...row.listeners.map((l) => l.loadBalancer.name),
          ...byRule.filter((r) => r.target_group_id === row.id).map((r) => r.name),
        ]),
      ].sort(),
    }));
  }

  /**
   * Deletes a target group and its targets; 409 while a live service names it, a live deployment
   * of one still registers tasks in it, or a listener sends traffic to it. Bindings of INACTIVE
   * services and deployments go with it.
   */
  async deleteTargetGroup(name: string): Promise<TargetGroupWithUse> {
    return this.db.$transaction(async (tx) => {
      const locked = await tx.$queryRaw<{ id: string }[]>`
        SELECT id FROM target_group WHERE name = ${name} FOR UPDATE`;
      if (!locked.length) throw targetGroupNotFound(name);
      const id = locked[0]!.id;
      const row = await tx.targetGroup.findUniqueOrThrow({ where: { id }, include: TARGET_GROUP_INCLUDE });
      const [group] = await this.withUse(tx, [row]);
      const services = await tx.serviceLoadBalancer.findMany({
        where: { targetGroupId: id, service: { status: { not: 'INACTIVE' } } },
        select: { service: { select: { name: true } } },
      });
      if (services.length)
        throw new ConflictError(
          'ResourceInUseException',
          `target group ${name} is used by service ${services[0]!.service.name}; remove it from the service's loadBalancers first`,
        );
      // Removed from the service, but a deployment still running tasks registered there.
      const deployments = await tx.deploymentLoadBalancer.findMany({
        where: {
          targetGroupId: id,
          deployment: { status: { not: 'INACTIVE' }, service: { status: { not: 'INACTIVE' } } },
        },
        select: { deployment: { select: { id: true, service: { select: { name: true } } } } },
      });
      if (deployments.length)
        throw new ConflictError(
          'ResourceInUseException',
          `target group ${name} is used by deployment ${deployments[0]!.deployment.id} of service ${deployments[0]!.deployment.service.name}, whose tasks are registered in it; wait until that deployment is replaced (the service is steady)`,
        );
      if (group!.loadBalancerNames.length)
        throw new ConflictError(
          'ResourceInUseException',
          `target group ${name} is used by a listener of load balancer ${group!.loadBalancerNames[0]}`,
        );
      await tx.serviceLoadBalancer.deleteMany({ where: { targetGroupId: id } });
      await tx.targetGroup.delete({ where: { id } });
      return group!;
    });
  }

  /** A group's targets with every reporter's last word, and whether any listener uses the group. */
  async targets(groupId: string): Promise<TargetWithHealth[]> {
    return this.db.target.findMany({
      where: { targetGroupId: groupId },
      include: TARGET_INCLUDE,
      orderBy: [{ host: 'asc' }, { port: 'asc' }],
    });
  }

  /**
   * RegisterTargets by hand: new targets join; a hand-registered target that was draining is
   * taken back (its drain cancelled). A service task's target keeps its task.
   */
  async registerTargets(groupId: string, targets: { host: string; port: number }[]): Promise<void> {
    await this.db.$transaction(async (tx) => {
      await tx.target.createMany({
        data: targets.map((t) => ({ targetGroupId: groupId, host: t.host, port: t.port })),
        skipDuplicates: true,
      });
      await tx.target.updateMany({
        where: { targetGroupId: groupId, taskId: null, drainingSince: { not: null }, OR: targets },
        data: { drainingSince: null },
      });
    });
  }

  /** Those of these targets that belong to a service task (a target's task never changes). */
  async serviceTaskTargets(groupId: string, targets: { host: string; port: number }[]) {
    return this.db.target.findMany({
      where: { targetGroupId: groupId, taskId: { not: null }, OR: targets },
      select: {
        host: true,
        port: true,
        task: {
          select: { id: true, cluster: { select: { name: true } }, service: { select: { name: true } } },
        },
      },
    });
  }

  /**
   * DeregisterTargets of hand-registered targets: they start draining; the deployment-controller's
   * sweep deletes them when the drain ends. Returns how many were not draining yet.
   */
  async deregisterTargets(
    groupId: string,
    targets: { host: string; port: number }[],
    now: Date,
  ): Promise<number> {
    const { count } = await this.db.target.updateMany({
      where: { targetGroupId: groupId, taskId: null, drainingSince: null, OR: targets },
      data: { drainingSince: now },
    });
    return count;
  }

  // ---------------------------------------------------------------------------------------------

  async listLoadBalancers(): Promise<LoadBalancerWithListeners[]> {
    return this.db.loadBalancer.findMany({ orderBy: { name: 'asc' }, include: LOAD_BALANCER_INCLUDE });
  }

  async getLoadBalancer(name: string): Promise<LoadBalancerWithListeners> {
    const row = await this.db.loadBalancer.findUnique({ where: { name }, include: LOAD_BALANCER_INCLUDE });
    if (!row) throw loadBalancerNotFound(name);
    return row;
  }

  /** Target group names → ids, share-locked for the transaction; checks listener and group protocols agree. */
  private async resolveListeners(tx: Tx, listeners: readonly ListenerRequest[]) {
    const names = [
      ...new Set(
        listeners.flatMap((l) => [l.defaultTargetGroupName, ...l.rules.map((r) => r.targetGroupName)]),
      ),
    ];
    const rows = names.length
      ? await tx.$queryRaw<{ id: string; name: string; protocol: string }[]>`
          SELECT id, name, protocol FROM target_group WHERE name = ANY(${names}) FOR SHARE`
      : [];
    const byName = new Map(rows.map((r) => [r.name, r]));
    const resolve = (name: string, field: string, protocol: string) => {
      const tg = byName.get(name);
      if (!tg) throw targetGroupNotFound(name, field);
      if (tg.protocol !== protocol)
        throw new InvalidParameterError(
          `${field}: target group ${name} is ${tg.protocol}; a ${protocol} listener needs a ${protocol} target group`,
          field,
        );
      return tg.id;
    };
    return listeners.map((l, i) => ({
      port: l.port,
      protocol: l.protocol,
      proxyProtocol: l.proxyProtocol,
      defaultTargetGroupId: resolve(
        l.defaultTargetGroupName,
        `listeners[${i}].defaultTargetGroupArn`,
        l.protocol,
      ),
      rules: l.rules.map((r, j) => ({
        priority: r.priority,
        ...(r.pathPrefix !== undefined ? { pathPrefix: r.pathPrefix } : {}),
        ...(r.host !== undefined ? { host: r.host } : {}),
        targetGroupId: resolve(r.targetGroupName, `listeners[${i}].rules[${j}].targetGroupArn`, l.protocol),
      })),
    }));
  }

  async createLoadBalancer(name: string, listeners: ListenerRequest[]): Promise<LoadBalancerWithListeners> {
    try {
      return await this.db.$transaction(async (tx) => {
        const resolved = await this.resolveListeners(tx, listeners);
        const lb = await tx.loadBalancer.create({ data: { name } });
        for (const l of resolved) await tx.listener.create({ data: { loadBalancerId: lb.id, ...l } });
        return tx.loadBalancer.findUniqueOrThrow({ where: { id: lb.id }, include: LOAD_BALANCER_INCLUDE });
      });
    } catch (error) {
      if (isUniqueViolation(error))
        throw new ConflictError(
          'DuplicateLoadBalancerNameException',
          `a load balancer named ${name} already exists`,
        );
      throw error;
    }
  }

  /** Replaces the listener set: listeners keep their id by port; the others go. */
  async modifyListeners(name: string, listeners: ListenerRequest[]): Promise<LoadBalancerWithListeners> {
    return this.db.$transaction(async (tx) => {
      const locked = await tx.$queryRaw<{ id: string }[]>`
        SELECT id FROM load_balancer WHERE name = ${name} FOR UPDATE`;
      if (!locked.length) throw loadBalancerNotFound(name);
      const id = locked[0]!.id;
      const resolved = await this.resolveListeners(tx, listeners);
      await tx.listener.deleteMany({
        where: { loadBalancerId: id, port: { notIn: listeners.map((l) => l.port) } },
      });
      for (const l of resolved)
        await tx.listener.upsert({
          where: { loadBalancerId_port: { loadBalancerId: id, port: l.port } },
          create: { loadBalancerId: id, ...l },
          update: l,
        });
      return tx.loadBalancer.findUniqueOrThrow({ where: { id }, include: LOAD_BALANCER_INCLUDE });
    });
  }

  async deleteLoadBalancer(name: string): Promise<LoadBalancerWithListeners> {
    const row = await this.getLoadBalancer(name);
    await this.db.loadBalancer.deleteMany({ where: { id: row.id } });
    return row;
  }

  /** Target group id → name, for showing listener rules. */
  async targetGroupNames(ids: readonly string[]): Promise<Map<string, string>> {
    const rows = ids.length
      ? await this.db.targetGroup.findMany({
          where: { id: { in: [...ids] } },
          select: { id: true, name: true },
        })
      : [];
    return new Map(rows.map((r) => [r.id, r.name]));
  }
}
