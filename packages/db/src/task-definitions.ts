import type { Db } from './client.js';

/**
 * Removes the DELETE_IN_PROGRESS task definition revisions (of `families`, or of every family)
 * that no task, service or deployment refers to any more. Returns how many went.
 */
export async function purgeDeletedTaskDefinitions(tx: Db, families?: readonly string[]): Promise<number> {
  if (families)
    return tx.$executeRaw`
      DELETE FROM task_definition td
      WHERE td.status = 'DELETE_IN_PROGRESS' AND td.family = ANY(${[...families]}::text[])
        AND NOT EXISTS (SELECT 1 FROM task t WHERE t.task_definition_id = td.id)
        AND NOT EXISTS (SELECT 1 FROM service s WHERE s.task_definition_id = td.id)
        AND NOT EXISTS (SELECT 1 FROM deployment d WHERE d.task_definition_id = td.id)`;
  return tx.$executeRaw`
    DELETE FROM task_definition td
    WHERE td.status = 'DELETE_IN_PROGRESS'
      AND NOT EXISTS (SELECT 1 FROM task t WHERE t.task_definition_id = td.id)
      AND NOT EXISTS (SELECT 1 FROM service s WHERE s.task_definition_id = td.id)
      AND NOT EXISTS (SELECT 1 FROM deployment d WHERE d.task_definition_id = td.id)`;
}
