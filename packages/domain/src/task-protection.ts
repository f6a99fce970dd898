import { z } from 'zod';
import { parseOrThrow } from './validation.js';

/**
 * ECS task scale-in protection (UpdateTaskProtection / GetTaskProtection): a service's task that
 * is protected is never chosen for scale-in nor replaced by a deployment until the protection
 * expires (see `isProtected` in service-plan.ts). Stored as one timestamp per task.
 */

/** ECS's bounds: 1 minute to 48 hours, 2 hours when not given. */
export const TASK_PROTECTION_DEFAULT_MINUTES = 120;
export const TASK_PROTECTION_MAX_MINUTES = 2880;
/** At most this many tasks per call, as in ECS. */
export const TASK_PROTECTION_MAX_TASKS = 10;

const taskList = z
  .array(z.string({ error: 'must be task ids or ARNs' }).min(1, { error: 'must not be empty' }), {
    error: 'must be an array of task ids or ARNs',
  })
  .min(1, { error: `must list 1 to ${TASK_PROTECTION_MAX_TASKS} tasks` })
  .max(TASK_PROTECTION_MAX_TASKS, { error: `must list 1 to ${TASK_PROTECTION_MAX_TASKS} tasks` });

export const updateTaskProtectionSchema = z.looseObject({
  tasks: taskList,
  protectionEnabled: z.boolean({ error: 'is required: true or false' }),
  expiresInMinutes: z
    .int({ error: `must be an integer from 1 to ${TASK_PROTECTION_MAX_MINUTES} (minutes)` })
    .min(1, { error: `must be an integer from 1 to ${TASK_PROTECTION_MAX_MINUTES} (minutes)` })
    .max(TASK_PROTECTION_MAX_MINUTES, {
      error: `must be an integer from 1 to ${TASK_PROTECTION_MAX_MINUTES} (minutes)`,
    })
    .optional(),
});

export const getTaskProtectionSchema = z.looseObject({ tasks: taskList.optional() });

export interface TaskProtectionChange {
  tasks: string[];
  /** The new protected_until: null clears the protection. */
  protectedUntil: Date | null;
}

/** An UpdateTaskProtection request, checked, with the expiry it sets counted from `now`. */
export function validateUpdateTaskProtection(input: unknown, now: Date): TaskProtectionChange {
  const parsed = parseOrThrow(updateTaskProtectionSchema, input ?? {});
  const minutes = parsed.expiresInMinutes ?? TASK_PROTECTION_DEFAULT_MINUTES;
  return {
    tasks: parsed.tasks,
    protectedUntil: parsed.protectionEnabled ? new Date(now.getTime() + minutes * 60_000) : null,
  };
}

export function validateGetTaskProtection(input: unknown): { tasks?: string[] } {
  return parseOrThrow(getTaskProtectionSchema, input ?? {});
}

/** ECS's ProtectedTask: an expired protection reads as not enabled, with no date. */
export function protectedTaskView(
  taskArn: string,
  protectedUntil: Date | null,
  now: Date,
): { taskArn: string; protectionEnabled: boolean; expirationDate?: string } {
  const enabled = !!protectedUntil && protectedUntil.getTime() > now.getTime();
  return enabled
    ? { taskArn, protectionEnabled: true, expirationDate: protectedUntil.toISOString() }
    : { taskArn, protectionEnabled: false };
}
