import { z } from 'zod';
import { parseOrThrow } from './validation.js';

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
  overrides: z
    .looseObject({
      containerOverrides: z.array(containerOverrideSchema, { error: 'must be an array' }).optional(),
    })
    .optional(),
});

export type RunTaskInput = z.output<typeof runTaskSchema>;
export type TaskOverrides = NonNullable<RunTaskInput['overrides']>;

export function validateRunTask(input: unknown): RunTaskInput {
  return parseOrThrow(runTaskSchema, input ?? {});
}

export const createClusterSchema = z.looseObject({
  clusterName: z
    .string({ error: 'is required and must be a string' })
    .regex(/^[A-Za-z0-9_-]{1,255}$/, { error: 'must be 1-255 letters, digits, hyphens or underscores' }),
});

export function validateCreateCluster(input: unknown): { clusterName: string } {
  return parseOrThrow(createClusterSchema, input ?? {});
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
