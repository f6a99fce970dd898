import { releaseTaskReservation, type PrismaClient } from '@berth/db';
import type { InstanceLivenessRow } from '@berth/domain';
import type { InstanceStore, LostTasks } from './stores.js';

/** Tasks that an instance's loss stops: standalone ones, and those of services that REPLACE. */
const TASKS_TO_STOP = `
  t.last_status <> 'STOPPED' AND (t.service_id IS NULL OR NOT EXISTS (
    SELECT 1 FROM service s WHERE s.id = t.service_id AND s.disconnected_task_behavior = 'WAIT'))`;

/**
 * Instance liveness. The gateway records heartbeats and closed streams; the sweep reads every
 * registered instance with the database's clock, and this applies what
 * `planInstanceLiveness` decides. Each write is guarded on the instance being exactly as
 * silent as in the snapshot (same last heartbeat), so a returning agent and several controller
 * replicas are safe.
 */
export class InstancesRepository implements InstanceStore {
  constructor(private readonly db: PrismaClient) {}

  async snapshot(): Promise<{ now: Date; instances: InstanceLivenessRow[] }> {
    const [clock] = await this.db.$queryRaw<{ now: Date }[]>`SELECT now() AS now`;
    const rows = await this.db.$queryRawUnsafe<
      {
        id: string;
        cluster_id: string;
        agent_connected: boolean;
        last_heartbeat_at: Date | null;
        silent_since: Date | null;
        silence_seen_at: Date | null;
        brake_held_at: Date | null;
        has_tasks_to_stop: boolean;
      }[]
    >(`
      SELECT i.id, i.cluster_id, i.agent_connected, i.last_heartbeat_at, i.silent_since,
             i.silence_seen_at, i.brake_held_at,
             EXISTS (SELECT 1 FROM task t WHERE t.container_instance_id = i.id AND ${TASKS_TO_STOP}) AS has_tasks_to_stop
        FROM container_instance i WHERE i.status <> 'INACTIVE'`);
    return {
      now: clock!.now,
      instances: rows.map((r) => ({
        id: r.id,
        clusterId: r.cluster_id,
        agentConnected: r.agent_connected,
        lastHeartbeatAt: r.last_heartbeat_at,
        silentSince: r.silent_since,
        silenceSeenAt: r.silence_seen_at,
        brakeHeldAt: r.brake_held_at,
        hasTasksToStop: r.has_tasks_to_stop,
      })),
    };
  }

  private stillSilent(instance: InstanceLivenessRow) {
    return { id: instance.id, lastHeartbeatAt: instance.lastHeartbeatAt };
  }

  async markDisconnected(instance: InstanceLivenessRow): Promise<boolean> {
    const { count } = await this.db.containerInstance.updateMany({
      where: { ...this.stillSilent(instance), agentConnected: true },
      data: { agentConnected: false },
    });
    return count > 0;
  }

  async observeSilence(instance: InstanceLivenessRow, now: Date): Promise<void> {
    await this.db.containerInstance.updateMany({
      where: this.stillSilent(instance),
      data: { silentSince: instance.lastHeartbeatAt, silenceSeenAt: now },
    });
  }

  /** One write for all held instances. */
  async markBrakeHeld(instanceIds: string[], now: Date): Promise<void> {
    await this.db.containerInstance.updateMany({
      where: { id: { in: instanceIds } },
      data: { brakeHeldAt: now },
    });
  }

  async servicesOn(instanceIds: string[]): Promise<{ id: string; name: string }[]> {
    return this.db.service.findMany({
      where: {
        tasks: { some: { containerInstanceId: { in: instanceIds }, lastStatus: { not: 'STOPPED' } } },
      },
      select: { id: true, name: true },
    });
  }

  async addServiceEvents(events: { serviceId: string; message: string }[]): Promise<void> {
    await this.db.serviceEvent.createMany({ data: events });
  }

  async stopTasksOfLostInstance(instance: InstanceLivenessRow, now: Date): Promise<LostTasks | null> {
    return this.db.$transaction(async (tx) => {
      const still = await tx.$queryRaw<{ cluster_id: string }[]>`
        SELECT cluster_id FROM container_instance
         WHERE id = ${instance.id}::uuid AND NOT agent_connected
           AND last_heartbeat_at IS NOT DISTINCT FROM ${instance.lastHeartbeatAt}
         FOR UPDATE`;
      const row = still[0];
      if (!row) return null;
      const silentSeconds = instance.lastHeartbeatAt
        ? Math.round((now.getTime() - instance.lastHeartbeatAt.getTime()) / 1000)
        : null;
      const reason =
        silentSeconds === null
          ? 'Container instance lost: its agent never sent a heartbeat'
          : `Container instance lost: its agent has been silent for ${silentSeconds} s`;
      const tasks = await tx.$queryRawUnsafe<{ id: string; service_id: string | null }[]>(
        `UPDATE task t SET desired_status = 'STOPPED', last_status = 'STOPPED',
               stop_code = coalesce(stop_code, 'InstanceLost'),
               stopped_reason = coalesce(stopped_reason, $2),
               stopping_at = coalesce(stopping_at, now()), stopped_at = now(), updated_at = now()
         WHERE t.container_instance_id = $1::uuid AND ${TASKS_TO_STOP}
        RETURNING id, service_id`,
        instance.id,
        reason,
      );
      const ids = tasks.map((t) => t.id);
      if (ids.length === 0) return null;
      await tx.taskContainer.updateMany({ where: { taskId: { in: ids } }, data: { lastStatus: 'STOPPED' } });
      for (const id of ids) await releaseTaskReservation(tx, id);
      return {
        instanceId: instance.id,
        clusterId: row.cluster_id,
        taskIds: ids,
        serviceIds: [...new Set(tasks.map((t) => t.service_id).filter((s): s is string => s !== null))],
      };
    });
  }
}
