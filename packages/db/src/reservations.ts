import type { Db } from './client.js';

export interface Reservation {
  containerInstanceId: string;
  taskId: string;
  cpu: number;
  memory: number;
  hostPorts: readonly { hostPort: number; protocol: string }[];
}

/**
 * Reserves a task's CPU, memory and static host ports on an instance. The conditional update only
 * succeeds while the instance is ACTIVE, connected and has room; the port rows' primary key
 * refuses a port already held. Returns false (or throws a unique violation) when the instance
 * changed since the plan was made; the caller's transaction must then roll back and re-plan.
 */
export async function reserveOnInstance(tx: Db, r: Reservation): Promise<boolean> {
  const updated = await tx.$executeRaw`
    UPDATE container_instance
       SET reserved_cpu = reserved_cpu + ${r.cpu}, reserved_memory = reserved_memory + ${r.memory}, updated_at = now()
     WHERE id = ${r.containerInstanceId}::uuid
       AND status = 'ACTIVE' AND agent_connected
       AND reserved_cpu + ${r.cpu} <= registered_cpu
       AND reserved_memory + ${r.memory} <= registered_memory`;
  if (updated !== 1) return false;
  if (r.hostPorts.length > 0) {
    await tx.portReservation.createMany({
      data: r.hostPorts.map((p) => ({
        containerInstanceId: r.containerInstanceId,
        hostPort: p.hostPort,
        protocol: p.protocol,
        taskId: r.taskId,
      })),
    });
  }
  return true;
}

/**
 * Gives back what a task holds on its instance. Idempotent: the `holds_reservation` flag flips in
 * the same statement that reads the amounts, so a second call (or a second replica) frees nothing.
 */
export async function releaseTaskReservation(tx: Db, taskId: string): Promise<void> {
  const rows = await tx.$queryRaw<{ container_instance_id: string | null; cpu: number; memory: number }[]>`
    UPDATE task SET holds_reservation = false, updated_at = now()
     WHERE id = ${taskId}::uuid AND holds_reservation
     RETURNING container_instance_id, cpu, memory`;
  const held = rows[0];
  if (!held?.container_instance_id) return;
  await tx.$executeRaw`
    UPDATE container_instance
       SET reserved_cpu = reserved_cpu - ${held.cpu}, reserved_memory = reserved_memory - ${held.memory}, updated_at = now()
     WHERE id = ${held.container_instance_id}::uuid`;
  await tx.portReservation.deleteMany({ where: { taskId } });
}
