import { commonEnv, loadConfig, millis, z } from '@berth/config';
import { metricsEnv } from '@berth/metrics';

export const controllerEnv = {
  ...commonEnv,
  ...metricsEnv('deployment-controller'),
  /** How often tasks are re-examined from Postgres, healing lost task-event hints. */
  BERTH_CONTROLLER_SWEEP_MS: millis(5000),
  /** The agents' heartbeat interval: set it as on the api-gateway, which tells it to the agents. */
  BERTH_HEARTBEAT_INTERVAL_MS: millis(2000),
  /**
   * An agent silent this long is marked disconnected (no new tasks). With 2 s heartbeats, 5 s
   * rides out a 2-3 s network blip. A closed stream marks it disconnected at once.
   */
  BERTH_AGENT_HEARTBEAT_TIMEOUT_MS: millis(5000),
  /** A disconnected instance silent this long is lost: its tasks stop with InstanceLost and are replaced. */
  BERTH_INSTANCE_LOST_AFTER_MS: millis(6000),
  /** How often instances are checked for silence. */
  BERTH_INSTANCE_SWEEP_MS: millis(1000),
  /**
   * The brake on mass eviction: when more than this share of a cluster's instances went silent
   * within BERTH_EVICTION_BRAKE_WINDOW_MS of each other, none is declared lost (the control
   * plane is the likelier fault). 0.55 is Kubernetes' unhealthy-zone threshold.
   */
  BERTH_EVICTION_BRAKE_THRESHOLD: z.coerce.number().gt(0).max(1).default(0.55),
  /** Wider than the 2 s heartbeat interval, so one outage's silences fall in one window. */
  BERTH_EVICTION_BRAKE_WINDOW_MS: millis(10_000),
  /** Smaller clusters never brake: there one silent host of two is a host loss. */
  BERTH_EVICTION_BRAKE_MIN_INSTANCES: z.coerce.number().int().min(1).default(3),
  /**
   * After the brake releases an instance it held, how long its agent has to come back before it
   * is lost: agents whose dial began during the outage reconnect up to ~5 s after the network
   * does, later on a loaded gateway.
   */
  BERTH_BRAKE_RELEASE_GRACE_MS: millis(20_000),
  /**
   * At most this many instances of one cluster are declared lost per sweep: a bound on a fault
   * under the brake's threshold, high enough that a dead rack of 50 is replaced within ~10 s.
   */
  BERTH_INSTANCE_LOST_MAX_PER_SWEEP: z.coerce.number().int().min(1).default(20),
  /**
   * How often due schedules are looked for: how late a firing may run, at most. EventBridge
   * Scheduler's precision is 60 s; 1 s keeps `rate(1 minute)` close to its time.
   */
  BERTH_SCHEDULE_SWEEP_MS: millis(1000),
  /**
   * Auto scaling's windows (docs/autoscaling.md): scale-out looks at the service's average
   * utilisation over the short one; scale-in needs it low over both, as Application Auto
   * Scaling's scale-in alarm waits longer than its scale-out alarm.
   */
  BERTH_AUTOSCALING_SCALE_OUT_WINDOW_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
  BERTH_AUTOSCALING_SCALE_IN_WINDOW_SECONDS: z.coerce.number().int().min(1).max(3600).default(300),
  BERTH_CONTROLLER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(8),
};

export type ControllerConfig = ReturnType<typeof loadControllerConfig>;

export function loadControllerConfig(env: Record<string, string | undefined> = process.env) {
  return loadConfig(controllerEnv, env);
}
