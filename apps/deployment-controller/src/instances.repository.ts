import { releaseTaskReservation, type PrismaClient } from '@berth/db';

export interface LostTasks {
  instanceId: string;
  clusterId: string;
  taskIds: string[];
  serviceIds: string[];
}

/**
 * Instance liveness. The gateway records heartbeats and closed streams; this marks silent agents
 * disconnected and, after a grace period, declares their instances lost: every task there is
 * STOPPED with stopCode InstanceLost and gives back its reservation, so services replace it
 * elsewhere. Each instance is handled under its row lock and only if it is still silent, so a
 * returning agent and several controller replicas are safe.
 */
export class InstancesRepository {
  constructor(private readonly db: PrismaClient) {}

  async markSilentDisconnected(now: Date, timeoutMs: number): Promise<string[]> {
    const rows = await this.db.$queryRaw<{ id: string }[]>`
      UPDATE container_instance SET agent_connected = false, updated_at = now()
       WHERE agent_connected AND last_heartbeat_at < ${new Date(now.getTime() - timeoutMs)}
      RETURNING id`;
    return rows.map((r) => r.id);
  }

  /** Instances silent past the grace period that still have live tasks. */
  async lostWithTasks(now: Date, lostAfterMs: number): Promise<string[]> {
    const rows = await this.db.$queryRaw<{ id: string }[]>`
      SELECT DISTINCT i.id FROM container_instance i JOIN task t ON t.container_instance_id = i.id
       WHERE NOT i.agent_connected AND i.last_heartbeat_at < ${new Date(now.getTime() - lostAfterMs)}
         AND t.last_status <> 'STOPPED'`;
    return rows.map((r) => r.id);
  }

  async stopTasksOfLostInstance(
    instanceId: string,
    now: Date,
    lostAfterMs: number,
  ): Promise<LostTasks | null> {
    return this.db.$transaction(async (tx) => {
      const still = await tx.$queryRaw<{ cluster_id: string; last_heartbeat_at: Date }[]>`
        SELECT cluster_id, last_heartbeat_at FROM container_instance
         WHERE id = ${instanceId}::uuid AND NOT agent_connected
           AND last_heartbeat_at < ${new Date(now.getTime() - lostAfterMs)}
         FOR UPDATE`;
      const instance = still[0];
      if (!instance) return null;
      const silentSeconds = Math.round((now.getTime() - instance.last_heartbeat_at.getTime()) / 1000);
      const tasks = await tx.$queryRaw<{ id: string; service_id: string | null }[]>`
        UPDATE task SET desired_status = 'STOPPED', last_status = 'STOPPED',
               stop_code = coalesce(stop_code, 'InstanceLost'),
               stopped_reason = coalesce(stopped_reason, ${`Container instance lost: its agent has been silent for ${silentSeconds} s`}),
               stopping_at = coalesce(stopping_at, now()), stopped_at = now(), updated_at = now()
         WHERE container_instance_id = ${instanceId}::uuid AND last_status <> 'STOPPED'
        RETURNING id, service_id`;
      const ids = tasks.map((t) => t.id);
      if (ids.length === 0) return null;
      await tx.taskContainer.updateMany({ where: { taskId: { in: ids } }, data: { lastStatus: 'STOPPED' } });
      for (const id of ids) await releaseTaskReservation(tx, id);
      return {
        instanceId,
        clusterId: instance.cluster_id,
        taskIds: ids,
        serviceIds: [...new Set(tasks.map((t) => t.service_id).filter((s): s is string => s !== null))],
      };
    });
  }
}
