import { Queue, Worker, type Job, type JobsOptions, type Processor } from 'bullmq';
import { Redis } from 'ioredis';

/**
 * The queues between the apps. Jobs carry ids only: they are hints to look now, and every handler
 * re-reads Postgres. Losing one (Redis flushed) loses nothing, because each consumer also runs a
 * periodic sweep over Postgres.
 */
export const QUEUES = {
  /** "Cluster X may have PROVISIONING tasks": consumed by the scheduler. */
  placement: {
    name: 'placement',
    options: {
      attempts: 5,
      backoff: { type: 'exponential', delay: 200 },
      removeOnComplete: true,
      removeOnFail: 1000,
    },
  },
  /** "Task X changed": consumed by the deployment controller. */
  taskEvents: {
    name: 'task-events',
    options: {
      attempts: 5,
      backoff: { type: 'exponential', delay: 200 },
      removeOnComplete: true,
      removeOnFail: 1000,
    },
  },
  /** Periodic sweep only: instances whose agents went silent, consumed by the deployment controller. */
  instances: {
    name: 'instances',
    options: {
      attempts: 3,
      backoff: { type: 'exponential', delay: 200 },
      removeOnComplete: true,
      removeOnFail: 1000,
    },
  },
  /** "Service X may need work": consumed by the deployment controller. */
  services: {
    name: 'services',
    options: {
      attempts: 5,
      backoff: { type: 'exponential', delay: 200 },
      removeOnComplete: true,
      removeOnFail: 1000,
    },
  },
} as const satisfies Record<string, { name: string; options: JobsOptions }>;

export interface PlacementJob {
  clusterId: string;
}
export interface TaskEventJob {
  taskId: string;
}
export interface ServiceJob {
  serviceId: string;
}
/** The payload of a periodic sweep job: no ids, the handler scans Postgres. */
export interface SweepJob {
  sweep: true;
}

export function createRedis(url: string): Redis {
  // BullMQ workers need maxRetriesPerRequest null: blocking commands must wait out a Redis restart.
  return new Redis(url, { maxRetriesPerRequest: null, lazyConnect: false });
}

export interface QueueContext {
  redis: Redis;
  prefix: string;
}

/** Producer side: adds hints, deduplicated per key so a burst of changes becomes one job. */
export class Hints {
  private readonly placement: Queue;
  private readonly taskEvents: Queue;
  private readonly services: Queue;

  constructor(ctx: QueueContext) {
    this.placement = new Queue(QUEUES.placement.name, { connection: ctx.redis, prefix: ctx.prefix });
    this.taskEvents = new Queue(QUEUES.taskEvents.name, { connection: ctx.redis, prefix: ctx.prefix });
    this.services = new Queue(QUEUES.services.name, { connection: ctx.redis, prefix: ctx.prefix });
  }

  /** Many task hints in one round trip (the gateway batches agent reports). */
  async tasksChanged(taskIds: string[]): Promise<void> {
    if (taskIds.length === 0) return;
    await this.taskEvents.addBulk(
      taskIds.map((taskId) => ({
        name: 'task',
        data: { taskId } satisfies TaskEventJob,
        opts: {
          ...QUEUES.taskEvents.options,
          deduplication: { id: `task:${taskId}`, keepLastIfActive: true },
        },
      })),
    );
  }

  async serviceChanged(serviceId: string): Promise<void> {
    await this.services.add('service', { serviceId } satisfies ServiceJob, {
      ...QUEUES.services.options,
      deduplication: { id: `service:${serviceId}`, keepLastIfActive: true },
    });
  }

  async placeInCluster(clusterId: string): Promise<void> {
    await this.placement.add('place', { clusterId } satisfies PlacementJob, {
      ...QUEUES.placement.options,
      // One waiting job per cluster; a hint that arrives while one runs is kept for after it.
      deduplication: { id: `cluster:${clusterId}`, keepLastIfActive: true },
    });
  }

  async close(): Promise<void> {
    await Promise.all([this.placement.close(), this.taskEvents.close(), this.services.close()]);
  }
}

/**
 * A worker on one of the queues, plus a repeating sweep job on the same queue. Handlers must be
 * idempotent: BullMQ delivers at least once, and replicas run side by side.
 */
export async function startWorker<T>(
  ctx: QueueContext,
  queue: (typeof QUEUES)[keyof typeof QUEUES],
  processor: Processor<T | SweepJob>,
  opts: { concurrency?: number; sweepEveryMs?: number } = {},
): Promise<{ worker: Worker; close: () => Promise<void> }> {
  const worker = new Worker<T | SweepJob>(queue.name, processor, {
    connection: ctx.redis,
    prefix: ctx.prefix,
    concurrency: opts.concurrency ?? 4,
  });
  const q = new Queue(queue.name, { connection: ctx.redis, prefix: ctx.prefix });
  const upsertSweep = () =>
    q.upsertJobScheduler(
      `${queue.name}-sweep`,
      { every: opts.sweepEveryMs! },
      { name: 'sweep', data: { sweep: true }, opts: { removeOnComplete: true, removeOnFail: 100 } },
    );
  let resweep: NodeJS.Timeout | undefined;
  if (opts.sweepEveryMs) {
    await upsertSweep();
    // The schedule lives in Redis: if Redis restarts empty, it is put back within seconds, so the
    // sweeps that rebuild all work from Postgres never stop. Upserting is idempotent.
    resweep = setInterval(
      () => void upsertSweep().catch(() => undefined),
      Math.max(5000, opts.sweepEveryMs * 5),
    );
  }
  return {
    worker,
    close: async () => {
      clearInterval(resweep);
      await worker.close();
      await q.close();
    },
  };
}

export function isSweep(job: Job): job is Job<SweepJob> {
  return (job.data as Partial<SweepJob>).sweep === true;
}

/**
 * "Tell agent X": published by whoever changed an instance's desired state; the gateway replica
 * that holds X's stream forwards the commands. Pub/sub may drop a message; an agent also gets its
 * full desired state on every (re)connect, and the gateway resends it periodically.
 */
export interface AgentCommand {
  containerInstanceId: string;
  taskIds: string[];
}

export const agentChannel = (prefix: string) => `${prefix}:agent-commands`;

export async function publishAgentCommand(
  redis: Redis,
  prefix: string,
  command: AgentCommand,
): Promise<void> {
  await redis.publish(agentChannel(prefix), JSON.stringify(command));
}

export async function subscribeAgentCommands(
  subscriber: Redis,
  prefix: string,
  onCommand: (command: AgentCommand) => void,
): Promise<void> {
  subscriber.on('message', (channel: string, message: string) => {
    if (channel !== agentChannel(prefix)) return;
    onCommand(JSON.parse(message) as AgentCommand);
  });
  await subscriber.subscribe(agentChannel(prefix));
}
export { Redis } from 'ioredis';
export type { Job } from 'bullmq';
