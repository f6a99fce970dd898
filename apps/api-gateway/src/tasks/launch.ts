import { ServiceUnavailableError } from '@berth/domain';
import type { Redis } from '../infra/providers.js';

/**
 * Placement runs on the scheduler's queue: while Redis is away a new task could not be placed, so
 * the caller hears it before anything is written, and retries (AWS SDKs retry 503s).
 */
export function assertPlacementQueueReady(redis: Redis): void {
  if (redis.status !== 'ready')
    throw new ServiceUnavailableError(
      'the placement queue (Redis) is unavailable; nothing was written, retry',
    );
}
