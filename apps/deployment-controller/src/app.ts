import { createLogger } from '@berth/config';
import { createPrisma, isRetriableDbError } from '@berth/db';
import {
  createRedis,
  Hints,
  isSweep,
  publishAgentCommand,
  QUEUES,
  startWorker,
  type ServiceJob,
  type Job,
  type TaskEventJob,
} from '@berth/queues';

import type { ControllerConfig } from './config.js';
import { TasksRepository } from './tasks.repository.js';
import { TaskReconciler } from './task-reconciler.js';
import { ServicesRepository } from './services.repository.js';
import { ServiceReconciler } from './service-reconciler.js';
import { InstancesRepository } from './instances.repository.js';
import { InstanceReconciler } from './instance-reconciler.js';
import { TargetsRepository } from './targets.repository.js';
import { TargetReconciler } from './target-reconciler.js';
import { SchedulesRepository } from './schedules.repository.js';
import { ScheduleFirer } from './schedule-firer.js';
import { ControllerMetrics } from './metrics.js';
import { ScalingRepository } from './scaling.repository.js';
import { Autoscaler } from './autoscaler.js';
import { registerQueueDepth, secondsSince, serveMetrics } from '@berth/metrics';

/**
 * Wires the deployment controller: a worker on task events (a task's own fate) and one on
 * services (self-healing, rollouts, the breaker), each with a periodic sweep over Postgres, and
 * the sweeps of instances (and load-balancer targets) and of schedules.
 */
export async function startController(
  config: ControllerConfig,
): Promise<{ metricsPort: number; close: () => Promise<void> }> {
  const logger = createLogger('deployment-controller', config.BERTH_LOG_LEVEL);
  const db = createPrisma(config.DATABASE_URL);
  const metrics = new ControllerMetrics();
  metrics.readFrom(db);
  const redis = createRedis(config);
  const prefix = config.BERTH_REDIS_PREFIX;
  const hints = new Hints({ redis, prefix });
  const tellAgent = (containerInstanceId: string, taskIds: string[]) =>
    publishAgentCommand(redis, prefix, { containerInstanceId, taskIds });

  const taskReconciler = new TaskReconciler(new TasksRepository(db), tellAgent, logger);
  const serviceReconciler = new ServiceReconciler(
    new ServicesRepository(db),
    {
      placeInCluster: (clusterId) => hints.placeInCluster(clusterId),
      tellAgent,
      circuitBreakerTripped: (rollback) => metrics.breakerTrips.inc({ rollback: String(rollback) }),
    },
    logger,
  );

  const autoscaler = new Autoscaler(
    new ScalingRepository(db),
    { serviceChanged: (id) => hints.serviceChanged(id) },
    logger,
    {
      scaleOutSeconds: config.BERTH_AUTOSCALING_SCALE_OUT_WINDOW_SECONDS,
      scaleInSeconds: config.BERTH_AUTOSCALING_SCALE_IN_WINDOW_SECONDS,
    },
  );

  /** Runs one job, timed as `kind` (its sweep as `<kind>-sweep`), logging and rethrowing failures. */
  const guarded =
    <T>(what: string, kind: string, handle: (job: Job<T>) => Promise<void>) =>
    async (job: Job<T>) => {
      const start = process.hrtime.bigint();
      const labels = { kind: isSweep(job) || kind === 'instance' ? `${kind}-sweep` : kind };
      try {
        await handle(job);
        metrics.reconcile.observe(labels, secondsSince(start));
      } catch (err) {
        metrics.reconcileErrors.inc(labels);
        // Retriable failures (Postgres restarting) go back to BullMQ's backoff; the sweep covers the rest.
        logger[isRetriableDbError(err) ? 'warn' : 'error'](
          { err, job: job.name, data: job.data },
          `${what} failed`,
        );
        throw err;
      }
    };

  const taskWorker = await startWorker<TaskEventJob>(
    { redis, prefix },
    QUEUES.taskEvents,
    guarded('task reconcile', 'task', async (job) => {
      if (isSweep(job)) return taskReconciler.sweep();
      const serviceId = await taskReconciler.reconcile((job.data as TaskEventJob).taskId);
      // A service's task changed: the service may need a replacement, a rollout step, a breaker count.
      if (serviceId) await hints.serviceChanged(serviceId);
    }),
    { concurrency: config.BERTH_CONTROLLER_CONCURRENCY, sweepEveryMs: config.BERTH_CONTROLLER_SWEEP_MS },
  );
  const serviceWorker = await startWorker<ServiceJob>(
    { redis, prefix },
    QUEUES.services,
    guarded('service reconcile', 'service', async (job) => {
      if (isSweep(job)) {
        await serviceReconciler.sweep();
        // Auto scaling rides on the service sweep: its decisions look at windows of a minute or more.
        return autoscaler.sweep();
      }
      await serviceReconciler.reconcile((job.data as ServiceJob).serviceId);
    }),
    { concurrency: config.BERTH_CONTROLLER_CONCURRENCY, sweepEveryMs: config.BERTH_CONTROLLER_SWEEP_MS },
  );
  const instanceReconciler = new InstanceReconciler(
    new InstancesRepository(db),
    { placeInCluster: (id) => hints.placeInCluster(id), serviceChanged: (id) => hints.serviceChanged(id) },
    logger,
    {
      heartbeatIntervalMs: config.BERTH_HEARTBEAT_INTERVAL_MS,
      heartbeatTimeoutMs: config.BERTH_AGENT_HEARTBEAT_TIMEOUT_MS,
      lostAfterMs: config.BERTH_INSTANCE_LOST_AFTER_MS,
      brakeThreshold: config.BERTH_EVICTION_BRAKE_THRESHOLD,
      brakeWindowMs: config.BERTH_EVICTION_BRAKE_WINDOW_MS,
      brakeMinInstances: config.BERTH_EVICTION_BRAKE_MIN_INSTANCES,
      releaseGraceMs: config.BERTH_BRAKE_RELEASE_GRACE_MS,
      maxLostPerSweep: config.BERTH_INSTANCE_LOST_MAX_PER_SWEEP,
    },
  );
  const targetReconciler = new TargetReconciler(
    new TargetsRepository(db),
    { tellAgent, serviceChanged: (id) => hints.serviceChanged(id) },
    logger,
  );
  const instanceWorker = await startWorker(
    { redis, prefix },
    QUEUES.instances,
    // Load-balancer targets ride on the instance sweep (every second): drains end on time.
    guarded('instance sweep', 'instance', async () => {
      await instanceReconciler.sweep();
      await targetReconciler.sweep();
    }),
    { concurrency: 1, sweepEveryMs: config.BERTH_INSTANCE_SWEEP_MS },
  );
  const scheduleFirer = new ScheduleFirer(
    new SchedulesRepository(db),
    { placeInCluster: (id) => hints.placeInCluster(id) },
    logger,
  );
  const scheduleWorker = await startWorker(
    { redis, prefix },
    QUEUES.schedules,
    guarded('schedule sweep', 'schedule', async () => void (await scheduleFirer.sweep())),
    { concurrency: 1, sweepEveryMs: config.BERTH_SCHEDULE_SWEEP_MS },
  );
  for (const w of [taskWorker, serviceWorker, instanceWorker, scheduleWorker])
    w.worker.on('error', (err) => logger.warn({ err }, 'queue connection error'));
  const depth = (queue: string, w: typeof taskWorker) => ({
    queue,
    counts: () => w.queue.getJobCounts('waiting', 'delayed', 'active', 'failed'),
  });
  registerQueueDepth(metrics.registry, [
    depth(QUEUES.taskEvents.name, taskWorker),
    depth(QUEUES.services.name, serviceWorker),
    depth(QUEUES.instances.name, instanceWorker),
    depth(QUEUES.schedules.name, scheduleWorker),
  ]);
  const server = await serveMetrics(metrics.registry, config.BERTH_METRICS_HOST, config.BERTH_METRICS_PORT);
  logger.info(
    { sweepMs: config.BERTH_CONTROLLER_SWEEP_MS, metrics: `${config.BERTH_METRICS_HOST}:${server.port}` },
    'deployment-controller started',
  );

  return {
    metricsPort: server.port,
    close: async () => {
      await server.close();
      await taskWorker.close();
      await serviceWorker.close();
      await instanceWorker.close();
      await scheduleWorker.close();
      await hints.close();
      await db.$disconnect();
      redis.disconnect();
    },
  };
}
