import { isUniqueViolation, reserveOnInstance, type PrismaClient } from '@berth/db';
import { serviceEvents, staticHostPorts, type ContainerDefinition } from '@berth/domain';
import type { InstanceSnapshot, TaskToPlace } from '@berth/scheduler-core';

/** The scheduler's only door to Postgres: read a snapshot, commit placements one task at a time. */
export class PlacementRepository {
  constructor(private readonly db: PrismaClient) {}

  async clustersWithWaitingTasks(): Promise<string[]> {
    const rows = await this.db.task.findMany({
      where: { lastStatus: 'PROVISIONING', desiredStatus: 'RUNNING' },
      distinct: ['clusterId'],
      select: { clusterId: true },
    });
    return rows.map((r) => r.clusterId);
  }

  async waitingTasks(
    clusterId: string,
    limit: number,
  ): Promise<(TaskToPlace & { provisioningReason: string | null; serviceId: string | null })[]> {
    const tasks = await this.db.task.findMany({
      where: { clusterId, lastStatus: 'PROVISIONING', desiredStatus: 'RUNNING' },
      include: { taskDefinition: { select: { definition: true } } },
      orderBy: { createdAt: 'asc' },
      take: limit,
    });
    return tasks.map((t) => ({
      id: t.id,
      cpu: t.cpu,
      memory: t.memory,
      hostPorts: staticHostPorts(
        (t.taskDefinition.definition as { containerDefinitions: ContainerDefinition[] }).containerDefinitions,
      ),
      provisioningReason: t.provisioningReason,
      serviceId: t.serviceId,
    }));
  }

  async instances(clusterId: string): Promise<InstanceSnapshot[]> {
    const rows = await this.db.containerInstance.findMany({
      where: { clusterId, status: { not: 'INACTIVE' } },
      include: { portReservations: { select: { hostPort: true, protocol: true } } },
    });
    return rows.map((i) => ({
      id: i.id,
      status: i.status,
      agentConnected: i.agentConnected,
      registeredCpu: i.registeredCpu,
      registeredMemory: i.registeredMemory,
      reservedCpu: i.reservedCpu,
      reservedMemory: i.reservedMemory,
      reservedPorts: new Set(i.portReservations.map((p) => `${p.hostPort}/${p.protocol}`)),
      attributes: i.attributes as Record<string, string>,
    }));
  }

  /**
   * Assigns one task to an instance and reserves its resources, all or nothing.
   * - 'placed': committed.
   * - 'gone': the task no longer waits (stopped, or placed by another replica): nothing to do.
   * - 'conflict': the instance changed since the snapshot; re-plan.
   */
  async commit(task: TaskToPlace, instanceId: string): Promise<'placed' | 'gone' | 'conflict'> {
    try {
      return await this.db.$transaction(async (tx) => {
        const claimed = await tx.task.updateMany({
          where: {
            id: task.id,
            lastStatus: 'PROVISIONING',
            desiredStatus: 'RUNNING',
            containerInstanceId: null,
          },
          data: {
            lastStatus: 'PENDING',
            containerInstanceId: instanceId,
            holdsReservation: true,
            provisioningReason: null,
          },
        });
        if (claimed.count !== 1) return 'gone';
        const reserved = await reserveOnInstance(tx, {
          containerInstanceId: instanceId,
          taskId: task.id,
          cpu: task.cpu,
          memory: task.memory,
          hostPorts: task.hostPorts,
        });
        if (!reserved) throw new LostRace();
        return 'placed';
      });
    } catch (error) {
      if (error instanceof LostRace || isUniqueViolation(error)) return 'conflict';
      throw error;
    }
  }

  /** Records why a task waits; a service's task also leaves a service event, once per new reason. */
  async recordUnplaced(taskId: string, serviceId: string | null, reason: string): Promise<void> {
    await this.db.$transaction(async (tx) => {
      const { count } = await tx.task.updateMany({
        where: { id: taskId, lastStatus: 'PROVISIONING' },
        data: { provisioningReason: reason },
      });
      if (count === 0 || !serviceId) return;
      const service = await tx.service.findUnique({ where: { id: serviceId }, select: { name: true } });
      if (service) {
        await tx.serviceEvent.create({
          data: { serviceId, message: serviceEvents.unableToPlace(service.name, reason) },
        });
      }
    });
  }
}

class LostRace extends Error {}
