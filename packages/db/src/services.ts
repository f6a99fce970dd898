import type { Db } from './client.js';

/**
 * Sets a service's desiredCount, as UpdateService does: the service and its PRIMARY deployment
 * take the count, and the service is no longer steady, so the controller reports the next steady
 * state. UpdateService and auto scaling both call it, under the service's row lock.
 */
export async function setServiceDesiredCount(tx: Db, serviceId: string, desiredCount: number): Promise<void> {
  await tx.deployment.updateMany({
    where: { serviceId, status: 'PRIMARY' },
    data: { desiredCount },
  });
  await tx.service.update({ where: { id: serviceId }, data: { desiredCount, steady: false } });
}
