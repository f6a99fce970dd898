import { Inject, Injectable } from '@nestjs/common';
import { isUniqueViolation, Prisma, type TaskDefinitionModel } from '@berth/db';
import { NotFoundError, type ValidTaskDefinition } from '@berth/domain';
import { PRISMA, type PrismaClient } from '../infra/providers.js';

@Injectable()
export class TaskDefinitionsRepository {
  constructor(@Inject(PRISMA) private readonly db: PrismaClient) {}

  /** Registers the next revision of a family; concurrent registers each get their own revision. */
  async register(td: ValidTaskDefinition): Promise<TaskDefinitionModel> {
    for (let attempt = 0; ; attempt++) {
      const latest = await this.db.taskDefinition.aggregate({
        where: { family: td.family },
        _max: { revision: true },
      });
      try {
        return await this.db.taskDefinition.create({
          data: {
            family: td.family,
            revision: (latest._max.revision ?? 0) + 1,
            definition: td.definition as Prisma.InputJsonValue,
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

  /** By family and revision, `limit` after `after`. */
  async list(
    filter: { familyPrefix?: string; status?: string },
    limit: number,
    after?: readonly [string, number],
  ): Promise<TaskDefinitionModel[]> {
    return this.db.taskDefinition.findMany({
      where: {
        ...(filter.familyPrefix ? { family: { startsWith: filter.familyPrefix } } : {}),
        ...(filter.status ? { status: filter.status } : {}),
        ...(after
          ? { OR: [{ family: { gt: after[0] } }, { family: after[0], revision: { gt: after[1] } }] }
          : {}),
      },
      orderBy: [{ family: 'asc' }, { revision: 'asc' }],
      take: limit,
    });
  }

  /** `family` alone means its latest ACTIVE revision, as in ECS. */
  async find(family: string, revision?: number): Promise<TaskDefinitionModel> {
    const td =
      revision === undefined
        ? await this.db.taskDefinition.findFirst({
            where: { family, status: 'ACTIVE' },
            orderBy: { revision: 'desc' },
          })
        : await this.db.taskDefinition.findUnique({ where: { family_revision: { family, revision } } });
    if (!td) {
      const what =
        revision === undefined ? `an ACTIVE revision of family ${family}` : `${family}:${revision}`;
      throw new NotFoundError('ClientException', `task definition ${what} does not exist`, 'taskDefinition');
    }
    return td;
  }

  /** Deregister: INACTIVE from now on. Idempotent; running tasks are not touched. */
  async deregister(family: string, revision: number): Promise<TaskDefinitionModel> {
    const td = await this.find(family, revision);
    if (td.status === 'INACTIVE') return td;
    return this.db.taskDefinition.update({
      where: { id: td.id },
      data: { status: 'INACTIVE', deregisteredAt: new Date() },
    });
  }
}
