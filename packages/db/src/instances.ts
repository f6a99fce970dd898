import { instanceAttributes } from '@berth/domain';
import type { Db } from './client.js';

/**
 * A container instance as placement sees it: the scheduler's snapshot, and a DAEMON service's view
 * of its cluster (the deployment-controller). Structurally the scheduler core's InstanceSnapshot.
 */
export interface PlacementInstance {
  id: string;
  /** ACTIVE or DRAINING. */
  status: string;
  agentConnected: boolean;
  hostAddress: string;
  agentVersion: string | null;
  registeredCpu: number;
  registeredMemory: number;
  reservedCpu: number;
  reservedMemory: number;
  /** Static host ports already held, as `8080/tcp`. */
  reservedPorts: Set<string>;
  attributes: Record<string, string>;
  /** Live tasks on the instance, by task group (`service:web`, `family:api`, ...). */
  groupCounts: Map<string, number>;
}

/**
 * The cluster's ACTIVE and DRAINING instances with what placement checks against: their
 * reservations, the static ports held there, their attributes, and their live tasks by group.
 * Three reads, whatever the number of instances.
 */
export async function placementInstances(db: Db, clusterId: string): Promise<PlacementInstance[]> {
  const [rows, ports, groups] = await Promise.all([
    db.containerInstance.findMany({ where: { clusterId, status: { in: ['ACTIVE', 'DRAINING'] } } }),
    db.portReservation.findMany({
      where: { containerInstance: { clusterId } },
      select: { containerInstanceId: true, hostPort: true, protocol: true },
    }),
    db.$queryRaw<{ container_instance_id: string; group: string | null; n: number }[]>`
      SELECT container_instance_id, "group", count(*)::int AS n FROM task
       WHERE cluster_id = ${clusterId}::uuid AND container_instance_id IS NOT NULL AND last_status <> 'STOPPED'
       GROUP BY 1, 2`,
  ]);
  const portsOf = new Map<string, Set<string>>();
  for (const p of ports) {
    const set = portsOf.get(p.containerInstanceId) ?? new Set<string>();
    set.add(`${p.hostPort}/${p.protocol}`);
    portsOf.set(p.containerInstanceId, set);
  }
  const groupsOf = new Map<string, Map<string, number>>();
  for (const g of groups) {
    const map = groupsOf.get(g.container_instance_id) ?? new Map<string, number>();
    map.set(g.group ?? 'default', g.n);
    groupsOf.set(g.container_instance_id, map);
  }
  return rows.map((i) => ({
    id: i.id,
    status: i.status,
    agentConnected: i.agentConnected,
    hostAddress: i.hostAddress,
    agentVersion: i.agentVersion,
    registeredCpu: i.registeredCpu,
    registeredMemory: i.registeredMemory,
    reservedCpu: i.reservedCpu,
    reservedMemory: i.reservedMemory,
    reservedPorts: portsOf.get(i.id) ?? new Set(),
    attributes: instanceAttributes(i),
    groupCounts: groupsOf.get(i.id) ?? new Map(),
  }));
}
