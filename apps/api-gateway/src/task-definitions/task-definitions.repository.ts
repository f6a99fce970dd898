import { Inject, Injectable } from '@nestjs/common';
import {
  findTaskDefinition,
  isUniqueViolation,
  launchableRevision,
  Prisma,
  purgeDeletedTaskDefinitions,
  sqlOf,
  type ClusterModel,
  type TaskDefinitionModel,
} from '@berth/db';
import { type Tag, type TaskOverrides, type ValidTaskDefinition } from '@berth/domain';
import { PRISMA, type PrismaClient } from '../infra/providers.js';

@Injectable()
export class TaskDefinitionsRepository {
  constructor(@Inject(PRISMA) private readonly db: PrismaClient) {}

  /** Registers the next revision of a family; concurrent registers each get their own revision. */
  async register(td: ValidTaskDefinition, tags: Tag[] = []): Promise<TaskDefinitionModel> {
    for (let attempt = 0; ; attempt++) {
      const [latest, deleted] = await Promise.all([
        this.db.taskDefinition.aggregate({ where: { family: td.family }, _max: { revision: true } }),
        // Deleted revisions (DeleteTaskDefinitions) are never given again.
        this.db.taskDefinitionFamily.findUnique({ where: { family: td.family } }),
      ]);
      try {
        return await this.db.taskDefinition.create({
          data: {
            family: td.family,
            revision: Math.max(latest._max.revision ?? 0, deleted?.lastRevision ?? 0) + 1,
            definition: td.definition as Prisma.InputJsonValue,
            tags: tags as unknown as Prisma.InputJsonValue,
            cpu: td.cpu,
            memory: td.memory,
          },
        });
      } catch (error) {
        // Another register took this revision first: take the next one.
        if (isUniqueViolation(error) && attempt < 20) continue;
        throw error;
      }
    }
  }

  /** By family and revision (both descending if asked), `limit` after `after`. */
  async list(
    filter: { familyPrefix?: string; status?: string; descending?: boolean },
    limit: number,
    after?: readonly [string, number],
  ): Promise<TaskDefinitionModel[]> {
    const next = filter.descending ? 'lt' : 'gt';
    const order = filter.descending ? 'desc' : 'asc';
    return this.db.taskDefinition.findMany({
      where: {
        ...(filter.familyPrefix ? { family: { startsWith: filter.familyPrefix } } : {}),
        ...(filter.status ? { status: filter.status } : {}),
        ...(after
          ? { OR: [{ family: { [next]: after[0] } }, { family: after[0], revision: { [next]: after[1] } }] }
          : {}),
      },
      orderBy: [{ family: order }, { revision: order }],
      take: limit,
    });
  }

  /**
   * Family names in order, `limit` after `after`: with status ACTIVE those that have an ACTIVE
   * revision, with INACTIVE those that have none.
   */
  async families(
    filter: { familyPrefix?: string; status?: string },
    limit: number,
    after?: string,
  ): Promise<string[]> {
    const rows = await this.db.taskDefinition.groupBy({
      by: ['family'],
      where: {
        family: {
          ...(filter.familyPrefix ? { startsWith: filter.familyPrefix } : {}),
          ...(after ? { gt: after } : {}),
        },
        ...(filter.status === 'ACTIVE' ? { status: 'ACTIVE' } : {}),
      },
      // 'ACTIVE' sorts before 'INACTIVE': a family whose least status is INACTIVE has no ACTIVE revision.
      ...(filter.status === 'INACTIVE' ? { having: { status: { _min: { equals: 'INACTIVE' } } } } : {}),
      orderBy: { family: 'asc' },
      take: limit,
    });
    return rows.map((r) => r.family);
  }

  /** `family` alone means its latest ACTIVE revision, as in ECS. */
  async find(family: string, revision?: number): Promise<TaskDefinitionModel> {
    return findTaskDefinition(sqlOf(this.db), family, revision);
  }

  /** The revision new tasks start from, checked (see launchableRevision in @berth/db). */
  async launchable(cluster: ClusterModel, taskDefinition: string, overrides: TaskOverrides | undefined) {
    return launchableRevision(sqlOf(this.db), cluster, taskDefinition, overrides);
  }

  /** Revisions by family and revision number (those that exist). */
  async findMany(refs: readonly { family: string; revision: number }[]): Promise<TaskDefinitionModel[]> {
    if (refs.length === 0) return [];
    return this.db.taskDefinition.findMany({
      where: { OR: refs.map((r) => ({ family: r.family, revision: r.revision })) },
    });
  }

  /**
   * DeleteTaskDefinitions: the INACTIVE revisions among `ids` become DELETE_IN_PROGRESS, and those
   * no task, service or deployment refers to are removed at once; the others stay
   * DELETE_IN_PROGRESS (describable, unusable) until a later DeleteTaskDefinitions finds them
   * free. Each family remembers its highest revision, so no number is given twice.
   */
  async markDeleted(ids: readonly string[]): Promise<TaskDefinitionModel[]> {
    return this.db.$transaction(async (tx) => {
      const marked = await tx.taskDefinition.updateManyAndReturn({
        where: { id: { in: [...ids] }, status: { in: ['INACTIVE', 'DELETE_IN_PROGRESS'] } },
        data: { status: 'DELETE_IN_PROGRESS' },
      });
      const families = [...new Set(marked.map((td) => td.family))];
      if (families.length) {
        await tx.$executeRaw`
          INSERT INTO task_definition_family (family, last_revision)
          SELECT family, max(revision) FROM task_definition WHERE family = ANY(${families}::text[]) GROUP BY family
          ON CONFLICT (family) DO UPDATE
            SET last_revision = GREATEST(task_definition_family.last_revision, EXCLUDED.last_revision)`;
        await purgeDeletedTaskDefinitions(tx, families);
      }
      return marked;
    });
  }

  /** Deregister: INACTIVE from now on. Idempotent; running tasks are not touched. */
  async deregister(family: string, revision: number): Promise<TaskDefinitionModel> {
    const td = await this.find(family, revision);
    if (td.status !== 'ACTIVE') return td;
    return this.db.taskDefinition.update({
      where: { id: td.id },
      data: { status: 'INACTIVE', deregisteredAt: new Date() },
    });
  }
}
