import {
  InvalidParameterError,
  ServiceUnavailableError,
  assertClusterPolicyAllows,
  parseTaskDefinitionRef,
  readTaskDefinition,
  validateOverrides,
  type TaskOverrides,
} from '@berth/domain';
import type { ClusterModel } from '@berth/db';
import type { TaskDefinitionsRepository } from '../task-definitions/task-definitions.repository.js';
import type { Redis } from '../infra/providers.js';

/**
 * The revision new tasks start from (RunTask, StartTask): it must be ACTIVE, the overrides must
 * fit it, and the cluster's container policy must allow it.
 */
export async function launchableRevision(
  taskDefinitions: TaskDefinitionsRepository,
  cluster: ClusterModel,
  taskDefinition: string,
  overrides: TaskOverrides | undefined,
) {
  const ref = parseTaskDefinitionRef(taskDefinition);
  const td = await taskDefinitions.find(ref.family, ref.revision);
  const name = `${td.family}:${td.revision}`;
  if (td.status !== 'ACTIVE') {
    throw new InvalidParameterError(
      `taskDefinition: ${name} is INACTIVE (deregistered); no new tasks can start from it`,
      'taskDefinition',
    );
  }
  const definition = readTaskDefinition(td.definition, name);
  validateOverrides(definition, name, overrides);
  assertClusterPolicyAllows(cluster, name, definition);
  return { td, definition };
}

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
