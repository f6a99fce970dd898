import type { Db } from './client.js';

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
