import { Queue, Worker, type Job, type JobsOptions, type Processor } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import { redisTarget, type RedisSettings } from './redis-connection.js';

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
  /** Periodic sweep only: schedules whose firing has come, consumed by the deployment controller. */
  schedules: {
    name: 'schedules',
    options: {
      attempts: 3,
      backoff: { type: 'exponential', delay: 200 },
      removeOnComplete: true,
      removeOnFail: 1000,
    },
  },
} as const satisfies Record<string, { name: string; options: JobsOptions }>;

export interface PlacementJob {
  clusterId: string;
  /** A share of the cluster's waiting tasks (scheduler-core's taskIdRange); none: all of them. */
  partition?: { index: number; count: number };
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

/** A connection as the settings say: REDIS_URL, or the master found through the Sentinels. */
function connect(settings: RedisSettings, options: RedisOptions): Redis {
  const target = redisTarget(settings);
  return 'url' in target ? new Redis(target.url, options) : new Redis({ ...target.sentinel, ...options });
}

/** For BullMQ workers and pub/sub subscribers: commands wait out a Redis restart or failover. */
export function createRedis(connection: RedisSettings): Redis {
  // BullMQ workers need maxRetriesPerRequest null: blocking commands must wait out a Redis restart.
  return connect(connection, { maxRetriesPerRequest: null, lazyConnect: false });
}

/**
 * For work done while a request waits (adding a hint, publishing "tell agent X", a health check):
 * a command fails at once while Redis is unreachable, and after `commandTimeoutMs` when Redis
 * does not answer, instead of waiting for Redis to come back. Callers treat Redis as best effort:
 * the state is in Postgres and the sweeps and resyncs deliver what a failed command did not.
 */
export function createRequestRedis(connection: RedisSettings, commandTimeoutMs: number): Redis {
  return connect(connection, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: commandTimeoutMs,
  });
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

  private readonly redis: Redis;

  /** `onError` hears connection errors, which BullMQ would otherwise print to the console. */
  constructor(ctx: QueueContext & { onError?: (err: Error) => void }) {
    this.redis = ctx.redis;
    this.placement = new Queue(QUEUES.placement.name, { connection: ctx.redis, prefix: ctx.prefix });
    this.taskEvents = new Queue(QUEUES.taskEvents.name, { connection: ctx.redis, prefix: ctx.prefix });
    this.services = new Queue(QUEUES.services.name, { connection: ctx.redis, prefix: ctx.prefix });
    if (ctx.onError)
      for (const q of [this.placement, this.taskEvents, this.services]) q.on('error', ctx.onError);
  }

  /**
   * BullMQ waits for a first connection even on a client that queues nothing while offline (see
   * createRequestRedis): with such a client, refuse at once instead.
   */
  private checkConnected(): void {
    if (this.redis.options.enableOfflineQueue === false && this.redis.status !== 'ready') {
      throw new Error(`Redis is not connected (${this.redis.status})`);
    }
  }

  /** Many task hints in one round trip (the gateway batches agent reports). */
  async tasksChanged(taskIds: string[]): Promise<void> {
    if (taskIds.length === 0) return;
    this.checkConnected();
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
    this.checkConnected();
    await this.services.add('service', { serviceId } satisfies ServiceJob, {
      ...QUEUES.services.options,
      deduplication: { id: `service:${serviceId}`, keepLastIfActive: true },
    });
  }

  async placeInCluster(clusterId: string): Promise<void> {
    this.checkConnected();
    await this.placement.add('place', { clusterId } satisfies PlacementJob, {
      ...QUEUES.placement.options,
      // One waiting job per cluster; a hint that arrives while one runs is kept for after it.
      deduplication: { id: `cluster:${clusterId}`, keepLastIfActive: true },
    });
  }

  /**
   * One job per share of a cluster's waiting tasks, so that every scheduler replica (and every
   * worker slot of one) can take a share of a large backlog at once.
   */
  async placePartitions(clusterId: string, count: number): Promise<void> {
    this.checkConnected();
    await this.placement.addBulk(
      Array.from({ length: count }, (_, index) => ({
        name: 'place',
        data: { clusterId, partition: { index, count } } satisfies PlacementJob,
        opts: {
          ...QUEUES.placement.options,
          deduplication: { id: `cluster:${clusterId}:${index}/${count}`, keepLastIfActive: true },
        },
      })),
    );
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
): Promise<{ worker: Worker; queue: Queue; close: () => Promise<void> }> {
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
    /** The queue itself, for its job counts (berth_queue_jobs). */
    queue: q,
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

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A message from the channel as a command, or undefined if it is not one (anyone with Redis can publish). */
export function parseAgentCommand(message: string): AgentCommand | undefined {
  let value: unknown;
  try {
    value = JSON.parse(message);
  } catch {
    return undefined;
  }
  const { containerInstanceId, taskIds } = (value ?? {}) as Partial<Record<keyof AgentCommand, unknown>>;
  if (typeof containerInstanceId !== 'string' || !UUID.test(containerInstanceId)) return undefined;
  if (!Array.isArray(taskIds) || !taskIds.every((id) => typeof id === 'string' && UUID.test(id)))
    return undefined;
  return { containerInstanceId, taskIds };
}

/**
 * Calls `onCommand` for each well-formed command, and `onMalformed` for anything else on the
 * channel, which is dropped. Resolves once subscribed; ioredis subscribes again after a reconnect.
 */
export async function subscribeAgentCommands(
  subscriber: Redis,
  prefix: string,
  onCommand: (command: AgentCommand) => void,
  onMalformed: (message: string) => void,
): Promise<void> {
  subscriber.on('message', (channel: string, message: string) => {
    if (channel !== agentChannel(prefix)) return;
    const command = parseAgentCommand(message);
    if (command) onCommand(command);
    else onMalformed(message);
  });
  await subscriber.subscribe(agentChannel(prefix));
}
export { Redis } from 'ioredis';
export * from './redis-connection.js';
export type { Job } from 'bullmq';
