import { readServiceSamples, setServiceDesiredCount, type Prisma, type PrismaClient } from '@berth/db';
import {
  readStoredFirings,
  readStoredPolicies,
  readStoredScheduledActions,
  storedFirings,
  type CapacityChange,
  type DueFiring,
  type ScalingDecision,
} from '@berth/domain';
import type { ScalingStore, ScalingTarget } from './stores.js';

/** The autoscaler's door to Postgres: scalings, the samples they read, and the scalings applied. */
export class ScalingRepository implements ScalingStore {
  constructor(private readonly db: PrismaClient) {}

  async scalableServiceIds(): Promise<string[]> {
    const rows = await this.db.serviceScaling.findMany({
      where: { service: { status: 'ACTIVE', schedulingStrategy: 'REPLICA' } },
      select: { serviceId: true },
    });
    return rows.map((r) => r.serviceId);
  }

  async read(serviceId: string, windowSeconds: number): Promise<ScalingTarget | null> {
    const scaling = await this.db.serviceScaling.findUnique({
      where: { serviceId },
      include: {
        service: {
          select: {
            name: true,
            status: true,
            schedulingStrategy: true,
            desiredCount: true,
            deployments: { where: { status: 'PRIMARY' }, select: { rolloutState: true } },
          },
        },
      },
    });
    if (!scaling || scaling.service.status !== 'ACTIVE' || scaling.service.schedulingStrategy !== 'REPLICA')
      return null;
    const { now, tasks } = await readServiceSamples(this.db, serviceId, windowSeconds);
    return {
      serviceId,
      serviceName: scaling.service.name,
      desiredCount: scaling.service.desiredCount,
      minCapacity: scaling.minCapacity,
      maxCapacity: scaling.maxCapacity,
      policies: readStoredPolicies(scaling.policies, serviceId),
      lastScaleOutAt: scaling.lastScaleOutAt,
      lastScaleInAt: scaling.lastScaleInAt,
      scheduledActions: readStoredScheduledActions(scaling.scheduledActions, serviceId),
      scheduledActionsFired: readStoredFirings(scaling.scheduledActionsFired, serviceId),
      updatedAt: scaling.updatedAt,
      deploymentInProgress: scaling.service.deployments.some((d) => d.rolloutState === 'IN_PROGRESS'),
      tasks,
      now,
    };
  }

  async scale(seen: ScalingTarget, decision: ScalingDecision): Promise<boolean> {
    return this.db.$transaction(async (tx) => {
      // The lock UpdateService and the service reconcile take: neither interleaves with this.
      await tx.$queryRaw`SELECT id FROM service WHERE id = ${seen.serviceId}::uuid FOR UPDATE`;
      const { count } = await tx.serviceScaling.updateMany({
        where: {
          serviceId: seen.serviceId,
          updatedAt: seen.updatedAt,
          service: { status: 'ACTIVE', desiredCount: seen.desiredCount },
        },
        data: decision.direction === 'out' ? { lastScaleOutAt: seen.now } : { lastScaleInAt: seen.now },
      });
      if (count === 0) return false;
      await setServiceDesiredCount(tx, seen.serviceId, decision.desiredCount);
      await tx.serviceEvent.create({ data: { serviceId: seen.serviceId, message: decision.message } });
      return true;
    });
  }

  async applyScheduled(
    seen: ScalingTarget,
    due: readonly DueFiring[],
    change: CapacityChange,
  ): Promise<boolean> {
    const fired = { ...seen.scheduledActionsFired };
    for (const d of due) fired[d.action.scheduledActionName] = d.firingAt;
    return this.db.$transaction(async (tx) => {
      await tx.$queryRaw`SELECT id FROM service WHERE id = ${seen.serviceId}::uuid FOR UPDATE`;
      // The lease: only the controller that still sees the row (and the firings) as read wins.
      const { count } = await tx.serviceScaling.updateMany({
        where: {
          serviceId: seen.serviceId,
          updatedAt: seen.updatedAt,
          scheduledActionsFired: { equals: storedFirings(seen.scheduledActionsFired) },
          service: { status: 'ACTIVE', desiredCount: seen.desiredCount },
        },
        data: {
          minCapacity: change.minCapacity,
          maxCapacity: change.maxCapacity,
          scheduledActionsFired: storedFirings(fired) as Prisma.InputJsonValue,
        },
      });
      if (count === 0) return false;
      if (change.desiredCount !== seen.desiredCount)
        await setServiceDesiredCount(tx, seen.serviceId, change.desiredCount);
      await tx.serviceEvent.createMany({
        data: change.messages.map((message) => ({ serviceId: seen.serviceId, message })),
      });
      return true;
    });
  }
}
