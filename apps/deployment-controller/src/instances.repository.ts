import { releaseTaskReservations, viaPrisma, type PrismaClient } from '@berth/db';
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

  /**
   * The guard of every write, for many instances at once: `g` lists each instance with the last
   * heartbeat the sweep saw ($1 ids, $2 heartbeats), and only an instance `i` whose heartbeat has
   * not moved since matches.
   */
  private static readonly SEEN = `unnest($1::uuid[], $2::timestamp(3)[]) AS g(id, hb)`;
  private static readonly STILL_SILENT = `g.id = i.id AND i.last_heartbeat_at IS NOT DISTINCT FROM g.hb`;

  private static seen(instances: readonly InstanceLivenessRow[]): [string[], (string | null)[]] {
    return [instances.map((i) => i.id), instances.map((i) => i.lastHeartbeatAt?.toISOString() ?? null)];
  }

  async markDisconnected(instances: readonly InstanceLivenessRow[]): Promise<string[]> {
    if (instances.length === 0) return [];
    const rows = await this.db.$queryRawUnsafe<{ id: string }[]>(
      `UPDATE container_instance i SET agent_connected = false, updated_at = now()
         FROM ${InstancesRepository.SEEN}
        WHERE ${InstancesRepository.STILL_SILENT} AND i.agent_connected
       RETURNING i.id`,
      ...InstancesRepository.seen(instances),
    );
    return rows.map((r) => r.id);
  }

  async observeSilence(instances: readonly InstanceLivenessRow[], now: Date): Promise<void> {
    if (instances.length === 0) return;
    await this.db.$executeRawUnsafe(
      `UPDATE container_instance i SET silent_since = i.last_heartbeat_at, silence_seen_at = $3::timestamp(3),
              updated_at = now()
         FROM ${InstancesRepository.SEEN}
        WHERE ${InstancesRepository.STILL_SILENT}`,
      ...InstancesRepository.seen(instances),
      now.toISOString(),
    );
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

  async stopTasksOfLostInstances(instances: readonly InstanceLivenessRow[], now: Date): Promise<LostTasks[]> {
    if (instances.length === 0) return [];
    return this.db.$transaction(async (tx) => {
      // In id order, as the scheduler locks instances, so two such transactions cannot deadlock.
      const still = await tx.$queryRawUnsafe<{ id: string; cluster_id: string }[]>(
        `SELECT i.id, i.cluster_id FROM container_instance i, ${InstancesRepository.SEEN}
          WHERE ${InstancesRepository.STILL_SILENT} AND NOT i.agent_connected
          ORDER BY i.id
            FOR UPDATE OF i`,
        ...InstancesRepository.seen(instances),
      );
      if (still.length === 0) return [];
      const byId = new Map(instances.map((i) => [i.id, i]));
      const reason = (id: string) => {
        const last = byId.get(id)?.lastHeartbeatAt ?? null;
        return last === null
          ? 'Container instance lost: its agent never sent a heartbeat'
          : `Container instance lost: its agent has been silent for ${Math.round((now.getTime() - last.getTime()) / 1000)} s`;
      };
      const tasks = await tx.$queryRawUnsafe<
        { id: string; container_instance_id: string; service_id: string | null }[]
      >(
        `UPDATE task t SET desired_status = 'STOPPED', last_status = 'STOPPED',
               stop_code = coalesce(stop_code, 'InstanceLost'),
               stopped_reason = coalesce(stopped_reason, r.reason),
               stopping_at = coalesce(stopping_at, now()), stopped_at = now(), updated_at = now()
          FROM unnest($1::uuid[], $2::text[]) AS r(id, reason)
         WHERE t.container_instance_id = r.id AND ${TASKS_TO_STOP}
        RETURNING t.id, t.container_instance_id, t.service_id`,
        still.map((i) => i.id),
        still.map((i) => reason(i.id)),
      );
      if (tasks.length === 0) return [];
      const ids = tasks.map((t) => t.id);
      await tx.taskContainer.updateMany({ where: { taskId: { in: ids } }, data: { lastStatus: 'STOPPED' } });
      await releaseTaskReservations(viaPrisma(tx), ids);
      return still.flatMap((i) => {
        const stopped = tasks.filter((t) => t.container_instance_id === i.id);
        if (stopped.length === 0) return [];
        return [
          {
            instanceId: i.id,
            clusterId: i.cluster_id,
            taskIds: stopped.map((t) => t.id),
            serviceIds: [...new Set(stopped.flatMap((t) => t.service_id ?? []))],
          },
        ];
      });
    });
  }
}
