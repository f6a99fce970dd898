import { createLogger } from '@berth/config';
import { createPrisma, isRetriableDbError } from '@berth/db';
import {
  createRedis,
  Hints,
  isSweep,
  publishAgentCommand,
  QUEUES,
  startWorker,
  type PlacementJob,
} from '@berth/queues';
import type { SchedulerConfig } from './config.js';
import { PlacementRepository } from './placement.repository.js';
import { PlacementService } from './placement.service.js';
import { SchedulerMetrics } from './metrics.js';
import { registerQueueDepth, serveMetrics } from '@berth/metrics';

/** Wires the scheduler: a BullMQ worker on the placement queue, plus its periodic sweep. */
export async function startScheduler(
  config: SchedulerConfig,
): Promise<{ metricsPort: number; close: () => Promise<void> }> {
  const logger = createLogger('scheduler', config.BERTH_LOG_LEVEL);
  const metrics = new SchedulerMetrics();
  const db = createPrisma(config.DATABASE_URL);
  const redis = createRedis(config);
  const prefix = config.BERTH_REDIS_PREFIX;
  const repo = new PlacementRepository(db);
  const hints = new Hints({
    redis,
    prefix,
    onError: (err) => logger.warn({ err }, 'queue connection error'),
  });
  const placement = new PlacementService(
    repo,
    async (byInstance) => {
      for (const [containerInstanceId, taskIds] of byInstance) {
        await publishAgentCommand(redis, prefix, { containerInstanceId, taskIds });
      }
    },
    logger,
    config.BERTH_PLACEMENT_BATCH,
    metrics,
    {
      partitions: config.BERTH_PLACEMENT_PARTITIONS,
      split: (clusterId, partitions) => hints.placePartitions(clusterId, partitions),
    },
  );
  metrics.countWaiting(() => repo.countWaiting());

  const worker = await startWorker<PlacementJob>(
    { redis, prefix },
    QUEUES.placement,
    async (job) => {
      try {
        if (isSweep(job)) {
          for (const clusterId of await repo.clustersWithWaitingTasks())
            await placement.onClusterHint(clusterId);
        } else {
          const { clusterId, partition } = job.data as PlacementJob;
          await (partition
            ? placement.placeCluster(clusterId, partition)
            : placement.onClusterHint(clusterId));
        }
      } catch (err) {
        // Retriable failures (Postgres restarting) go back to BullMQ's backoff; the sweep covers the rest.
        logger[isRetriableDbError(err) ? 'warn' : 'error']({ err, job: job.name }, 'placement failed');
        throw err;
      }
    },
    { concurrency: config.BERTH_SCHEDULER_CONCURRENCY, sweepEveryMs: config.BERTH_PLACEMENT_SWEEP_MS },
  );
  worker.worker.on('error', (err) => logger.warn({ err }, 'queue connection error'));
  registerQueueDepth(metrics.registry, [
    {
      queue: QUEUES.placement.name,
      counts: () => worker.queue.getJobCounts('waiting', 'delayed', 'active', 'failed'),
    },
  ]);
  const server = await serveMetrics(metrics.registry, config.BERTH_METRICS_HOST, config.BERTH_METRICS_PORT);
  logger.info(
    { sweepMs: config.BERTH_PLACEMENT_SWEEP_MS, metrics: `${config.BERTH_METRICS_HOST}:${server.port}` },
    'scheduler started',
  );

  return {
    metricsPort: server.port,
    close: async () => {
      await server.close();
      await worker.close();
      await hints.close();
      await db.$disconnect();
      redis.disconnect();
    },
  };
}
