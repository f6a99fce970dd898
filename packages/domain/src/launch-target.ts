import { InvalidParameterError } from './errors.js';

/** ECS's launch types. Berth runs every task on its own container instances, as EC2 does. */
export const LAUNCH_TYPES = ['EC2', 'FARGATE', 'EXTERNAL', 'MANAGED_INSTANCES'] as const;

const fail = (field: string, rule: string): never => {
  throw new InvalidParameterError(`${field}: ${rule}`, field);
};

/**
 * RunTask, StartTask, CreateService and UpdateService take ECS's `launchType` and
 * `capacityProviderStrategy`, so definitions and scripts written for Fargate run unchanged. Berth
 * has no Fargate and no capacity providers: the task runs on the cluster's container instances,
 * and the answer says so in `warnings` (REST) or the `x-berth-warnings` header (ECS). Refused, as
 * in ECS: both given at once, a launch type ECS does not have, a malformed strategy.
 */
export function launchTargetWarnings(input: unknown): string[] {
  const body = (typeof input === 'object' && input !== null ? input : {}) as {
    launchType?: unknown;
    capacityProviderStrategy?: unknown;
  };
  const { launchType, capacityProviderStrategy: strategy } = body;
  const warnings: string[] = [];
  if (launchType !== undefined && launchType !== null) {
    if (typeof launchType !== 'string' || !(LAUNCH_TYPES as readonly string[]).includes(launchType))
      fail('launchType', `must be one of ${LAUNCH_TYPES.join(', ')}`);
    if (launchType !== 'EC2')
      warnings.push(
        `launchType ${String(launchType)} is accepted and not acted on: Berth runs the task on the cluster's container instances, as with EC2`,
      );
  }
  if (strategy !== undefined && strategy !== null) {
    if (!Array.isArray(strategy)) return fail('capacityProviderStrategy', 'must be an array');
    if (launchType !== undefined && launchType !== null && strategy.length > 0)
      fail('capacityProviderStrategy', 'give a launchType or a capacityProviderStrategy, not both');
    const names = strategy.map((s: unknown, i) => {
      const name = (s as { capacityProvider?: unknown } | null)?.capacityProvider;
      if (typeof name !== 'string' || name.length === 0)
        fail(`capacityProviderStrategy[${i}].capacityProvider`, 'is required: a capacity provider name');
      return name as string;
    });
    if (names.length)
      warnings.push(
        `capacityProviderStrategy (${names.join(', ')}) is accepted and not acted on: Berth has no capacity providers${
          names.some((n) => n.startsWith('FARGATE')) ? ' and no Fargate' : ''
        }; the task runs on the cluster's container instances`,
      );
  }
  return warnings;
}
