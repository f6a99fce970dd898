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

/**
 * `releaseTaskReservation` for many tasks in one statement: what each task still holds is given
 * back, summed per instance, and its ports are freed. Tasks that hold nothing (already released,
 * here or by a second replica) free nothing.
 */
export async function releaseTaskReservations(tx: Db, taskIds: readonly string[]): Promise<void> {
  if (taskIds.length === 0) return;
  await tx.$executeRawUnsafe(
    `WITH freed AS (
       UPDATE task SET holds_reservation = false, updated_at = now()
        WHERE id = ANY($1::uuid[]) AND holds_reservation
       RETURNING id, container_instance_id, cpu, memory
     ), ports AS (
       DELETE FROM port_reservation p USING freed
        WHERE p.task_id = freed.id AND freed.container_instance_id IS NOT NULL
     ), held AS (
       SELECT container_instance_id AS id, sum(cpu)::int AS cpu, sum(memory)::int AS memory
         FROM freed WHERE container_instance_id IS NOT NULL GROUP BY container_instance_id
     )
     UPDATE container_instance i
        SET reserved_cpu = i.reserved_cpu - held.cpu, reserved_memory = i.reserved_memory - held.memory,
            updated_at = now()
       FROM held WHERE i.id = held.id`,
    taskIds,
  );
}
