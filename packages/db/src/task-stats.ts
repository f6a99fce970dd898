import type { TaskReservation, TaskSample } from '@berth/domain';
import type { Db } from './client.js';

export interface ServiceSamples {
  /** The database's clock, which the window is measured against. */
  now: Date;
  /** The service's RUNNING tasks, each with its samples of the window, oldest first. */
  tasks: (TaskReservation & { id: string; samples: TaskSample[] })[];
}

/**
 * A service's RUNNING tasks with their samples of the last `windowSeconds`: what the service stats
 * route and auto scaling average (serviceUtilization).
 */
export async function readServiceSamples(
  db: Db,
  serviceId: string,
  windowSeconds: number,
): Promise<ServiceSamples> {
  const rows = await db.$queryRaw<
    {
      id: string;
      cpu: number;
      memory: number;
      sampled_at: Date | null;
      cpu_units: number | null;
      memory_bytes: bigint | null;
      now: Date;
    }[]
  >`
    SELECT t.id, t.cpu, t.memory, s.sampled_at, s.cpu_units, s.memory_bytes, now() AT TIME ZONE 'UTC' AS now
      FROM task t
      LEFT JOIN task_stats_sample s
        ON s.task_id = t.id AND s.sampled_at > now() AT TIME ZONE 'UTC' - ${windowSeconds} * interval '1 second'
     WHERE t.service_id = ${serviceId}::uuid AND t.last_status = 'RUNNING'
     ORDER BY t.id, s.sampled_at`;
  const tasks = new Map<string, ServiceSamples['tasks'][number]>();
  for (const r of rows) {
    const task = tasks.get(r.id) ?? { id: r.id, cpu: r.cpu, memory: r.memory, samples: [] };
    tasks.set(r.id, task);
    if (r.sampled_at)
      task.samples.push({
        sampledAt: r.sampled_at,
        cpuUnits: r.cpu_units!,
        memoryBytes: Number(r.memory_bytes),
      });
  }
  return { now: rows[0]?.now ?? new Date(), tasks: [...tasks.values()] };
}
