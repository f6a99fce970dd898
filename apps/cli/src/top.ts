import type { Task } from '@berth/api-client';
import type { BerthApi } from './api.js';
import { lastPart, type Table } from './views.js';

/** `berth top`: each RUNNING task's latest CPU and memory, from GET .../tasks/{task}/stats. */

export interface TaskStatsShape {
  taskArn: string;
  cpu: number;
  memory: number;
  sampledAt: string | null;
  cpuUnits: number | null;
  memoryBytes: number | null;
  cpuUtilization: number | null;
  memoryUtilization: number | null;
}

const pct = (v: number | null) => (v === null ? '-' : `${v.toFixed(1)}%`);
const mib = (bytes: number | null) => (bytes === null ? '-' : `${(bytes / 1024 / 1024).toFixed(1)}MiB`);

/** Busiest first; tasks with no sample yet last. */
export function topTable(rows: readonly { task: Task; stats: TaskStatsShape }[]): Table {
  const sorted = [...rows].sort((a, b) => (b.stats.cpuUnits ?? -1) - (a.stats.cpuUnits ?? -1));
  return {
    head: ['TASK', 'GROUP', 'TASK DEFINITION', 'CPU UNITS', 'CPU %', 'MEMORY', 'MEMORY %'],
    rows: sorted.map(({ task, stats }) => [
      lastPart(task.taskArn),
      task.group ?? '',
      lastPart(task.taskDefinitionArn),
      stats.cpuUnits === null ? '-' : `${Math.round(stats.cpuUnits)}/${stats.cpu}`,
      pct(stats.cpuUtilization),
      `${mib(stats.memoryBytes)}/${stats.memory}MiB`,
      pct(stats.memoryUtilization),
    ]),
  };
}

/** The stats of every RUNNING task (of one service, if given), a few requests at a time. */
export async function readTop(api: BerthApi, cluster: string, service?: string) {
  const query = new URLSearchParams({ desiredStatus: 'RUNNING' });
  if (service) query.set('serviceName', service);
  const c = encodeURIComponent(cluster);
  const tasks = (await api.all<Task>(`/v1/clusters/${c}/tasks?${query.toString()}`, 'tasks')).filter(
    (t) => t.lastStatus === 'RUNNING',
  );
  const rows: { task: Task; stats: TaskStatsShape }[] = [];
  for (let i = 0; i < tasks.length; i += 8) {
    const batch = tasks.slice(i, i + 8);
    const stats = await Promise.all(
      batch.map((t) =>
        api.call<TaskStatsShape>(
          'GET',
          `/v1/clusters/${c}/tasks/${encodeURIComponent(lastPart(t.taskArn))}/stats`,
        ),
      ),
    );
    batch.forEach((task, j) => rows.push({ task, stats: stats[j]! }));
  }
  return rows;
}
