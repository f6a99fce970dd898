import type { Db, TaskDefinitionModel } from './client.js';
import { statement, type SqlExecutor } from './sql.js';

/** A revision as the TaskDefinition model, for plain SQL (`SELECT ... FROM task_definition td`). */
export const TASK_DEFINITION_COLUMNS = `td.id, td.family, td.revision, td.status, td.definition, td.tags, td.cpu,
  td.memory, td.registered_at AS "registeredAt", td.deregistered_at AS "deregisteredAt"`;

export const TASK_DEFINITIONS_BY_ID = statement(
  'task_definitions_by_id',
  `SELECT ${TASK_DEFINITION_COLUMNS} FROM task_definition td WHERE td.id = ANY($1::uuid[])`,
);
const LATEST_ACTIVE_REVISION = statement(
  'latest_active_revision',
  `SELECT ${TASK_DEFINITION_COLUMNS} FROM task_definition td
    WHERE td.family = $1 AND td.status = 'ACTIVE' ORDER BY td.revision DESC LIMIT 1`,
);
const REVISION = statement(
  'task_definition_revision',
  `SELECT ${TASK_DEFINITION_COLUMNS} FROM task_definition td WHERE td.family = $1 AND td.revision = $2`,
);

/** A family's latest ACTIVE revision, or family:revision whatever its status; undefined if none. */
export async function taskDefinitionByName(
  db: SqlExecutor,
  family: string,
  revision?: number,
): Promise<TaskDefinitionModel | undefined> {
  const [td] =
    revision === undefined
      ? await db.rows<TaskDefinitionModel>(LATEST_ACTIVE_REVISION, [family])
      : await db.rows<TaskDefinitionModel>(REVISION, [family, revision]);
  return td;
}

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

/**
 * Revisions by id, each read once per process. A revision never changes once registered but for
 * its status, which the readers of this cache (task views, the agents' task specs) do not use:
 * they need its family, revision and container definitions. Reading them again on every
 * DescribeTasks or agent command was a database round trip each.
 */
export class RevisionCache {
  private readonly byId = new Map<string, TaskDefinitionModel>();

  constructor(private readonly max = 10_000) {}

  /** The revisions of these ids that exist. */
  async get(db: SqlExecutor, ids: Iterable<string>): Promise<Map<string, TaskDefinitionModel>> {
    const out = new Map<string, TaskDefinitionModel>();
    const missing: string[] = [];
    for (const id of new Set(ids)) {
      const hit = this.byId.get(id);
      if (hit) out.set(id, hit);
      else missing.push(id);
    }
    if (missing.length) {
      if (this.byId.size + missing.length > this.max) this.byId.clear();
      for (const td of await db.rows<TaskDefinitionModel>(TASK_DEFINITIONS_BY_ID, [missing])) {
        this.byId.set(td.id, td);
        out.set(td.id, td);
      }
    }
    return out;
  }
}
