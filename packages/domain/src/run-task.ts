import { z } from 'zod';
import { parseOrThrow, positiveInt } from './validation.js';
import { tagsSchema, taskLevelUnits } from './task-definition.js';
import { InvalidParameterError } from './errors.js';
import { idFromArnOrId } from './arns.js';
import { clientTokenSchema } from './client-token.js';

export const MAX_RUN_TASK_COUNT = 10;

const containerOverrideSchema = z.looseObject({
  name: z.string({ error: 'is required and must be the name of a container in the task definition' }),
  command: z
    .array(z.string({ error: 'must be a string' }), { error: 'must be an array of strings' })
    .optional(),
  environment: z
    .array(z.looseObject({ name: z.string().min(1), value: z.string() }), {
      error: 'must be an array of {name, value}',
    })
    .optional(),
  cpu: z.int({ error: 'must be an integer of CPU units' }).min(0, { error: 'must be 0 or more' }).optional(),
  memory: positiveInt('MiB, hard limit').optional(),
  memoryReservation: positiveInt('MiB, soft limit').optional(),
});

export const runTaskSchema = z.looseObject({
  taskDefinition: z
    .string({ error: 'is required: a family, family:revision or task definition ARN' })
    .min(1, { error: 'is required: a family, family:revision or task definition ARN' }),
  count: z
    .int({ error: `must be an integer from 1 to ${MAX_RUN_TASK_COUNT}` })
    .min(1, { error: `must be an integer from 1 to ${MAX_RUN_TASK_COUNT}` })
    .max(MAX_RUN_TASK_COUNT, { error: `must be an integer from 1 to ${MAX_RUN_TASK_COUNT}` })
    .default(1),
  startedBy: z
    .string({ error: 'must be a string' })
    .max(128, { error: 'must be at most 128 characters' })
    .optional(),
  group: z
    .string({ error: 'must be a string' })
    .max(255, { error: 'must be at most 255 characters' })
    .optional(),
  placementConstraints: z.array(z.unknown(), { error: 'must be an array of {type, expression}' }).optional(),
  tags: tagsSchema.optional(),
  placementStrategy: z.array(z.unknown(), { error: 'must be an array of {type, field}' }).optional(),
  clientToken: clientTokenSchema(64).optional(),
  enableExecuteCommand: z.boolean({ error: 'must be a boolean' }).optional(),
  overrides: z
    .looseObject({
      containerOverrides: z.array(containerOverrideSchema, { error: 'must be an array' }).optional(),
      cpu: taskLevelUnits('CPU units').optional(),
      memory: taskLevelUnits('MiB').optional(),
    })
    .optional(),
});

export type RunTaskInput = z.output<typeof runTaskSchema>;
export type TaskOverrides = NonNullable<RunTaskInput['overrides']>;

export function validateRunTask(input: unknown): RunTaskInput {
  return parseOrThrow(runTaskSchema, input ?? {});
}

/** The answer to a client that still sets Berth's former cluster setting. */
const PRIVILEGED_CONTAINERS_MOVED =
  'privilegedContainers is no longer a cluster setting: set the cluster\'s container policy with PUT /v1/clusters/{cluster}/policy {"level": "privileged"}';

/** ECS cluster settings: containerInsights, accepted and not acted on. */
export const clusterSettingsSchema = z.array(
  z.looseObject({
    name: z.enum(['containerInsights'], {
      error: (issue) =>
        issue.input === 'privilegedContainers' ? PRIVILEGED_CONTAINERS_MOVED : 'must be containerInsights',
    }),
    value: z.string({ error: 'is required and must be a string' }),
  }),
  { error: 'must be an array of {name, value}' },
);

export type ClusterSetting = z.output<typeof clusterSettingsSchema>[number];

/** ECS ClusterConfiguration ({executeCommandConfiguration, managedStorageConfiguration}). */
const clusterConfigurationSchema = z.looseObject(
  {
    executeCommandConfiguration: z
      .looseObject(
        {
          logging: z
            .enum(['NONE', 'DEFAULT', 'OVERRIDE'], { error: 'must be NONE, DEFAULT or OVERRIDE' })
            .optional(),
        },
        { error: 'must be an object' },
      )
      .optional(),
    managedStorageConfiguration: z.looseObject({}, { error: 'must be an object' }).optional(),
  },
  { error: 'must be an object {executeCommandConfiguration, managedStorageConfiguration}' },
);

export const createClusterSchema = z.looseObject({
  clusterName: z
    .string({ error: 'is required and must be a string' })
    .regex(/^[A-Za-z0-9_-]{1,255}$/, { error: 'must be 1-255 letters, digits, hyphens or underscores' }),
  settings: clusterSettingsSchema.optional(),
  configuration: clusterConfigurationSchema.optional(),
});

export function validateCreateCluster(input: unknown): {
  clusterName: string;
  settings?: ClusterSetting[];
  configuration?: Record<string, unknown>;
} {
  const { clusterName, settings, configuration } = parseOrThrow(createClusterSchema, input ?? {});
  return { clusterName, settings, configuration };
}

export const updateClusterSettingsSchema = z.looseObject({ settings: clusterSettingsSchema });

export function validateUpdateClusterSettings(input: unknown): { settings: ClusterSetting[] } {
  return parseOrThrow(updateClusterSettingsSchema, input ?? {});
}

/** UpdateCluster: settings and configuration (executeCommandConfiguration...), kept as sent. */
export const updateClusterSchema = z.looseObject({
  settings: clusterSettingsSchema.optional(),
  configuration: clusterConfigurationSchema.optional(),
  serviceConnectDefaults: z.looseObject({}, { error: 'must be an object {namespace}' }).optional(),
});

export function validateUpdateCluster(input: unknown): {
  settings?: ClusterSetting[];
  configuration?: Record<string, unknown>;
} {
  const { settings, configuration } = parseOrThrow(updateClusterSchema, input ?? {});
  return { settings, configuration };
}

export const stopTaskSchema = z.looseObject({
  reason: z
    .string({ error: 'must be a string' })
    .max(255, { error: 'must be at most 255 characters' })
    .optional(),
});

export function validateStopTask(input: unknown): { reason?: string } {
  return parseOrThrow(stopTaskSchema, input ?? {});
}

const ATTRIBUTE_TEXT = /^[A-Za-z0-9_.-]{1,128}$/;

export const attributesSchema = z.looseObject({
  attributes: z
    .array(
      z.looseObject({
        name: z.string({ error: 'is required' }).regex(ATTRIBUTE_TEXT, {
          error: 'must be 1-128 letters, digits, underscores, periods or hyphens',
        }),
        value: z
          .string({ error: 'must be a string' })
          .regex(ATTRIBUTE_TEXT, { error: 'must be 1-128 letters, digits, underscores, periods or hyphens' })
          .optional(),
        targetType: z.literal('container-instance', { error: 'must be "container-instance"' }).optional(),
        targetId: z.string({ error: 'is required: a container instance id or ARN' }).min(1),
      }),
      { error: 'is required: an array of {name, value, targetId}' },
    )
    .min(1, { error: 'must hold at least one attribute' })
    .max(10, { error: 'must hold at most 10 attributes' }),
});

export interface AttributeChange {
  name: string;
  value?: string;
  /** A container instance id (an ARN is reduced to its id). */
  targetId: string;
}

/** PutAttributes needs a value for each attribute; DeleteAttributes ignores values. */
export function validateAttributes(input: unknown, op: 'put' | 'delete'): AttributeChange[] {
  const { attributes } = parseOrThrow(attributesSchema, input ?? {});
  return attributes.map((a, i) => {
    if (op === 'put' && a.value === undefined) {
      throw new InvalidParameterError(
        `attributes[${i}].value: is required to put an attribute`,
        `attributes[${i}].value`,
      );
    }
    return { name: a.name, value: a.value, targetId: idFromArnOrId(a.targetId) };
  });
}

export const updateContainerInstanceSchema = z.looseObject({
  status: z.enum(['ACTIVE', 'DRAINING'], { error: 'must be "ACTIVE" or "DRAINING"' }),
});

export function validateUpdateContainerInstance(input: unknown): { status: 'ACTIVE' | 'DRAINING' } {
  return parseOrThrow(updateContainerInstanceSchema, input ?? {});
}
