import { readServiceSamples, setServiceDesiredCount, type Prisma, type PrismaClient } from '@berth/db';
import {
  readStoredFirings,
  readStoredPolicies,
  readStoredScheduledActions,
  storedFirings,
  type CapacityChange,
  type DueFiring,
  type RequestSample,
  type ScalingDecision,
  type TargetGroupRequests,
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
    const policies = readStoredPolicies(scaling.policies, serviceId);
    const requests = policies.some((p) => p.predefinedMetric === 'ALBRequestCountPerTarget')
      ? await this.requests(serviceId, windowSeconds)
      : { counters: [], targets: 0 };
    return {
      serviceId,
      serviceName: scaling.service.name,
      desiredCount: scaling.service.desiredCount,
      minCapacity: scaling.minCapacity,
      maxCapacity: scaling.maxCapacity,
      policies,
      lastScaleOutAt: scaling.lastScaleOutAt,
      lastScaleInAt: scaling.lastScaleInAt,
      scheduledActions: readStoredScheduledActions(scaling.scheduledActions, serviceId),
      scheduledActionsFired: readStoredFirings(scaling.scheduledActionsFired, serviceId),
      updatedAt: scaling.updatedAt,
      deploymentInProgress: scaling.service.deployments.some((d) => d.rolloutState === 'IN_PROGRESS'),
      tasks,
      requests,
      now,
    };
  }

  /**
   * The cumulative request counts the load-balancer apps sampled for the service's target groups
   * in the window, one series per (group, reporter), and the groups' targets not draining.
   */
  private async requests(serviceId: string, windowSeconds: number): Promise<TargetGroupRequests> {
    const rows = await this.db.$queryRaw<
      { target_group_id: string; reporter: string; sampled_at: Date; requests: bigint }[]
    >`
      SELECT s.target_group_id, s.reporter, s.sampled_at, s.requests
        FROM target_group_request_sample s
       WHERE s.target_group_id IN (SELECT target_group_id FROM service_load_balancer WHERE service_id = ${serviceId}::uuid)
         AND s.sampled_at > now() AT TIME ZONE 'UTC' - ${windowSeconds} * interval '1 second'
       ORDER BY s.target_group_id, s.reporter, s.sampled_at`;
    const counters = new Map<string, RequestSample[]>();
    for (const r of rows) {
      const key = `${r.target_group_id}/${r.reporter}`;
      counters.set(key, [
        ...(counters.get(key) ?? []),
        { sampledAt: r.sampled_at, requests: Number(r.requests) },
      ]);
    }
    const targets = await this.db.target.count({
      where: { drainingSince: null, targetGroup: { serviceBindings: { some: { serviceId } } } },
    });
    return { counters: [...counters.values()], targets };
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
      // Stamped with the decision's time, which the cooldown counts from.
      await tx.serviceEvent.create({
        data: { serviceId: seen.serviceId, message: decision.message, createdAt: seen.now },
      });
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
