import { Inject, Injectable } from '@nestjs/common';
import { readServiceSamples } from '@berth/db';
import { NotFoundError, type ContainerStats, type TaskSample } from '@berth/domain';
import { CONFIG, type GatewayConfig } from '../config.js';
import { PRISMA, type PrismaClient } from '../infra/providers.js';

/** One task's sample from one agent's report, as the gateway stores it. */
export interface ReportedTaskStats {
  instanceId: string;
  taskId: string;
  containers: ContainerStats[];
}

export interface TaskStatsRow {
  id: string;
  cpu: number;
  memory: number;
  lastStatus: string;
  latest: (TaskSample & { containers: unknown }) | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Old samples go at most this often per replica: one indexed DELETE, not one per report. */
const PRUNE_EVERY_MS = 60_000;

/**
 * The only door to `task_stats_sample`: agents' samples in, a task's latest values and a service's
 * recent samples out. Times are the database's clock (UTC), so agents' clocks do not matter.
 */
@Injectable()
export class StatsRepository {
  private lastPrune = 0;

  constructor(
    @Inject(PRISMA) private readonly db: PrismaClient,
    @Inject(CONFIG) private readonly config: GatewayConfig,
  ) {}

  /**
   * Stores a batch of samples, one row each, in one statement. A sample counts only for a task
   * placed on the instance that reported it; the rest are dropped. Returns how many were stored.
   */
  async record(batch: readonly ReportedTaskStats[]): Promise<number> {
    const rows = batch.filter((s) => UUID.test(s.taskId) && UUID.test(s.instanceId));
    let stored = 0;
    if (rows.length) {
      const sum = (s: ReportedTaskStats, pick: (c: ContainerStats) => number) =>
        s.containers.reduce((n, c) => n + pick(c), 0);
      stored = await this.db.$executeRaw`
        INSERT INTO task_stats_sample (task_id, sampled_at, cpu_units, memory_bytes, containers)
        SELECT t.id, now() AT TIME ZONE 'UTC', v.cpu_units, v.memory_bytes, v.containers
          FROM (SELECT unnest(${rows.map((r) => r.taskId)}::uuid[]) AS task_id,
                       unnest(${rows.map((r) => r.instanceId)}::uuid[]) AS instance_id,
                       unnest(${rows.map((r) => sum(r, (c) => c.cpuUnits))}::float8[]) AS cpu_units,
                       unnest(${rows.map((r) => Math.round(sum(r, (c) => c.memoryBytes)))}::bigint[]) AS memory_bytes,
                       unnest(${rows.map((r) => JSON.stringify(r.containers))}::jsonb[]) AS containers) v
          JOIN task t ON t.id = v.task_id AND t.container_instance_id = v.instance_id
        ON CONFLICT DO NOTHING`;
    }
    if (Date.now() - this.lastPrune >= PRUNE_EVERY_MS) await this.prune();
    return stored;
  }

  /** Deletes the samples older than BERTH_TASK_STATS_RETENTION_MS, whatever their task. */
  async prune(): Promise<void> {
    this.lastPrune = Date.now();
    await this.db.$executeRaw`
      DELETE FROM task_stats_sample
       WHERE sampled_at < now() AT TIME ZONE 'UTC' - ${this.config.BERTH_TASK_STATS_RETENTION_MS} * interval '1 millisecond'`;
  }

  /** A task of the cluster with its latest sample (null before the first). */
  async task(clusterId: string, taskId: string): Promise<TaskStatsRow> {
    const task = await this.db.task.findFirst({
      where: { clusterId, id: taskId },
      select: { id: true, cpu: true, memory: true, lastStatus: true },
    });
    if (!task)
      throw new NotFoundError(
        'InvalidParameterException',
        `task ${taskId} does not exist in this cluster`,
        'task',
      );
    const latest = await this.db.taskStatsSample.findFirst({
      where: { taskId },
      orderBy: { sampledAt: 'desc' },
    });
    return {
      ...task,
      latest: latest && {
        sampledAt: latest.sampledAt,
        cpuUnits: latest.cpuUnits,
        memoryBytes: Number(latest.memoryBytes),
        containers: latest.containers,
      },
    };
  }

  /** The service's RUNNING tasks with their samples of the last `windowSeconds`, and the database's clock. */
  async serviceSamples(serviceId: string, windowSeconds: number) {
    return readServiceSamples(this.db, serviceId, windowSeconds);
  }
}
