import { Inject, Injectable } from '@nestjs/common';
import {
  findClientToken,
  requestTaskStop,
  sqlOf,
  statement,
  TASK_WITH_CONTAINERS,
  RevisionCache,
  writeRunTasks,
  type ClientTokenClaim,
  type ClusterModel,
  type LaunchableRevision,
  type RunTaskRequest,
  type Statement,
  type TaskContainerModel,
  type TaskModel,
} from '@berth/db';
import { checkClientTokenReuse, NotFoundError, type StopCode } from '@berth/domain';
import { PRISMA, type PrismaClient } from '../infra/providers.js';
import type { TaskWithRelations } from '../http/views.js';

export const TASK_INCLUDE = { containers: true, cluster: true, taskDefinition: true } as const;

export interface TaskFilter {
  desiredStatus?: string;
  family?: string;
  containerInstanceId?: string;
  startedBy?: string;
  serviceName?: string;
  afterId?: string;
  limit: number;
}

// Tasks with their containers in one statement; the revisions come from a second one.
const TASKS_BY_ID = statement(
  'tasks_by_id',
  `${TASK_WITH_CONTAINERS} WHERE t.id = ANY($1::uuid[]) AND t.cluster_id = $2::uuid`,
);

/**
 * ListTasks' filters, each present or not: one prepared statement per combination used, so that
 * each gets its own plan ($1 the cluster, $2 the limit, the filters after).
 */
const FILTERS = [
  ['desiredStatus', 't.desired_status = $'],
  ['family', 'td.family = $'],
  ['containerInstanceId', 't.container_instance_id = $::uuid'],
  ['startedBy', 't.started_by = $'],
  ['serviceName', 's.name = $'],
  ['afterId', 't.id > $::uuid'],
] as const;
const listStatements = new Map<string, Statement>();
function listStatement(f: TaskFilter): { s: Statement; values: unknown[] } {
  const used = FILTERS.filter(([key]) => f[key]);
  const key = used.map(([k]) => k).join(',');
  let s = listStatements.get(key);
  if (!s) {
    const where = used.map(([, cond], i) => ` AND ${cond.replace('$', `$${i + 3}`)}`).join('');
    s = statement(
      `list_tasks(${key})`,
      `${TASK_WITH_CONTAINERS}
       ${used.some(([k]) => k === 'family') ? 'JOIN task_definition td ON td.id = t.task_definition_id' : ''}
       ${used.some(([k]) => k === 'serviceName') ? 'JOIN service s ON s.id = t.service_id' : ''}
       WHERE t.cluster_id = $1::uuid${where} ORDER BY t.id LIMIT $2`,
    );
    listStatements.set(key, s);
  }
  return { s, values: used.map(([k]) => f[k]) };
}

type TaskRow = TaskModel & { containers: TaskContainerModel[] };

@Injectable()
export class TasksRepository {
  private readonly revisions = new RevisionCache();

  constructor(@Inject(PRISMA) private readonly db: PrismaClient) {}

  /**
   * Writes RunTask's PROVISIONING tasks and their containers in one transaction: all or none (see
   * writeRunTasks, which a schedule's firing shares).
   */
  async createTasks(
    cluster: ClusterModel,
    revision: LaunchableRevision,
    request: RunTaskRequest,
    claim?: ClientTokenClaim,
  ): Promise<TaskWithRelations[]> {
    const created = await sqlOf(this.db).transaction((tx) =>
      writeRunTasks(tx, cluster, revision, request, claim),
    );
    return created.map((t) => ({ ...t, cluster, taskDefinition: revision.td }));
  }

  /**
   * The tasks an earlier RunTask with this client token created, as they are now; undefined if no
   * call has used the token. A 400 if that call had other parameters.
   */
  async replay(claim: ClientTokenClaim): Promise<TaskWithRelations[] | undefined> {
    const stored = await findClientToken(this.db, claim);
    if (!stored) return undefined;
    checkClientTokenReuse(stored, claim.requestHash);
    const tasks = await this.db.task.findMany({
      where: { id: { in: stored.resourceIds } },
      include: TASK_INCLUDE,
    });
    const byId = new Map(tasks.map((t) => [t.id, t]));
    return stored.resourceIds.flatMap((id) => byId.get(id) ?? []);
  }

  async list(cluster: ClusterModel, f: TaskFilter): Promise<TaskWithRelations[]> {
    const { s, values } = listStatement(f);
    return this.withRelations(
      cluster,
      await sqlOf(this.db).rows<TaskRow>(s, [cluster.id, f.limit, ...values]),
    );
  }

  async getMany(cluster: ClusterModel, taskIds: readonly string[]): Promise<TaskWithRelations[]> {
    return this.withRelations(
      cluster,
      await sqlOf(this.db).rows<TaskRow>(TASKS_BY_ID, [taskIds, cluster.id]),
    );
  }

  async get(cluster: ClusterModel, taskId: string): Promise<TaskWithRelations> {
    const [task] = /^[0-9a-f-]{36}$/i.test(taskId) ? await this.getMany(cluster, [taskId]) : [];
    if (!task)
      throw new NotFoundError(
        'InvalidParameterException',
        `task ${taskId} does not exist in this cluster`,
        'task',
      );
    return task;
  }

  private async withRelations(cluster: ClusterModel, rows: TaskRow[]): Promise<TaskWithRelations[]> {
    if (rows.length === 0) return [];
    const definitions = await this.revisions.get(
      sqlOf(this.db),
      rows.map((t) => t.taskDefinitionId),
    );
    return rows.map((t) => ({ ...t, cluster, taskDefinition: definitions.get(t.taskDefinitionId)! }));
  }

  /** StopTask: idempotent; see requestTaskStop. */
  async requestStop(taskId: string, stopCode: StopCode, reason: string): Promise<TaskWithRelations> {
    return this.db.$transaction(async (tx) => {
      await requestTaskStop(tx, taskId, { stopCode, reason });
      return tx.task.findUniqueOrThrow({ where: { id: taskId }, include: TASK_INCLUDE });
    });
  }
}
