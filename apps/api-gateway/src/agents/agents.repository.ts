import { Inject, Injectable } from '@nestjs/common';
import { Prisma, releaseTaskReservation, type ContainerInstanceModel } from '@berth/db';
import {
  isContainerStatusAdvance,
  isTaskStatusAdvance,
  type ContainerLastStatus,
  type TaskLastStatus,
} from '@berth/domain';
import type { Register, TaskStateReport } from '@berth/proto';
import { PRISMA, type PrismaClient } from '../infra/providers.js';
import { ClustersRepository } from '../clusters/clusters.repository.js';
import {
  bindingsFromProto,
  containerStatusFromProto,
  healthFromProto,
  taskStatusFromProto,
  type TaskForAgent,
} from './protocol.js';

export type RegisterOutcome =
  { ok: true; instance: ContainerInstanceModel; clusterName: string } | { ok: false; reason: string };

export interface ReportOutcome {
  taskId: string;
  clusterId: string;
  changed: boolean;
  stopped: boolean;
}

const INCLUDE_FOR_AGENT = { taskDefinition: true, cluster: { select: { name: true } } } as const;

/** Everything the gateway writes on behalf of agents: registration, liveness and observed state. */
@Injectable()
export class AgentsRepository {
  constructor(
    @Inject(PRISMA) private readonly db: PrismaClient,
    private readonly clusters: ClustersRepository,
  ) {}

  async register(reg: Register, sessionId: string): Promise<RegisterOutcome> {
    let cluster = await this.db.cluster.findUnique({ where: { name: reg.cluster } });
    // ECS creates the default cluster for an agent that joins it; any other must exist.
    if (!cluster && reg.cluster === 'default') cluster = await this.clusters.create('default');
    if (!cluster) return { ok: false, reason: `cluster ${reg.cluster} does not exist` };
    const existing = await this.db.containerInstance.findUnique({ where: { id: reg.containerInstanceId } });
    if (existing && existing.clusterId !== cluster.id) {
      return { ok: false, reason: `container instance ${existing.id} is registered in another cluster` };
    }
    if (existing?.status === 'INACTIVE') {
      return {
        ok: false,
        reason: `container instance ${existing.id} was deregistered; start the agent with a new instance id`,
      };
    }
    const facts = {
      hostAddress: reg.hostAddress,
      registeredCpu: reg.resources?.cpu ?? 0,
      registeredMemory: reg.resources?.memory ?? 0,
      attributes: reg.attributes as Prisma.InputJsonValue,
      agentVersion: reg.agentVersion,
      agentConnected: true,
      agentSessionId: sessionId,
      lastHeartbeatAt: new Date(),
    };
    try {
      const instance = await this.db.containerInstance.upsert({
        where: { id: reg.containerInstanceId },
        create: { id: reg.containerInstanceId, clusterId: cluster.id, ...facts },
        update: facts,
      });
      return { ok: true, instance, clusterName: cluster.name };
    } catch (error) {
      if (error instanceof Prisma.PrismaClientKnownRequestError && /check constraint/i.test(error.message)) {
        return {
          ok: false,
          reason: 'registered CPU or memory is less than what running tasks already reserve',
        };
      }
      throw error;
    }
  }

  async heartbeat(instanceId: string, sessionId: string): Promise<void> {
    await this.db.containerInstance.updateMany({
      where: { id: instanceId, agentSessionId: sessionId },
      data: { lastHeartbeatAt: new Date(), agentConnected: true },
    });
  }

  /** Only the session that still owns the instance may mark it disconnected. */
  async disconnect(instanceId: string, sessionId: string): Promise<void> {
    await this.db.containerInstance.updateMany({
      where: { id: instanceId, agentSessionId: sessionId },
      data: { agentConnected: false },
    });
  }

  /** What should exist on the instance: every task placed there that has not yet STOPPED. */
  async desiredTasks(instanceId: string): Promise<TaskForAgent[]> {
    return this.db.task.findMany({
      where: { containerInstanceId: instanceId, lastStatus: { not: 'STOPPED' } },
      include: INCLUDE_FOR_AGENT,
    });
  }

  async tasksOnInstance(instanceId: string, taskIds: string[]): Promise<TaskForAgent[]> {
    return this.db.task.findMany({
      where: { id: { in: taskIds }, containerInstanceId: instanceId },
      include: INCLUDE_FOR_AGENT,
    });
  }

  /**
   * Writes what an agent observed. Observed state only moves forward: a report older than what
   * is stored changes nothing, so reports may repeat or arrive twice. A task reaching STOPPED
   * gives back its reservation in the same transaction.
   */
  async applyTaskReport(instanceId: string, report: TaskStateReport): Promise<ReportOutcome | null> {
    return this.db.$transaction(async (tx) => {
      // The row lock orders this report against a concurrent stop or a report from another stream.
      const locked = await tx.$queryRaw<{ id: string }[]>`
        SELECT id FROM task WHERE id = ${report.taskId}::uuid AND container_instance_id = ${instanceId}::uuid FOR UPDATE`;
      if (locked.length === 0) return null;
      const task = await tx.task.findUniqueOrThrow({
        where: { id: report.taskId },
        include: { containers: true },
      });
      let changed = false;

      for (const c of report.containers) {
        const stored = task.containers.find((x) => x.name === c.name);
        const status = containerStatusFromProto(c.status);
        if (!stored || !status) continue;
        const from = stored.lastStatus as ContainerLastStatus;
        if (from !== status && !isContainerStatusAdvance(from, status)) continue;
        if (from === 'STOPPED') continue;
        const bindings = bindingsFromProto(c);
        // Health may go either way (HEALTHY, then UNHEALTHY); it is only ever what Docker said last.
        const health =
          status === 'RUNNING'
            ? (healthFromProto(c.healthStatus) ?? stored.healthStatus)
            : stored.healthStatus;
        const data = {
          lastStatus: status,
          healthStatus: health,
          runtimeId: c.runtimeId || stored.runtimeId,
          exitCode: c.exitCode ?? stored.exitCode,
          reason: c.reason || stored.reason,
          networkBindings: (bindings.length ? bindings : stored.networkBindings) as Prisma.InputJsonValue,
        };
        if (
          data.lastStatus !== stored.lastStatus ||
          data.healthStatus !== stored.healthStatus ||
          data.runtimeId !== stored.runtimeId ||
          data.exitCode !== stored.exitCode ||
          data.reason !== stored.reason ||
          JSON.stringify(data.networkBindings) !== JSON.stringify(stored.networkBindings)
        ) {
          await tx.taskContainer.update({ where: { id: stored.id }, data });
          changed = true;
        }
      }

      const to = taskStatusFromProto(report.status);
      const from = task.lastStatus as TaskLastStatus;
      let stopped = false;
      if (to && isTaskStatusAdvance(from, to)) {
        const now = new Date();
        await tx.task.update({
          where: { id: task.id },
          data: {
            lastStatus: to,
            ...(report.pullStartedAtMs ? { pullStartedAt: new Date(report.pullStartedAtMs) } : {}),
            ...(report.pullStoppedAtMs ? { pullStoppedAt: new Date(report.pullStoppedAtMs) } : {}),
            ...(to === 'RUNNING' ? { startedAt: task.startedAt ?? now } : {}),
            ...(to === 'STOPPING' || to === 'STOPPED' ? { stoppingAt: task.stoppingAt ?? now } : {}),
            ...(to === 'STOPPED' ? { stoppedAt: now } : {}),
            ...(to === 'STOPPED' && !task.stoppedReason && report.reason
              ? { stoppedReason: report.reason }
              : {}),
          },
        });
        if (to === 'STOPPED') {
          // Containers the agent never got to are stopped too, as far as anyone will ever see.
          await tx.taskContainer.updateMany({ where: { taskId: task.id }, data: { lastStatus: 'STOPPED' } });
          await releaseTaskReservation(tx, task.id);
          stopped = true;
        }
        changed = true;
      }
      return { taskId: task.id, clusterId: task.clusterId, changed, stopped };
    });
  }
}
