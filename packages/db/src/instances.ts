import { instanceAttributes } from '@berth/domain';
import { Prisma, type ContainerInstanceModel, type Db } from './client.js';

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
export function placementInstances(db: Db, clusterId: string): Promise<PlacementInstance[]> {
  return snapshots(
    db,
    db.containerInstance.findMany({ where: { clusterId, status: { in: ['ACTIVE', 'DRAINING'] } } }),
    { containerInstance: { clusterId } },
    Prisma.sql`cluster_id = ${clusterId}::uuid AND container_instance_id IS NOT NULL`,
  );
}

/**
 * Locks these instances' rows in id order, so that concurrent placement commits queue instead of
 * deadlocking. What a commit then reads of them (placementInstancesOf) cannot change under it.
 */
export async function lockInstances(db: Db, ids: readonly string[]): Promise<void> {
  await db.$queryRaw`
    SELECT id FROM container_instance WHERE id = ANY(${[...ids].sort()}::uuid[]) ORDER BY id FOR UPDATE`;
}

/** The same view as placementInstances, of some instances, leaving out the tasks in `excluding`. */
export function placementInstancesOf(
  db: Db,
  ids: readonly string[],
  excluding: readonly string[],
): Promise<PlacementInstance[]> {
  return snapshots(
    db,
    db.containerInstance.findMany({ where: { id: { in: [...ids] } } }),
    { containerInstanceId: { in: [...ids] } },
    Prisma.sql`container_instance_id = ANY(${[...ids]}::uuid[]) AND NOT (id = ANY(${[...excluding]}::uuid[]))`,
  );
}

async function snapshots(
  db: Db,
  instances: Promise<ContainerInstanceModel[]>,
  portsWhere: Prisma.PortReservationWhereInput,
  tasksWhere: Prisma.Sql,
): Promise<PlacementInstance[]> {
  const [rows, ports, groups] = await Promise.all([
    instances,
    db.portReservation.findMany({
      where: portsWhere,
      select: { containerInstanceId: true, hostPort: true, protocol: true },
    }),
    db.$queryRaw<{ container_instance_id: string; group: string | null; n: number }[]>`
      SELECT container_instance_id, "group", count(*)::int AS n FROM task
       WHERE ${tasksWhere} AND last_status <> 'STOPPED'
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
