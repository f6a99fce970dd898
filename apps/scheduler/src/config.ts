import { commonEnv, loadConfig, millis, z } from '@berth/config';
import { metricsEnv } from '@berth/metrics';

export const schedulerEnv = {
  ...commonEnv,
  ...metricsEnv('scheduler'),
  /** How often every cluster is scanned for tasks still waiting for placement (heals lost hints). */
  BERTH_PLACEMENT_SWEEP_MS: millis(5000),
  /** Placement jobs (clusters) handled at once by one replica. */
  BERTH_SCHEDULER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  /** Most tasks placed in one pass over a cluster; the rest wait for the next pass. */
  BERTH_PLACEMENT_BATCH: z.coerce.number().int().min(1).max(100_000).default(1000),
  /**
   * Shares a cluster's backlog is split into when more than a batch waits: each is a placement job
   * of its own, so several replicas (and worker slots) place one cluster at once. 1: never split.
   */
  BERTH_PLACEMENT_PARTITIONS: z.coerce.number().int().min(1).max(64).default(1),
};

export type SchedulerConfig = ReturnType<typeof loadSchedulerConfig>;

export function loadSchedulerConfig(env: Record<string, string | undefined> = process.env) {
  return loadConfig(schedulerEnv, env);
}
