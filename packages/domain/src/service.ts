import { z } from 'zod';
import { InvalidParameterError } from './errors.js';
import { parseOrThrow } from './validation.js';
import { clientTokenSchema } from './client-token.js';

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

const placementList = z.array(z.looseObject({ type: z.string() }), {
  error: 'must be an array of {type, ...}',
});

export const createServiceSchema = z.looseObject({
  serviceName: z
    .string({ error: 'is required and must be a string' })
    .regex(/^[A-Za-z0-9_-]{1,255}$/, { error: 'must be 1-255 letters, digits, hyphens or underscores' }),
  taskDefinition: z.string({ error: 'is required: a family, family:revision or task definition ARN' }).min(1),
  desiredCount,
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

/** Merges a requested configuration over the current one and checks that a rollout can progress. */
export function resolveDeploymentConfiguration(
  requested: z.output<typeof deploymentConfigurationSchema> | undefined,
  current: DeploymentConfiguration = DEFAULT_DEPLOYMENT_CONFIGURATION,
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

export function validateCreateService(
  input: unknown,
): CreateServiceInput & { deployment: DeploymentConfiguration } {
  const parsed = parseOrThrow(createServiceSchema, input ?? {});
  return { ...parsed, deployment: resolveDeploymentConfiguration(parsed.deploymentConfiguration) };
}

export function validateUpdateService(input: unknown): UpdateServiceInput {
  return parseOrThrow(updateServiceSchema, input ?? {});
}
