/** The API's shapes, as far as the CLI reads them, and the pure table rows made from them. */

export interface DeploymentShape {
  id: string;
  status: string;
  taskDefinition: string;
  desiredCount: number;
  runningCount: number;
  pendingCount: number;
  failedTasks: number;
  circuitBreakerThreshold: number;
  rolloutState: string;
  rolloutStateReason?: string;
  rolledBackFrom?: string;
}

export interface ServiceEventShape {
  id: string;
  createdAt: string;
  message: string;
}

export interface ServiceShape {
  serviceName: string;
  status: string;
  taskDefinition: string;
  desiredCount: number;
  runningCount: number;
  pendingCount: number;
  deployments: DeploymentShape[];
  events: ServiceEventShape[];
}

export interface TaskShape {
  taskArn: string;
  taskDefinitionArn: string;
  containerInstanceArn?: string;
  lastStatus: string;
  desiredStatus: string;
  group?: string;
  healthStatus?: string;
  startedAt?: string;
  stoppedReason?: string;
  containers: {
    name: string;
    networkBindings?: { bindIP: string; hostPort: number; containerPort: number }[];
  }[];
}

/** The last part of an ARN: a task's id, a definition's family:revision. */
export const lastPart = (arn: string) => arn.slice(arn.lastIndexOf('/') + 1);

export interface Table {
  head: string[];
  rows: string[][];
}

export function servicesTable(services: readonly ServiceShape[]): Table {
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

export function tasksTable(tasks: readonly TaskShape[], now: Date): Table {
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
