import {
  createTasks,
  placementInstances,
  requestTaskStop,
  viaPrisma,
  type Prisma,
  type PrismaClient,
} from '@berth/db';
import { parseConstraints, SERVICE_DEFAULT_STRATEGY, type PlacementConstraint } from '@berth/scheduler-core';
import {
  clusterPolicyRefusal,
  InvalidParameterError,
  parseStatus,
  readStoredList,
  readTaskDefinition,
  staticHostPorts,
  type DaemonInstanceView,
  type SchedulingStrategy,
  serviceEvents,
  taskHealth,
  type ServiceAction,
} from '@berth/domain';
import { parsePropagateTags, storedTags, taskTags, type Tag } from '@berth/domain';
import { daemonInstances, type DaemonInstanceRow } from './daemon-instances.js';
import { loadBalancerHealth } from './targets.repository.js';
import type { Applied, ServiceSnapshot, ServiceStore } from './stores.js';

type Tx = Prisma.TransactionClient;

/** The snapshot, plus what only applying a plan needs: placement copied onto new tasks. */
interface LockedService extends ServiceSnapshot {
  placementConstraints: unknown[];
  placementStrategy: unknown[];
}

/**
 * The controller's only door to Postgres for services. A reconcile runs inside one transaction
 * that holds the service's row lock: two controller replicas reconcile one service in turn,
 * each on fresh data, so neither can start a task the other already started.
 */
export class ServicesRepository implements ServiceStore {
  constructor(private readonly db: PrismaClient) {}

  async liveServiceIds(): Promise<string[]> {
    const rows = await this.db.service.findMany({
      where: { status: { not: 'INACTIVE' } },
      select: { id: true },
    });
    return rows.map((r) => r.id);
  }

  async applyPlan(
    serviceId: string,
    plan: (snapshot: ServiceSnapshot) => ServiceAction[],
  ): Promise<Applied | null> {
    return this.db.$transaction(
      async (tx) => {
        const locked = await tx.$queryRaw<{ id: string }[]>`
          SELECT id FROM service WHERE id = ${serviceId}::uuid AND status <> 'INACTIVE' FOR UPDATE`;
        if (locked.length === 0) return null;
        const snapshot = await this.snapshot(tx, serviceId);
        const actions = plan(snapshot);
        return actions.length === 0 ? null : this.apply(tx, snapshot, actions);
      },
      { timeout: 30_000 },
    );
  }

  private async snapshot(tx: Tx, serviceId: string): Promise<LockedService> {
    const s = await tx.service.findUniqueOrThrow({ where: { id: serviceId } });
    const deployments = await tx.deployment.findMany({ where: { serviceId }, orderBy: { createdAt: 'asc' } });
    const failed = await tx.task.groupBy({
      by: ['deploymentId'],
      where: { serviceId, failed: true },
      _count: true,
    });
    const tasks = await tx.task.findMany({
      where: { serviceId, lastStatus: { not: 'STOPPED' } },
      include: {
        containers: { select: { essential: true, hasHealthCheck: true, healthStatus: true } },
        containerInstance: { select: { status: true } },
      },
    });
    const lbHealth = await loadBalancerHealth(
      tx,
      tasks.filter((t) => t.lastStatus === 'RUNNING'),
      new Date(),
    );
    const schedulingStrategy: SchedulingStrategy = parseStatus.schedulingStrategy(s.schedulingStrategy);
    const primary = deployments.find((d) => d.status === 'PRIMARY');
    const instances =
      schedulingStrategy === 'DAEMON' && s.status === 'ACTIVE' && primary
        ? await this.daemonInstances(
            tx,
            s.clusterId,
            s.name,
            primary.taskDefinitionId,
            s.placementConstraints,
          )
        : [];
    return {
      id: s.id,
      name: s.name,
      clusterId: s.clusterId,
      placementConstraints: readStoredList(s.placementConstraints, 'service placementConstraints', s.id),
      placementStrategy: readStoredList(s.placementStrategy, 'service placementStrategy', s.id),
      spec: {
        name: s.name,
        // Locked with status <> 'INACTIVE': ACTIVE or DRAINING.
        status: parseStatus.service(s.status) === 'DRAINING' ? 'DRAINING' : 'ACTIVE',
        desiredCount: s.desiredCount,
        minimumHealthyPercent: s.minimumHealthyPercent,
        maximumPercent: s.maximumPercent,
        circuitBreaker: { enable: s.circuitBreakerEnable, rollback: s.circuitBreakerRollback },
        healthCheckGracePeriodSeconds: s.healthCheckGracePeriodSeconds,
        steady: s.steady,
        schedulingStrategy,
      },
      instances,
      deployments: deployments.map((d) => ({
        id: d.id,
        status: parseStatus.deployment(d.status),
        taskDefinitionId: d.taskDefinitionId,
        desiredCount: d.desiredCount,
        rolloutState: parseStatus.rolloutState(d.rolloutState),
        createdAt: d.createdAt,
        failedTasks: failed.find((f) => f.deploymentId === d.id)?._count ?? 0,
        rolledBackFrom: d.rolledBackFrom,
      })),
      tasks: tasks.map((t) => ({
        id: t.id,
        deploymentId: t.deploymentId,
        lastStatus: parseStatus.taskLast(t.lastStatus),
        desiredStatus: parseStatus.taskDesired(t.desiredStatus),
        healthStatus: taskHealth(t.containers),
        hasHealthCheck: t.containers.some((c) => c.essential && c.hasHealthCheck),
        startedAt: t.startedAt,
        createdAt: t.createdAt,
        onDrainingInstance: t.containerInstance?.status === 'DRAINING',
        protectedUntil: t.protectedUntil,
        instanceId: t.containerInstanceId ?? t.targetContainerInstanceId,
        ...lbHealth.get(t.id),
      })),
    };
  }

  /**
   * The cluster's ACTIVE and DRAINING instances as a DAEMON service sees them: the scheduler's
   * snapshot (reservations, static ports, attributes, tasks by group) checked against what a task
   * of the PRIMARY deployment asks, plus the non-daemon tasks a DRAINING instance still holds.
   */
  private async daemonInstances(
    tx: Tx,
    clusterId: string,
    serviceName: string,
    taskDefinitionId: string,
    serviceConstraints: unknown,
  ): Promise<DaemonInstanceView[]> {
    const td = await tx.taskDefinition.findUniqueOrThrow({ where: { id: taskDefinitionId } });
    const def = readTaskDefinition(td.definition, `${td.family}:${td.revision}`);
    let constraints: PlacementConstraint[];
    try {
      constraints = parseConstraints([
        ...(def.placementConstraints ?? []),
        ...readStoredList(serviceConstraints, 'service placementConstraints'),
      ]);
    } catch (e) {
      // Validated at create; a rule tightened since leaves the service where it is.
      if (!(e instanceof InvalidParameterError)) throw e;
      return [];
    }
    const [rows, others] = await Promise.all([
      placementInstances(viaPrisma(tx), clusterId),
      tx.$queryRaw<{ container_instance_id: string; n: number }[]>`
        SELECT t.container_instance_id, count(*)::int AS n FROM task t
          LEFT JOIN service s ON s.id = t.service_id
         WHERE t.cluster_id = ${clusterId}::uuid AND t.container_instance_id IS NOT NULL
           AND t.last_status <> 'STOPPED' AND (s.id IS NULL OR s.scheduling_strategy <> 'DAEMON')
         GROUP BY 1`,
    ]);
    const snapshot: DaemonInstanceRow[] = rows.map((i) => ({
      ...i,
      status: parseStatus.containerInstance(i.status) === 'DRAINING' ? 'DRAINING' : 'ACTIVE',
      otherLiveTasks: others.find((o) => o.container_instance_id === i.id)?.n ?? 0,
    }));
    return daemonInstances(snapshot, {
      cpu: td.cpu,
      memory: td.memory,
      hostPorts: staticHostPorts(def.containerDefinitions, def.networkMode),
      group: `service:${serviceName}`,
      constraints,
    });
  }

  private async apply(tx: Tx, snapshot: LockedService, actions: ServiceAction[]): Promise<Applied> {
    const applied: Applied = {
      clusterId: snapshot.clusterId,
      startedTaskIds: [],
      stoppedByInstance: new Map(),
    };
    const stoppedIds: string[] = [];
    const events: string[] = [];
    for (const action of actions) {
      switch (action.type) {
        case 'startTasks': {
          const deployment = await tx.deployment.findUniqueOrThrow({
            where: { id: action.deploymentId },
            include: { taskDefinition: true },
          });
          // The cluster's container policy may have changed since the service was created: a task
          // it refuses is not started. The service says why, once, and waits (the sweep looks
          // again) for a new policy or a new task definition; nothing failed, so the breaker
          // does not count it.
          const refusal = await this.policyRefusal(tx, snapshot.clusterId, deployment.taskDefinition);
          if (refusal) {
            const message = serviceEvents.unableToStart(snapshot.name, refusal);
            if ((await this.latestEvent(tx, snapshot.id)) !== message) events.push(message);
            break;
          }
          const created = await createTasks(viaPrisma(tx), {
            clusterId: snapshot.clusterId,
            taskDefinition: deployment.taskDefinition,
            count: action.count,
            startedBy: `ecs-svc/${deployment.id}`,
            group: `service:${snapshot.name}`,
            serviceId: snapshot.id,
            deploymentId: deployment.id,
            placementConstraints: snapshot.placementConstraints,
            // A DAEMON task goes on its target instance: there is nothing to rank.
            placementStrategy:
              snapshot.placementStrategy.length || action.instanceIds
                ? snapshot.placementStrategy
                : [...SERVICE_DEFAULT_STRATEGY],
            ...(action.instanceIds ? { targetInstanceIds: action.instanceIds } : {}),
            tags: await this.propagatedTags(tx, snapshot.id, deployment.taskDefinition),
            // As in ECS, a task keeps the flag its service had when the task was created.
            enableExecuteCommand: (
              await tx.service.findUniqueOrThrow({
                where: { id: snapshot.id },
                select: { enableExecuteCommand: true },
              })
            ).enableExecuteCommand,
          });
          applied.startedTaskIds.push(...created.map((t) => t.id));
          break;
        }
        case 'stopTask': {
          const changed = await requestTaskStop(tx, action.taskId, {
            stopCode: 'ServiceSchedulerInitiated',
            reason: action.reason,
            failed: action.failed,
          });
          if (!changed) break;
          stoppedIds.push(action.taskId);
          const t = await tx.task.findUniqueOrThrow({
            where: { id: action.taskId },
            select: { containerInstanceId: true, lastStatus: true },
          });
          if (t.containerInstanceId && t.lastStatus !== 'STOPPED') {
            applied.stoppedByInstance.set(t.containerInstanceId, [
              ...(applied.stoppedByInstance.get(t.containerInstanceId) ?? []),
              action.taskId,
            ]);
          }
          break;
        }
        case 'updateDeployment':
          await tx.deployment.update({
            where: { id: action.deploymentId },
            data: {
              ...(action.status ? { status: action.status } : {}),
              ...(action.rolloutState ? { rolloutState: action.rolloutState } : {}),
              ...(action.rolloutStateReason ? { rolloutStateReason: action.rolloutStateReason } : {}),
            },
          });
          break;
        case 'createDeployment': {
          await tx.deployment.updateMany({
            where: { serviceId: snapshot.id, status: 'PRIMARY' },
            data: { status: 'ACTIVE' },
          });
          const created = await tx.deployment.create({
            data: {
              serviceId: snapshot.id,
              status: 'PRIMARY',
              taskDefinitionId: action.taskDefinitionId,
              desiredCount: snapshot.spec.desiredCount,
              rolledBackFrom: action.rolledBackFrom,
              rolloutStateReason: action.rolloutStateReason,
            },
          });
          await tx.service.update({
            where: { id: snapshot.id },
            data: { taskDefinitionId: action.taskDefinitionId },
          });
          await this.restoreLoadBalancers(tx, snapshot.id, action.restores, created.id);
          break;
        }
        case 'setSteady':
          await tx.service.update({ where: { id: snapshot.id }, data: { steady: action.steady } });
          break;
        case 'setDesiredCount':
          await tx.service.update({
            where: { id: snapshot.id },
            data: { desiredCount: action.desiredCount },
          });
          await tx.deployment.updateMany({
            where: { serviceId: snapshot.id, status: 'PRIMARY' },
            data: { desiredCount: action.desiredCount },
          });
          break;
        case 'markInactive':
          await tx.service.update({
            where: { id: snapshot.id },
            data: { status: 'INACTIVE', steady: false },
          });
          await tx.deployment.updateMany({ where: { serviceId: snapshot.id }, data: { status: 'INACTIVE' } });
          break;
        case 'event':
          events.push(action.message);
          break;
      }
    }
    await this.recordEvents(tx, snapshot, applied.startedTaskIds, stoppedIds, events);
    return applied;
  }

  /**
   * A rollback's loadBalancers: those of the deployment it restores, for the new deployment and
   * for the service (which shows what it runs). An entry whose target group has since been
   * deleted is gone from the restored deployment too.
   */
  private async restoreLoadBalancers(tx: Tx, serviceId: string, from: string, to: string): Promise<void> {
    const entries = await tx.deploymentLoadBalancer.findMany({
      where: { deploymentId: from },
      select: { targetGroupId: true, containerName: true, containerPort: true },
    });
    if (entries.length)
      await tx.deploymentLoadBalancer.createMany({ data: entries.map((e) => ({ ...e, deploymentId: to })) });
    await tx.serviceLoadBalancer.deleteMany({ where: { serviceId } });
    if (entries.length)
      await tx.serviceLoadBalancer.createMany({ data: entries.map((e) => ({ ...e, serviceId })) });
  }

  private async policyRefusal(
    tx: Tx,
    clusterId: string,
    td: { family: string; revision: number; definition: unknown },
  ): Promise<string | null> {
    const cluster = await tx.cluster.findUniqueOrThrow({
      where: { id: clusterId },
      select: { name: true, containerPolicyLevel: true, allowedHostPathPrefixes: true },
    });
    const where = `${td.family}:${td.revision}`;
    return clusterPolicyRefusal(cluster, where, readTaskDefinition(td.definition, where));
  }

  /** A new task's tags: its service's or its task definition's, as the service's propagateTags says. */
  private async propagatedTags(tx: Tx, serviceId: string, td: { tags: unknown }): Promise<Tag[]> {
    const service = await tx.service.findUniqueOrThrow({
      where: { id: serviceId },
      select: { tags: true, propagateTags: true },
    });
    return taskTags(parsePropagateTags(service.propagateTags), {
      taskDefinition: storedTags(td.tags),
      service: storedTags(service.tags),
    });
  }

  private async latestEvent(tx: Tx, serviceId: string): Promise<string | undefined> {
    const latest = await tx.serviceEvent.findFirst({
      where: { serviceId },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      select: { message: true },
    });
    return latest?.message;
  }

  private async recordEvents(
    tx: Tx,
    snapshot: LockedService,
    started: string[],
    stopped: string[],
    events: string[],
  ) {
    const messages = [
      ...(stopped.length ? [serviceEvents.stopped(snapshot.name, stopped)] : []),
      ...(started.length ? [serviceEvents.started(snapshot.name, started)] : []),
      ...events,
    ];
    // Distinct timestamps keep the order of one reconcile's events when paging newest first.
    const base = Date.now();
    if (messages.length) {
      await tx.serviceEvent.createMany({
        data: messages.map((message, i) => ({
          serviceId: snapshot.id,
          message,
          createdAt: new Date(base + i),
        })),
      });
    }
  }
}
