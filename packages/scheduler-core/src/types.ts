import type { Expression } from './expression.js';

/** A read-only view of one container instance, as the scheduler's snapshot holds it. */
export interface InstanceSnapshot {
  id: string;
  status: string;
  agentConnected: boolean;
  hostAddress: string;
  agentVersion: string | null;
  registeredCpu: number;
  registeredMemory: number;
  reservedCpu: number;
  reservedMemory: number;
  /** Static host ports already held, as `8080/tcp`. */
  reservedPorts: ReadonlySet<string>;
  attributes: Readonly<Record<string, string>>;
  /** Live tasks on the instance, by task group (`service:web`, `family:api`, ...). */
  groupCounts: ReadonlyMap<string, number>;
}

export interface HostPort {
  hostPort: number;
  protocol: 'tcp' | 'udp';
}

export type PlacementConstraint =
  { type: 'distinctInstance' } | { type: 'memberOf'; expression: Expression; source: string };

export type PlacementStrategy =
  { type: 'random' } | { type: 'binpack'; field: 'cpu' | 'memory' } | { type: 'spread'; field: string };

export interface TaskToPlace {
  id: string;
  cpu: number;
  memory: number;
  hostPorts: readonly HostPort[];
  /** Tasks of one group are what distinctInstance and spread count. */
  group: string;
  constraints: readonly PlacementConstraint[];
  strategies: readonly PlacementStrategy[];
  /**
   * The one instance the task may go on (a DAEMON service's task, StartTask): the same checks
   * apply to it alone, and the strategies have nothing to rank.
   */
  targetInstanceId?: string | null;
}

export interface Placement {
  taskId: string;
  instanceId: string;
}

export interface Unplaced {
  taskId: string;
  reason: string;
}

export interface PlacementPlan {
  placements: Placement[];
  unplaced: Unplaced[];
}

/** A uniform number in [0, 1): passed in so that plans are reproducible in tests. */
export type Random = () => number;

export const portKey = (p: HostPort) => `${p.hostPort}/${p.protocol}`;
