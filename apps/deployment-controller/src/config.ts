import { commonEnv, loadConfig, millis, z } from '@berth/config';

export const controllerEnv = {
  ...commonEnv,
  /** How often tasks are re-examined from Postgres, healing lost task-event hints. */
  BERTH_CONTROLLER_SWEEP_MS: millis(5000),
  BERTH_CONTROLLER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(8),
};

export type ControllerConfig = ReturnType<typeof loadControllerConfig>;

export function loadControllerConfig(env: Record<string, string | undefined> = process.env) {
  return loadConfig(controllerEnv, env);
}
