/** The pure table rows made from the API's answers. */
import type { Service, Task } from '@berth/api-client';

/** The last part of an ARN: a task's id, a definition's family:revision. */
export const lastPart = (arn: string) => arn.slice(arn.lastIndexOf('/') + 1);

export interface Table {
  head: string[];
  rows: string[][];
}

export function servicesTable(services: readonly Service[]): Table {
  return {
    head: ['SERVICE', 'STATUS', 'DESIRED', 'RUNNING', 'PENDING', 'TASK DEFINITION', 'ROLLOUT'],
    rows: services.map((s) => {
      const primary = s.deployments.find((d) => d.status === 'PRIMARY');
      const rollout = primary
        ? `${primary.rolloutState}${s.deployments.length > 1 ? ` (${s.deployments.length} deployments)` : ''}`
        : '';
      return [
        s.serviceName,
        s.status,
        String(s.desiredCount),
        String(s.runningCount),
        String(s.pendingCount),
        lastPart(s.taskDefinition),
        rollout,
      ];
    }),
  };
}

export function tasksTable(tasks: readonly Task[], now: Date): Table {
  return {
    head: ['TASK', 'GROUP', 'LAST', 'DESIRED', 'HEALTH', 'TASK DEFINITION', 'PORTS', 'AGE'],
    rows: tasks.map((t) => [
      lastPart(t.taskArn),
      t.group ?? '',
      t.lastStatus,
      t.desiredStatus,
      t.healthStatus ?? '',
      lastPart(t.taskDefinitionArn),
      t.containers
        .flatMap((c) => (c.networkBindings ?? []).map((b) => `${b.bindIP}:${b.hostPort}->${b.containerPort}`))
        .join(' '),
      t.startedAt ? age(new Date(t.startedAt), now) : '',
    ]),
  };
}

/** A duration the way `docker ps` shows one: 45s, 12m, 3h, 2d. */
export function age(since: Date, now: Date): string {
  const s = Math.max(0, Math.floor((now.getTime() - since.getTime()) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172_800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}
