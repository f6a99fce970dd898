import { Inject, Injectable } from '@nestjs/common';
import { Prisma } from '@berth/db';
import {
  ConflictError,
  mergeScheduledActions,
  NotFoundError,
  readStoredFirings,
  readStoredScheduledActions,
  storedFirings,
  storedScheduledActions,
  type ScalingConfiguration,
} from '@berth/domain';
import { PRISMA, type PrismaClient } from '../infra/providers.js';

const notFound = (service: string) =>
  new NotFoundError(
    'ObjectNotFoundException',
    `service ${service} has no scaling; PUT .../services/${service}/scaling sets it`,
    'service',
  );

/** The only door to `service_scaling`: what PUT, GET and DELETE .../scaling read and write. */
@Injectable()
export class ScalingRepository {
  constructor(@Inject(PRISMA) private readonly db: PrismaClient) {}

  /**
   * Sets the service's scaling, keeping when it last scaled (the cooldowns go on counting) and the
   * last firing of each scheduled action it keeps unchanged (a PUT repeated fires nothing again).
   * Under the service's row lock, as UpdateService: a service being deleted is refused.
   */
  async put(serviceId: string, serviceName: string, config: ScalingConfiguration) {
    return this.db.$transaction(async (tx) => {
      const rows = await tx.$queryRaw<{ status: string }[]>`
        SELECT status FROM service WHERE id = ${serviceId}::uuid FOR UPDATE`;
      if (rows[0]?.status !== 'ACTIVE')
        throw new ConflictError(
          'ServiceNotActiveException',
          `service ${serviceName} is ${rows[0]?.status ?? 'gone'}; only an ACTIVE service can scale`,
        );
      const before = await tx.serviceScaling.findUnique({ where: { serviceId } });
      const [{ now }] = await tx.$queryRaw<[{ now: Date }]>`SELECT now() AS now`;
      const scheduled = mergeScheduledActions(
        before ? readStoredScheduledActions(before.scheduledActions, serviceId) : [],
        before ? readStoredFirings(before.scheduledActionsFired, serviceId) : {},
        config.scheduledActions,
        now,
      );
      const data = {
        minCapacity: config.minCapacity,
        maxCapacity: config.maxCapacity,
        policies: config.targetTrackingPolicies as unknown as Prisma.InputJsonValue,
        scheduledActions: storedScheduledActions(scheduled.actions) as Prisma.InputJsonValue,
        scheduledActionsFired: storedFirings(scheduled.fired),
      };
      return tx.serviceScaling.upsert({ where: { serviceId }, create: { serviceId, ...data }, update: data });
    });
  }

  async get(serviceId: string, serviceName: string) {
    const row = await this.db.serviceScaling.findUnique({ where: { serviceId } });
    if (!row) throw notFound(serviceName);
    return row;
  }

  /**
   * Removes it; returns it as it was. Checked before the write: a missing one is a 404 with no
   * write (and so no Success audit row), and one removed meanwhile by another call is removed.
   */
  async delete(serviceId: string, serviceName: string) {
    const row = await this.get(serviceId, serviceName);
    await this.db.serviceScaling.deleteMany({ where: { serviceId } });
    return row;
  }
}
