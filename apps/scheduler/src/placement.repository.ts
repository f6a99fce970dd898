import { lockInstances, placementInstances, placementInstancesOf, type PrismaClient } from '@berth/db';
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

  constructor(private readonly db: PrismaClient) {}

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
    const tasks = await this.db.task.findMany({
      where: {
        clusterId,
        lastStatus: 'PROVISIONING',
        desiredStatus: 'RUNNING',
        ...(partition ? { id: taskIdRange(partition) } : {}),
      },
      select: {
        id: true,
        cpu: true,
        memory: true,
        group: true,
        provisioningReason: true,
        serviceId: true,
        placementConstraints: true,
        placementStrategy: true,
        taskDefinitionId: true,
        targetContainerInstanceId: true,
      },
      orderBy: { createdAt: 'asc' },
      take: limit,
    });
    const definitionIds = [...new Set(tasks.map((t) => t.taskDefinitionId))];
    const definitions = await this.db.taskDefinition.findMany({
      where: { id: { in: definitionIds } },
      select: { id: true, definition: true },
    });
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
    return placementInstances(this.db, clusterId);
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

    await this.db.$transaction(
      async (tx) => {
        await lockInstances(tx, instanceIds);
        const claimed = await tx.$queryRaw<{ id: string; waited: number }[]>`
          UPDATE task SET last_status = 'PENDING', container_instance_id = v.instance_id, holds_reservation = true,
                          provisioning_reason = NULL, placed_at = clock_timestamp(), updated_at = now()
            FROM (SELECT unnest(${plan.map((p) => p.task.id)}::uuid[]) AS id,
                         unnest(${plan.map((p) => p.instanceId)}::uuid[]) AS instance_id) v
           WHERE task.id = v.id AND task.last_status = 'PROVISIONING' AND task.desired_status = 'RUNNING'
             AND task.container_instance_id IS NULL
          RETURNING task.id, extract(epoch FROM task.placed_at - task.created_at)::float8 AS waited`;
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
        if (giveBack.length) {
          await tx.$executeRaw`
            UPDATE task SET last_status = 'PROVISIONING', container_instance_id = NULL, holds_reservation = false,
                            placed_at = NULL, updated_at = now()
             WHERE id = ANY(${giveBack}::uuid[])`;
        }
        const grow = new Map<string, { cpu: number; memory: number }>();
        for (const p of keep) {
          const g = grow.get(p.instanceId) ?? { cpu: 0, memory: 0 };
          g.cpu += p.task.cpu;
          g.memory += p.task.memory;
          grow.set(p.instanceId, g);
        }
        if (grow.size) {
          await tx.$executeRaw`
            UPDATE container_instance ci
               SET reserved_cpu = ci.reserved_cpu + v.cpu, reserved_memory = ci.reserved_memory + v.memory, updated_at = now()
              FROM (SELECT unnest(${[...grow.keys()]}::uuid[]) AS id,
                           unnest(${[...grow.values()].map((g) => g.cpu)}::int[]) AS cpu,
                           unnest(${[...grow.values()].map((g) => g.memory)}::int[]) AS memory) v
             WHERE ci.id = v.id`;
        }
        const ports = keep.flatMap((p) =>
          p.task.hostPorts.map((hp) => ({
            containerInstanceId: p.instanceId,
            hostPort: hp.hostPort,
            protocol: hp.protocol,
            taskId: p.task.id,
          })),
        );
        if (ports.length) await tx.portReservation.createMany({ data: ports });
        result.waitedSeconds = keep.map((p) => waited.get(p.task.id)!);
        for (const p of keep)
          result.placed.set(p.instanceId, [...(result.placed.get(p.instanceId) ?? []), p.task.id]);
      },
      { timeout: 60_000 },
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
