import { z } from 'zod';
import { runTaskSchema } from './run-task.js';
import { parseOrThrow } from './validation.js';

/** ECS's StartTask takes at most this many container instances, one task on each. */
export const MAX_START_TASK_INSTANCES = 10;

/**
 * StartTask: RunTask's fields without count, placement or client token, plus the instances to
 * start one task on each. The tasks are targeted at those instances: the scheduler places each on
 * its own instance or leaves it waiting with the reason.
 */
export const startTaskSchema = runTaskSchema
  .omit({ count: true, placementConstraints: true, placementStrategy: true, clientToken: true })
  .extend({
    containerInstances: z
      .array(z.string({ error: 'must be container instance ids or ARNs' }), {
        error: 'is required: a list of container instance ids or ARNs',
      })
      .min(1, { error: `must list 1 to ${MAX_START_TASK_INSTANCES} container instances` })
      .max(MAX_START_TASK_INSTANCES, {
        error: `must list 1 to ${MAX_START_TASK_INSTANCES} container instances`,
      }),
  });

export type StartTaskInput = z.output<typeof startTaskSchema>;

export function validateStartTask(input: unknown): StartTaskInput {
  return parseOrThrow(startTaskSchema, input ?? {});
}
