/** A read-only view of one container instance, as the scheduler's snapshot holds it. */
export interface InstanceSnapshot {
  id: string;
  status: string;
  agentConnected: boolean;
  registeredCpu: number;
  registeredMemory: number;
  reservedCpu: number;
  reservedMemory: number;
  /** Static host ports already held, as `8080/tcp`. */
  reservedPorts: ReadonlySet<string>;
  attributes: Readonly<Record<string, string>>;
}

export interface HostPort {
  hostPort: number;
  protocol: 'tcp' | 'udp';
}

export interface TaskToPlace {
  id: string;
  cpu: number;
  memory: number;
  hostPorts: readonly HostPort[];
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
