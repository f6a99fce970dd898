import { instanceAttributes } from '@berth/domain';
import { statement, type SqlExecutor } from './sql.js';

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

/** An instance with its static ports and live tasks by group, aggregated in the same statement. */
const SNAPSHOT = (excluding: string) => `SELECT ci.id, ci.status, ci.agent_connected AS "agentConnected",
    ci.host_address AS "hostAddress", ci.agent_version AS "agentVersion",
    ci.registered_cpu AS "registeredCpu", ci.registered_memory AS "registeredMemory",
    ci.reserved_cpu AS "reservedCpu", ci.reserved_memory AS "reservedMemory",
    ci.attributes, ci.api_attributes AS "apiAttributes",
    ARRAY(SELECT pr.host_port || '/' || pr.protocol FROM port_reservation pr
           WHERE pr.container_instance_id = ci.id) AS ports,
    (SELECT coalesce(json_object_agg(g.name, g.n), '{}') FROM (
       SELECT coalesce(t."group", 'default') AS name, count(*)::int AS n FROM task t
        WHERE t.container_instance_id = ci.id AND t.last_status <> 'STOPPED'${excluding}
        GROUP BY 1) g) AS groups
  FROM container_instance ci`;

const OF_CLUSTER = statement(
  'placement_instances_of_cluster',
  `${SNAPSHOT('')} WHERE ci.cluster_id = $1::uuid AND ci.status IN ('ACTIVE', 'DRAINING')`,
);
const BY_ID = statement(
  'placement_instances_by_id',
  `${SNAPSHOT(' AND NOT (t.id = ANY($2::uuid[]))')} WHERE ci.id = ANY($1::uuid[])`,
);
const LOCK = statement(
  'lock_instances',
  'SELECT id FROM container_instance WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE',
);

type SnapshotRow = Omit<PlacementInstance, 'reservedPorts' | 'attributes' | 'groupCounts'> & {
  attributes: unknown;
  apiAttributes: unknown;
  ports: string[];
  groups: Record<string, number>;
};

/**
 * The cluster's ACTIVE and DRAINING instances with what placement checks against: their
 * reservations, the static ports held there, their attributes, and their live tasks by group.
 * One statement, whatever the number of instances.
 */
export async function placementInstances(db: SqlExecutor, clusterId: string): Promise<PlacementInstance[]> {
  return (await db.rows<SnapshotRow>(OF_CLUSTER, [clusterId])).map(snapshot);
}

/**
 * Locks these instances' rows in id order, so that concurrent placement commits queue instead of
 * deadlocking. What a commit then reads of them (placementInstancesOf) cannot change under it.
 */
export async function lockInstances(db: SqlExecutor, ids: readonly string[]): Promise<void> {
  await db.rows(LOCK, [[...ids].sort()]);
}

/** The same view as placementInstances, of some instances, leaving out the tasks in `excluding`. */
export async function placementInstancesOf(
  db: SqlExecutor,
  ids: readonly string[],
  excluding: readonly string[],
): Promise<PlacementInstance[]> {
  return (await db.rows<SnapshotRow>(BY_ID, [ids, excluding])).map(snapshot);
}

function snapshot(row: SnapshotRow): PlacementInstance {
  const { attributes, apiAttributes, ports, groups, ...i } = row;
  return {
    ...i,
    reservedPorts: new Set(ports),
    attributes: instanceAttributes({ id: i.id, attributes, apiAttributes }),
    groupCounts: new Map(Object.entries(groups)),
  };
}
