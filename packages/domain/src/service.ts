import { z } from 'zod';
import { InvalidParameterError } from './errors.js';
import { parseOrThrow } from './validation.js';
import { clientTokenSchema } from './client-token.js';
import { serviceLoadBalancersSchema } from './load-balancing.js';

const percent = (what: string, min: number, max: number) =>
  z
    .int({ error: `must be an integer from ${min} to ${max} (${what})` })
    .min(min, { error: `must be an integer from ${min} to ${max} (${what})` })
    .max(max, { error: `must be an integer from ${min} to ${max} (${what})` });

const deploymentConfigurationSchema = z.looseObject(
  {
    minimumHealthyPercent: percent('percent of desiredCount', 0, 100).optional(),
    maximumPercent: percent('percent of desiredCount', 100, 200).optional(),
    deploymentCircuitBreaker: z
      .looseObject(
        {
          enable: z.boolean({ error: 'must be a boolean' }),
          rollback: z.boolean({ error: 'must be a boolean' }),
        },
        { error: 'must be an object {enable, rollback}' },
      )
      .optional(),
  },
  { error: 'must be an object' },
);

const desiredCount = z
  .int({ error: 'must be an integer of 0 or more' })
  .min(0, { error: 'must be an integer of 0 or more' })
  .max(10_000, { error: 'must be at most 10000' });

/**
 * What a service does with its tasks on a lost container instance (its agent silent past the
 * grace): REPLACE stops them (InstanceLost) and starts replacements elsewhere, the default; WAIT
 * keeps them, counted as running, until the agent returns, for services that must never run
 * twice (a singleton holding a lock or a volume).
 */
export const DISCONNECTED_TASK_BEHAVIORS = ['REPLACE', 'WAIT'] as const;
export type DisconnectedTaskBehavior = (typeof DISCONNECTED_TASK_BEHAVIORS)[number];
const disconnectedTaskBehavior = z.enum(DISCONNECTED_TASK_BEHAVIORS, {
  error: 'must be REPLACE or WAIT',
});

/** ECS's two service types: desiredCount tasks, or one task on each eligible instance. */
export const SCHEDULING_STRATEGIES = ['REPLICA', 'DAEMON'] as const;
const schedulingStrategy = z.enum(SCHEDULING_STRATEGIES, { error: 'must be REPLICA or DAEMON' });

/**
 * Fields Berth refuses rather than ignore: only ECS's own rolling-update deployment controller
 * exists, and there is no service discovery yet.
 */
const deploymentController = z.looseObject(
  {
    type: z.literal('ECS', {
      error:
        'must be ECS: Berth has only the rolling update deployment controller (not CODE_DEPLOY or EXTERNAL)',
    }),
  },
  { error: 'must be an object {type: "ECS"}' },
);
const notSupportedYet = (what: string) =>
  z
    .array(z.unknown(), { error: 'must be an array' })
    .max(0, { error: `${what} are not supported yet: leave the list empty` });

const placementList = z.array(z.looseObject({ type: z.string() }), {
  error: 'must be an array of {type, ...}',
});

export const createServiceSchema = z.looseObject({
  serviceName: z
    .string({ error: 'is required and must be a string' })
    .regex(/^[A-Za-z0-9_-]{1,255}$/, { error: 'must be 1-255 letters, digits, hyphens or underscores' }),
  taskDefinition: z.string({ error: 'is required: a family, family:revision or task definition ARN' }).min(1),
  /** Required for REPLICA; refused for DAEMON (checked in validateCreateService). */
  desiredCount: desiredCount.optional(),
  deploymentConfiguration: deploymentConfigurationSchema.optional(),
  healthCheckGracePeriodSeconds: z
    .int({ error: 'must be an integer number of seconds, 0 or more' })
    .min(0, { error: 'must be an integer number of seconds, 0 or more' })
    .max(2_147_483_647)
    .optional(),
  placementConstraints: placementList.optional(),
  placementStrategy: placementList.optional(),
  disconnectedTaskBehavior: disconnectedTaskBehavior.optional(),
  clientToken: clientTokenSchema(36).optional(),
  schedulingStrategy: schedulingStrategy.optional(),
  deploymentController: deploymentController.optional(),
  loadBalancers: serviceLoadBalancersSchema.optional(),
  serviceRegistries: notSupportedYet('service registries').optional(),
});

export const updateServiceSchema = z.looseObject({
  taskDefinition: z
    .string({ error: 'must be a family, family:revision or task definition ARN' })
    .min(1)
    .optional(),
  desiredCount: desiredCount.optional(),
  deploymentConfiguration: deploymentConfigurationSchema.optional(),
  healthCheckGracePeriodSeconds: z
    .int({ error: 'must be an integer number of seconds, 0 or more' })
    .min(0, { error: 'must be an integer number of seconds, 0 or more' })
    .max(2_147_483_647)
    .optional(),
  forceNewDeployment: z.boolean({ error: 'must be a boolean' }).optional(),
  disconnectedTaskBehavior: disconnectedTaskBehavior.optional(),
  deploymentController: deploymentController.optional(),
  loadBalancers: serviceLoadBalancersSchema.optional(),
  serviceRegistries: notSupportedYet('service registries').optional(),
});

export interface DeploymentConfiguration {
  minimumHealthyPercent: number;
  maximumPercent: number;
  deploymentCircuitBreaker: { enable: boolean; rollback: boolean };
}

/** ECS defaults: a rollout keeps every task serving (100%) and may double the count (200%). */
export const DEFAULT_DEPLOYMENT_CONFIGURATION: DeploymentConfiguration = {
  minimumHealthyPercent: 100,
  maximumPercent: 200,
  deploymentCircuitBreaker: { enable: false, rollback: false },
};

/**
 * ECS's defaults for a DAEMON service: an instance's old task stops before its new one starts
 * (0%), and never more than one task per instance (100%, the only maximum allowed).
 */
export const DAEMON_DEPLOYMENT_CONFIGURATION: DeploymentConfiguration = {
  minimumHealthyPercent: 0,
  maximumPercent: 100,
  deploymentCircuitBreaker: { enable: false, rollback: false },
};

export type SchedulingStrategyName = (typeof SCHEDULING_STRATEGIES)[number];

/** Merges a requested configuration over the current one and checks that a rollout can progress. */
export function resolveDeploymentConfiguration(
  requested: z.output<typeof deploymentConfigurationSchema> | undefined,
  current: DeploymentConfiguration = DEFAULT_DEPLOYMENT_CONFIGURATION,
  strategy: SchedulingStrategyName = 'REPLICA',
): DeploymentConfiguration {
  const merged: DeploymentConfiguration = {
    minimumHealthyPercent: requested?.minimumHealthyPercent ?? current.minimumHealthyPercent,
    maximumPercent: requested?.maximumPercent ?? current.maximumPercent,
    deploymentCircuitBreaker: requested?.deploymentCircuitBreaker
      ? {
          enable: requested.deploymentCircuitBreaker.enable,
          rollback: requested.deploymentCircuitBreaker.rollback,
        }
      : current.deploymentCircuitBreaker,
  };
  if (strategy === 'DAEMON' && merged.maximumPercent > 100) {
    throw new InvalidParameterError(
      'deploymentConfiguration.maximumPercent: the daemon scheduling strategy does not support values above 100 for maximumPercent; change it to 100',
      'deploymentConfiguration.maximumPercent',
    );
  }
  if (merged.minimumHealthyPercent > merged.maximumPercent) {
    throw new InvalidParameterError(
      `deploymentConfiguration.minimumHealthyPercent: ${merged.minimumHealthyPercent} is above maximumPercent (${merged.maximumPercent})`,
      'deploymentConfiguration.minimumHealthyPercent',
    );
  }
  if (merged.minimumHealthyPercent === 100 && merged.maximumPercent === 100) {
    throw new InvalidParameterError(
      'deploymentConfiguration.maximumPercent: must be above 100 when minimumHealthyPercent is 100, or no task could ever be replaced',
      'deploymentConfiguration.maximumPercent',
    );
  }
  return merged;
}

export type CreateServiceInput = z.output<typeof createServiceSchema>;
export type UpdateServiceInput = z.output<typeof updateServiceSchema>;

const DAEMON_DESIRED_COUNT =
  'desiredCount: the daemon scheduling strategy does not support a desired count for services; remove the desired count value and try again';

/**
 * A CreateService request, checked. A DAEMON service takes no desiredCount (its count is its
 * eligible instances, 0 until the first reconcile) and no placementStrategy, as in ECS.
 */
export function validateCreateService(input: unknown): CreateServiceInput & {
  desiredCount: number;
  schedulingStrategy: SchedulingStrategyName;
  deployment: DeploymentConfiguration;
} {
  const parsed = parseOrThrow(createServiceSchema, input ?? {});
  const schedulingStrategy = parsed.schedulingStrategy ?? 'REPLICA';
  if (schedulingStrategy === 'DAEMON') {
    if (parsed.desiredCount !== undefined)
      throw new InvalidParameterError(DAEMON_DESIRED_COUNT, 'desiredCount');
    if (parsed.placementStrategy?.length)
      throw new InvalidParameterError(
        'placementStrategy: the daemon scheduling strategy does not support placement strategies; remove them and try again',
        'placementStrategy',
      );
  } else if (parsed.desiredCount === undefined) {
    throw new InvalidParameterError(
      'desiredCount: is required for the REPLICA scheduling strategy (an integer of 0 or more)',
      'desiredCount',
    );
  }
  return {
    ...parsed,
    desiredCount: parsed.desiredCount ?? 0,
    schedulingStrategy,
    deployment: resolveDeploymentConfiguration(
      parsed.deploymentConfiguration,
      schedulingStrategy === 'DAEMON' ? DAEMON_DEPLOYMENT_CONFIGURATION : DEFAULT_DEPLOYMENT_CONFIGURATION,
      schedulingStrategy,
    ),
  };
}

/** An UpdateService request, checked; a DAEMON service's count follows its instances. */
export function validateUpdateService(
  input: unknown,
  strategy: SchedulingStrategyName = 'REPLICA',
): UpdateServiceInput {
  const parsed = parseOrThrow(updateServiceSchema, input ?? {});
  if (strategy === 'DAEMON' && parsed.desiredCount !== undefined)
    throw new InvalidParameterError(DAEMON_DESIRED_COUNT, 'desiredCount');
  return parsed;
}
