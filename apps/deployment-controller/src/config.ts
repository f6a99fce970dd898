import { commonEnv, loadConfig, millis, z } from '@berth/config';

export const controllerEnv = {
  ...commonEnv,
  /** How often tasks are re-examined from Postgres, healing lost task-event hints. */
  BERTH_CONTROLLER_SWEEP_MS: millis(5000),
  /**
   * An agent silent this long is marked disconnected (no new tasks). With 2 s heartbeats, 5 s
   * rides out a 2-3 s network blip. A closed stream marks it disconnected at once.
   */
  BERTH_AGENT_HEARTBEAT_TIMEOUT_MS: millis(5000),
  /** A disconnected instance silent this long is lost: its tasks stop with InstanceLost and are replaced. */
  BERTH_INSTANCE_LOST_AFTER_MS: millis(6000),
  /** How often instances are checked for silence. */
  BERTH_INSTANCE_SWEEP_MS: millis(1000),
  BERTH_CONTROLLER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(8),
};

export type ControllerConfig = ReturnType<typeof loadControllerConfig>;

export function loadControllerConfig(env: Record<string, string | undefined> = process.env) {
  return loadConfig(controllerEnv, env);
}
