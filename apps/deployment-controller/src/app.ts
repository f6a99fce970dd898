import { createLogger } from '@berth/config';
import { createPrisma, isRetriableDbError } from '@berth/db';
import {
  createRedis,
  isSweep,
  publishAgentCommand,
  QUEUES,
  startWorker,
  type TaskEventJob,
} from '@berth/queues';
import type { ControllerConfig } from './config.js';
import { TasksRepository } from './tasks.repository.js';
import { TaskReconciler } from './task-reconciler.js';

/** Wires the deployment controller: a worker on the task-events queue, plus its periodic sweep. */
export async function startController(config: ControllerConfig): Promise<{ close: () => Promise<void> }> {
  const logger = createLogger('deployment-controller', config.BERTH_LOG_LEVEL);
  const db = createPrisma(config.DATABASE_URL);
  const redis = createRedis(config.REDIS_URL);
  const prefix = config.BERTH_REDIS_PREFIX;
  const tasks = new TasksRepository(db);
  const reconciler = new TaskReconciler(
    tasks,
    (containerInstanceId, taskIds) => publishAgentCommand(redis, prefix, { containerInstanceId, taskIds }),
    logger,
  );

  const worker = await startWorker<TaskEventJob>(
    { redis, prefix },
    QUEUES.taskEvents,
    async (job) => {
      try {
        if (isSweep(job)) {
          for (const id of await tasks.withStoppedEssentialContainer()) await reconciler.reconcile(id);
        } else {
          await reconciler.reconcile((job.data as TaskEventJob).taskId);
        }
      } catch (err) {
        logger[isRetriableDbError(err) ? 'warn' : 'error']({ err, job: job.name }, 'reconcile failed');
        throw err;
      }
    },
    { concurrency: config.BERTH_CONTROLLER_CONCURRENCY, sweepEveryMs: config.BERTH_CONTROLLER_SWEEP_MS },
  );
  worker.worker.on('error', (err) => logger.warn({ err }, 'queue connection error'));
  logger.info({ sweepMs: config.BERTH_CONTROLLER_SWEEP_MS }, 'deployment-controller started');

  return {
    close: async () => {
      await worker.close();
      await db.$disconnect();
      redis.disconnect();
    },
  };
}
