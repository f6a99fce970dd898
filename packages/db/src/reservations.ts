import { statement, type SqlExecutor } from './sql.js';

const RELEASE = statement(
  'release_task_reservations',
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
);

/**
 * Gives back what these tasks hold on their instances, in one statement: summed per instance, and
 * their ports freed. Idempotent: the `holds_reservation` flag flips in the same statement that
 * reads the amounts, so tasks already released (here or by a second replica) free nothing. In a
 * plain SQL transaction, or a Prisma one through viaPrisma.
 */
export async function releaseTaskReservations(tx: SqlExecutor, taskIds: readonly string[]): Promise<void> {
  if (taskIds.length === 0) return;
  await tx.rows(RELEASE, [taskIds]);
}
