import type { Prisma, PrismaClient } from '@berth/db';
import {
  drainEnded,
  loadBalancingEvents,
  storedHealthCheck,
  targetLeavesAtOnce,
  targetState,
  taskLoadBalancerHealth,
  taskTargets,
  type TargetState,
} from '@berth/domain';
import type { TargetStore, TargetSweep } from './stores.js';

type Tx = Prisma.TransactionClient;

/** The ids of the target groups among these that some listener sends traffic to. */
export async function usedTargetGroupIds(
  tx: Tx | PrismaClient,
  ids: readonly string[],
): Promise<Set<string>> {
  if (!ids.length) return new Set();
  const rows = await tx.$queryRaw<{ id: string }[]>`
    SELECT default_target_group_id::text AS id FROM listener WHERE default_target_group_id::text = ANY(${ids})
    UNION
    SELECT r->>'targetGroupId' FROM listener l CROSS JOIN LATERAL jsonb_array_elements(l.rules) r
    WHERE r->>'targetGroupId' = ANY(${ids})`;
  return new Set(rows.map((r) => r.id));
}

/**
 * What the service planner sees of each task's targets (taskLoadBalancerHealth): whether it
 * passes its load balancers' gate (one target per loadBalancers entry of its deployment, each
 * healthy by every load balancer's reports), and the target groups in which it is unhealthy. Only
 * tasks of deployments with loadBalancers appear in the map.
 */
export async function loadBalancerHealth(
  tx: Tx,
  tasks: readonly { id: string; deploymentId: string | null }[],
  now: Date,
): Promise<Map<string, ReturnType<typeof taskLoadBalancerHealth>>> {
  const deploymentIds = [...new Set(tasks.flatMap((t) => t.deploymentId ?? []))];
  if (deploymentIds.length === 0) return new Map();
  const entries = await tx.deploymentLoadBalancer.groupBy({
    by: ['deploymentId'],
    where: { deploymentId: { in: deploymentIds } },
    _count: true,
  });
  const expected = new Map(entries.map((e) => [e.deploymentId, e._count]));
  const bound = tasks.filter((t) => t.deploymentId && expected.has(t.deploymentId));
  if (bound.length === 0) return new Map();
  const targets = await tx.target.findMany({
    where: { taskId: { in: bound.map((t) => t.id) } },
    include: { health: true, targetGroup: { select: { name: true, healthCheck: true } } },
  });
  const used = await usedTargetGroupIds(tx, [...new Set(targets.map((t) => t.targetGroupId))]);
  const byTask = new Map<string, { targetGroup: string; state: TargetState }[]>();
  for (const t of targets) {
    const { intervalSeconds, unhealthyThresholdCount } = storedHealthCheck(t.targetGroup.healthCheck);
    const state = targetState({
      drainingSince: t.drainingSince,
      registeredAt: t.createdAt,
      groupInUse: used.has(t.targetGroupId),
      intervalSeconds,
      unhealthyThresholdCount,
      reports: t.health,
      now,
    }).state;
    byTask.set(t.taskId!, [...(byTask.get(t.taskId!) ?? []), { targetGroup: t.targetGroup.name, state }]);
  }
  return new Map(
    bound.map((t) => [t.id, taskLoadBalancerHealth(byTask.get(t.id) ?? [], expected.get(t.deploymentId!)!)]),
  );
}

/**
 * The controller's door to load-balancer targets. The sweep is level-triggered and safe on two
 * replicas: inserts skip targets that exist, deletes are guarded and counted, so each drain's end
 * is reported once.
 */
export class TargetsRepository implements TargetStore {
  constructor(private readonly db: PrismaClient) {}

  async sweep(): Promise<TargetSweep> {
    const now = new Date();
    const result: TargetSweep = { stopByInstance: new Map(), serviceIds: [] };
    const services = new Set<string>();
    const deregistered = new Deregistered();
    await this.removeDead(deregistered);
    await this.register(services);
    await this.endDrains(now, result, deregistered);
    await deregistered.write(this.db, services);
    result.serviceIds = [...services];
    return result;
  }

  /**
   * Targets that leave at once, with no drain (targetLeavesAtOnce): those of a task that stopped on
   * its own (it crashed, its instance was lost), whose essential container exited, or that was
   * asked to stop without a drain. They point at a dead port.
   */
  private async removeDead(deregistered: Deregistered): Promise<void> {
    const candidates = await this.db.target.findMany({
      where: {
        OR: [
          { task: { lastStatus: 'STOPPED' } },
          { task: { containers: { some: { essential: true, lastStatus: 'STOPPED' } } } },
          { drainingSince: null, task: { desiredStatus: 'STOPPED' } },
        ],
      },
      select: {
        id: true,
        drainingSince: true,
        targetGroup: { select: { name: true } },
        task: {
          select: {
            lastStatus: true,
            desiredStatus: true,
            serviceId: true,
            service: { select: { name: true } },
            containers: { where: { essential: true, lastStatus: 'STOPPED' }, select: { id: true } },
          },
        },
      },
    });
    for (const t of candidates) {
      const task = t.task!;
      const view = {
        lastStatus: task.lastStatus,
        desiredStatus: task.desiredStatus,
        essentialContainerStopped: task.containers.length > 0,
      };
      if (!targetLeavesAtOnce(t, view)) continue;
      const { count } = await this.db.target.deleteMany({ where: { id: t.id } });
      if (count) deregistered.add(task, t.targetGroup.name);
    }
  }

  /**
   * Targets for the RUNNING (and still wanted) service tasks whose deployment has loadBalancers
   * and that do not have them all yet.
   */
  private async register(services: Set<string>): Promise<void> {
    const tasks = await this.db.task.findMany({
      where: {
        lastStatus: 'RUNNING',
        desiredStatus: 'RUNNING',
        // One whose essential container exited is stopping: its port is dead.
        containers: { none: { essential: true, lastStatus: 'STOPPED' } },
        deployment: { loadBalancers: { some: {} } },
      },
      select: {
        id: true,
        serviceId: true,
        containers: { select: { name: true, networkBindings: true } },
        containerInstance: { select: { hostAddress: true } },
        service: { select: { name: true } },
        // Its deployment's entries: those of the service when the deployment began.
        deployment: {
          select: { loadBalancers: { include: { targetGroup: { select: { name: true } } } } },
        },
        _count: { select: { targets: true } },
      },
    });
    for (const t of tasks) {
      const bindings = t.deployment!.loadBalancers;
      if (t._count.targets >= bindings.length) continue;
      const wanted = taskTargets(bindings, t.containers, t.containerInstance?.hostAddress ?? null);
      if (!wanted.length) continue;
      await this.db.$transaction(async (tx) => {
        for (const w of wanted) {
          const { count } = await tx.target.createMany({
            data: [{ targetGroupId: w.targetGroupId, taskId: t.id, host: w.host, port: w.port }],
            skipDuplicates: true,
          });
          if (!count) continue;
          const name = bindings.find((b) => b.targetGroupId === w.targetGroupId)!.targetGroup.name;
          await tx.serviceEvent.create({
            data: {
              serviceId: t.serviceId!,
              message: loadBalancingEvents.registered(t.service!.name, 1, name),
            },
          });
        }
      });
      services.add(t.serviceId!);
    }
  }

  /** Deletes the draining targets whose drain has ended; a task left with none is told to stop. */
  private async endDrains(now: Date, result: TargetSweep, deregistered: Deregistered): Promise<void> {
    const draining = await this.db.target.findMany({
      where: { drainingSince: { not: null } },
      include: {
        health: true,
        targetGroup: { select: { name: true, healthCheck: true, deregistrationDelaySeconds: true } },
        task: { select: { serviceId: true, service: { select: { name: true } } } },
      },
    });
    const ended = draining.filter((t) =>
      drainEnded({
        drainingSince: t.drainingSince!,
        deregistrationDelaySeconds: t.targetGroup.deregistrationDelaySeconds,
        intervalSeconds: storedHealthCheck(t.targetGroup.healthCheck).intervalSeconds,
        reports: t.health,
        now,
      }),
    );
    for (const t of ended) {
      const { count } = await this.db.target.deleteMany({
        where: { id: t.id, drainingSince: { not: null } },
      });
      if (count && t.task) deregistered.add(t.task, t.targetGroup.name);
    }
    // A DEACTIVATING task with no target left may stop now: its agent is told (the gateway now
    // sends it as desired STOPPED). Level-triggered: a task whose targets went another way (its
    // target group deleted) is told too; the agent's STOPPING report ends the repeats.
    const ready = await this.db.task.findMany({
      where: { lastStatus: 'DEACTIVATING', desiredStatus: 'STOPPED', targets: { none: {} } },
      select: { id: true, containerInstanceId: true },
    });
    for (const t of ready) {
      if (!t.containerInstanceId) continue;
      result.stopByInstance.set(t.containerInstanceId, [
        ...(result.stopByInstance.get(t.containerInstanceId) ?? []),
        t.id,
      ]);
    }
  }
}

/**
 * The targets a sweep deleted, counted per service and target group for the service events
 * "deregistered N targets". Only deletes this sweep made count (guarded), so two replicas do not
 * report one target twice.
 */
class Deregistered {
  private readonly counts = new Map<
    string,
    { serviceId: string; service: string; group: string; n: number }
  >();

  add(task: { serviceId: string | null; service: { name: string } | null }, group: string): void {
    if (!task.serviceId || !task.service) return;
    const key = `${task.serviceId}/${group}`;
    const c = this.counts.get(key) ?? { serviceId: task.serviceId, service: task.service.name, group, n: 0 };
    c.n += 1;
    this.counts.set(key, c);
  }

  /** Writes the events; their services' gates may have changed. */
  async write(db: PrismaClient, services: Set<string>): Promise<void> {
    if (!this.counts.size) return;
    await db.serviceEvent.createMany({
      data: [...this.counts.values()].map((c) => ({
        serviceId: c.serviceId,
        message: loadBalancingEvents.deregistered(c.service, c.n, c.group),
      })),
    });
    for (const c of this.counts.values()) services.add(c.serviceId);
  }
}
