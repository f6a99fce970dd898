import {
  lockInstances,
  placementInstances,
  placementInstancesOf,
  sqlOf,
  statement,
  TASK_DEFINITIONS_BY_ID,
  type PrismaClient,
  type Sql,
  type TaskDefinitionModel,
} from '@berth/db';
import {
  InvalidParameterError,
  readStoredList,
  readTaskDefinition,
  serviceEvents,
  staticHostPorts,
} from '@berth/domain';
import {
  admitPlan,
  parseConstraints,
  parseStrategies,
  RUN_TASK_DEFAULT_STRATEGY,
  taskIdRange,
  type InstanceSnapshot,
  type Partition,
  type PlacementConstraint,
  type PlacementStrategy,
  type TaskToPlace,
} from '@berth/scheduler-core';

export type WaitingTask = TaskToPlace & {
  provisioningReason: string | null;
  serviceId: string | null;
  /** Why its stored constraints or strategy no longer parse (a rule tightened since it was created). */
  invalidSpec?: string;
};

type WaitingRow = {
  id: string;
  cpu: number;
  memory: number;
  group: string | null;
  provisioningReason: string | null;
  serviceId: string | null;
  placementConstraints: unknown;
  placementStrategy: unknown;
  taskDefinitionId: string;
  targetContainerInstanceId: string | null;
};

const WAITING_TASKS = statement(
  'waiting_tasks',
  `SELECT id, cpu, memory, "group", provisioning_reason AS "provisioningReason", service_id AS "serviceId",
          placement_constraints AS "placementConstraints", placement_strategy AS "placementStrategy",
          task_definition_id AS "taskDefinitionId", target_container_instance_id AS "targetContainerInstanceId"
     FROM task WHERE cluster_id = $1::uuid AND last_status = 'PROVISIONING' AND desired_status = 'RUNNING'
      AND ($3::uuid IS NULL OR id >= $3::uuid) AND ($4::uuid IS NULL OR id < $4::uuid)
    ORDER BY created_at LIMIT $2`,
);
/** Claims the tasks that still wait, with how long each waited. */
const CLAIM = statement(
  'placement_claim',
  `UPDATE task SET last_status = 'PENDING', container_instance_id = v.instance_id, holds_reservation = true,
                   provisioning_reason = NULL, placed_at = clock_timestamp(), updated_at = now()
     FROM (SELECT unnest($1::uuid[]) AS id, unnest($2::uuid[]) AS instance_id) v
    WHERE task.id = v.id AND task.last_status = 'PROVISIONING' AND task.desired_status = 'RUNNING'
      AND task.container_instance_id IS NULL
   RETURNING task.id, extract(epoch FROM task.placed_at - task.created_at)::float8 AS waited`,
);
const GIVE_BACK = statement(
  'placement_give_back',
  `UPDATE task SET last_status = 'PROVISIONING', container_instance_id = NULL, holds_reservation = false,
                   placed_at = NULL, updated_at = now()
    WHERE id = ANY($1::uuid[])`,
);
const RESERVE = statement(
  'placement_reserve',
  `UPDATE container_instance ci
      SET reserved_cpu = ci.reserved_cpu + v.cpu, reserved_memory = ci.reserved_memory + v.memory, updated_at = now()
     FROM (SELECT unnest($1::uuid[]) AS id, unnest($2::int[]) AS cpu, unnest($3::int[]) AS memory) v
    WHERE ci.id = v.id`,
);
const RESERVE_PORTS = statement(
  'placement_reserve_ports',
  `INSERT INTO port_reservation (container_instance_id, host_port, protocol, task_id)
   SELECT * FROM unnest($1::uuid[], $2::int[], $3::text[], $4::uuid[])`,
);

type Spec = { constraints: PlacementConstraint[]; strategies: PlacementStrategy[]; invalid?: string };

export interface CommitResult {
  /** Task ids now PENDING, by the instance that got them. */
  placed: Map<string, string[]>;
  /** Tasks that no longer wait (stopped, or placed by another scheduler meanwhile). */
  gone: number;
  /** Tasks whose instance changed since the snapshot (room taken, port taken, agent gone): re-plan. */
  conflicts: number;
  /** How long each placed task waited, from its creation to this commit, in seconds. */
  waitedSeconds: number[];
}

/**
 * The scheduler's only door to Postgres: a snapshot to plan on, and a commit that applies a whole
 * plan in one transaction with set-based statements. The commit re-checks every instance under its
 * row lock, so a stale plan can lose tasks to a re-plan but can never overcommit; the CHECK
 * constraints and the port_reservation key are the backstop.
 */
export class PlacementRepository {
  /** Parsed placement specs by their JSON text: a cluster's tasks share a handful of them. */
  private readonly parsed = new Map<string, Spec>();

  /** The snapshot reads and the commit run as plain SQL on Prisma's pool (see @berth/db's sql.ts). */
  private readonly sql: Sql;

  constructor(private readonly db: PrismaClient) {
    this.sql = sqlOf(db);
  }

  /** How many tasks wait for placement in every cluster. */
  async countWaiting(): Promise<number> {
    return this.db.task.count({ where: { lastStatus: 'PROVISIONING', desiredStatus: 'RUNNING' } });
  }

  async clustersWithWaitingTasks(): Promise<string[]> {
    const rows = await this.db.task.findMany({
      where: { lastStatus: 'PROVISIONING', desiredStatus: 'RUNNING' },
      distinct: ['clusterId'],
      select: { clusterId: true },
    });
    return rows.map((r) => r.clusterId);
  }

  /** How many tasks wait in one cluster. */
  async countWaitingIn(clusterId: string): Promise<number> {
    return this.db.task.count({ where: { clusterId, lastStatus: 'PROVISIONING', desiredStatus: 'RUNNING' } });
  }

  async waitingTasks(clusterId: string, limit: number, partition?: Partition): Promise<WaitingTask[]> {
    const range = partition ? taskIdRange(partition) : {};
    const tasks = await this.sql.rows<WaitingRow>(WAITING_TASKS, [
      clusterId,
      limit,
      range.gte ?? null,
      range.lt ?? null,
    ]);
    const definitionIds = [...new Set(tasks.map((t) => t.taskDefinitionId))];
    const definitions = definitionIds.length
      ? await this.sql.rows<TaskDefinitionModel>(TASK_DEFINITIONS_BY_ID, [definitionIds])
      : [];
    const byDefinition = new Map(
      definitions.map((d) => {
        const def = readTaskDefinition(d.definition, d.id);
        return [
          d.id,
          {
            hostPorts: staticHostPorts(def.containerDefinitions, def.networkMode),
            constraints: def.placementConstraints ?? [],
          },
        ];
      }),
    );
    return tasks.map((t) => {
      const def = byDefinition.get(t.taskDefinitionId)!;
      const spec = this.spec(
        [...def.constraints, ...readStoredList(t.placementConstraints, 'task placementConstraints', t.id)],
        t.placementStrategy,
      );
      return {
        id: t.id,
        cpu: t.cpu,
        memory: t.memory,
        hostPorts: def.hostPorts,
        group: t.group ?? 'default',
        constraints: spec.constraints,
        strategies: spec.strategies,
        provisioningReason: t.provisioningReason,
        serviceId: t.serviceId,
        targetInstanceId: t.targetContainerInstanceId,
        ...(spec.invalid !== undefined && { invalidSpec: spec.invalid }),
      };
    });
  }

  private spec(constraints: unknown[], strategy: unknown): Spec {
    const key = JSON.stringify([constraints, strategy]);
    let spec = this.parsed.get(key);
    if (!spec) {
      // Validated when the task was created; parsing again only turns JSON into the core's form.
      // A spec stored before a rule tightened (say, a regular expression RE2 refuses) keeps its
      // task waiting with the reason, rather than failing the whole cluster's pass.
      try {
        spec = {
          constraints: parseConstraints(constraints),
          strategies: parseStrategies(strategy) ?? [...RUN_TASK_DEFAULT_STRATEGY],
        };
      } catch (e) {
        if (!(e instanceof InvalidParameterError)) throw e;
        spec = { constraints: [], strategies: [], invalid: e.message };
      }
      if (spec.strategies.length === 0) spec.strategies = [...RUN_TASK_DEFAULT_STRATEGY];
      if (this.parsed.size > 1000) this.parsed.clear();
      this.parsed.set(key, spec);
    }
    return spec;
  }

  /** The cluster's ACTIVE and DRAINING instances, as placement sees them. */
  instances(clusterId: string): Promise<InstanceSnapshot[]> {
    return placementInstances(this.sql, clusterId);
  }

  /**
   * Applies a plan in one transaction: lock the instances in id order (so concurrent schedulers
   * queue instead of deadlocking), claim the tasks that still wait, keep only what passes the
   * planning's own feasibility checks against the locked instances, give the rest back, then
   * reserve in bulk.
   */
  async commit(plan: { task: TaskToPlace; instanceId: string }[]): Promise<CommitResult> {
    const result: CommitResult = { placed: new Map(), gone: 0, conflicts: 0, waitedSeconds: [] };
    if (plan.length === 0) return result;
    const instanceIds = [...new Set(plan.map((p) => p.instanceId))].sort();
    const byTask = new Map(plan.map((p) => [p.task.id, p]));

    await this.sql.transaction(
      async (tx) => {
        await lockInstances(tx, instanceIds);
        const claimed = await tx.rows<{ id: string; waited: number }>(CLAIM, [
          plan.map((p) => p.task.id),
          plan.map((p) => p.instanceId),
        ]);
        const waited = new Map(claimed.map((c) => [c.id, c.waited]));
        result.gone = plan.length - claimed.length;
        const claimedIds = claimed.map((c) => c.id);
        const instances = await placementInstancesOf(tx, instanceIds, claimedIds);
        // The same fit rule as planning, on what is there now: another scheduler may have taken
        // room, ports or a distinctInstance slot since our snapshot (it held these locks, and has
        // committed), and the instance may have been drained or lost its agent.
        const { admitted: keep, rejected } = admitPlan(
          instances,
          claimedIds.map((id) => byTask.get(id)!),
        );
        const giveBack = rejected.map((p) => p.task.id);
        result.conflicts = giveBack.length;
        if (giveBack.length) await tx.rows(GIVE_BACK, [giveBack]);
        const grow = new Map<string, { cpu: number; memory: number }>();
        for (const p of keep) {
          const g = grow.get(p.instanceId) ?? { cpu: 0, memory: 0 };
          g.cpu += p.task.cpu;
          g.memory += p.task.memory;
          grow.set(p.instanceId, g);
        }
        if (grow.size) {
          await tx.rows(RESERVE, [
            [...grow.keys()],
            [...grow.values()].map((g) => g.cpu),
            [...grow.values()].map((g) => g.memory),
          ]);
        }
        const ports = keep.flatMap((p) =>
          p.task.hostPorts.map((hp) => ({
            containerInstanceId: p.instanceId,
            hostPort: hp.hostPort,
            protocol: hp.protocol,
            taskId: p.task.id,
          })),
        );
        if (ports.length) {
          await tx.rows(RESERVE_PORTS, [
            ports.map((p) => p.containerInstanceId),
            ports.map((p) => p.hostPort),
            ports.map((p) => p.protocol),
            ports.map((p) => p.taskId),
          ]);
        }
        result.waitedSeconds = keep.map((p) => waited.get(p.task.id)!);
        for (const p of keep)
          result.placed.set(p.instanceId, [...(result.placed.get(p.instanceId) ?? []), p.task.id]);
      },
      // A large plan waits on many instances' locks: the limit it had as a Prisma transaction.
      { timeoutMs: 60_000 },
    );
    return result;
  }

  /** Records why tasks wait; a service's task also leaves a service event, once per new reason. */
  async recordUnplaced(unplaced: { task: WaitingTask; reason: string }[]): Promise<void> {
    const changed = unplaced.filter((u) => u.task.provisioningReason !== u.reason);
    if (changed.length === 0) return;
    await this.db.$transaction(async (tx) => {
      await tx.$executeRaw`
        UPDATE task SET provisioning_reason = v.reason
          FROM (SELECT unnest(${changed.map((u) => u.task.id)}::uuid[]) AS id,
                       unnest(${changed.map((u) => u.reason)}::text[]) AS reason) v
         WHERE task.id = v.id AND task.last_status = 'PROVISIONING'`;
      const perService = new Map<string, string>();
      for (const u of changed) if (u.task.serviceId) perService.set(u.task.serviceId, u.reason);
      if (perService.size === 0) return;
      const services = await tx.service.findMany({
        where: { id: { in: [...perService.keys()] } },
        select: { id: true, name: true },
      });
      await tx.serviceEvent.createMany({
        data: services.map((s) => ({
          serviceId: s.id,
          message: serviceEvents.unableToPlace(s.name, perService.get(s.id)!),
        })),
      });
    });
  }
}
