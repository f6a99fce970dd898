import { Inject, Injectable } from '@nestjs/common';
import type { Prisma } from '@berth/db';
import { NotFoundError, storedTags, type Tag, type TaggedResource } from '@berth/domain';
import { PRISMA, type PrismaClient } from '../infra/providers.js';

type Db = PrismaClient | Prisma.TransactionClient;

/** The table that holds each kind's `tags` column; each is keyed by a uuid `id`. */
const TABLES = {
  cluster: 'cluster',
  service: 'service',
  task: 'task',
  'container-instance': 'container_instance',
  'task-definition': 'task_definition',
} as const satisfies Record<TaggedResource['type'], string>;

const notFound = (what: string) =>
  new NotFoundError('ResourceNotFoundException', `${what} does not exist`, 'resourceArn');

/** Reads and writes the tags of clusters, services, tasks, container instances and task definitions. */
@Injectable()
export class TagsRepository {
  constructor(@Inject(PRISMA) private readonly db: PrismaClient) {}

  async get(resource: TaggedResource): Promise<Tag[]> {
    const { id } = await this.find(this.db, resource);
    const [row] = await this.db.$queryRawUnsafe<{ tags: unknown }[]>(
      `SELECT tags FROM "${TABLES[resource.type]}" WHERE id = $1::uuid`,
      id,
    );
    return storedTags(row?.tags);
  }

  /** Replaces the resource's tags with `change(current)`, under its row lock. */
  async change(resource: TaggedResource, change: (current: Tag[]) => Tag[]): Promise<Tag[]> {
    return this.db.$transaction(async (tx) => {
      const { id } = await this.find(tx, resource);
      const table = TABLES[resource.type];
      const [row] = await tx.$queryRawUnsafe<{ tags: unknown }[]>(
        `SELECT tags FROM "${table}" WHERE id = $1::uuid FOR UPDATE`,
        id,
      );
      const tags = change(storedTags(row?.tags));
      await tx.$executeRawUnsafe(
        `UPDATE "${table}" SET tags = $1::jsonb WHERE id = $2::uuid`,
        JSON.stringify(tags),
        id,
      );
      return tags;
    });
  }

  /** The row the ARN names: its cluster must exist (ClusterNotFoundException), then the resource. */
  private async find(db: Db, r: TaggedResource): Promise<{ id: string }> {
    if (r.type === 'task-definition') {
      const td = await db.taskDefinition.findUnique({
        where: { family_revision: { family: r.family, revision: r.revision } },
        select: { id: true },
      });
      if (!td) throw notFound(`task definition ${r.family}:${r.revision}`);
      return td;
    }
    const cluster = await db.cluster.findUnique({
      where: { name: r.cluster },
      select: { id: true, status: true },
    });
    if (!cluster || cluster.status !== 'ACTIVE')
      throw new NotFoundError(
        'ClusterNotFoundException',
        `cluster ${r.cluster} does not exist`,
        'resourceArn',
      );
    let row: { id: string } | null;
    switch (r.type) {
      case 'cluster':
        return cluster;
      case 'service':
        // The newest service of the name: the live one if there is one, else the last INACTIVE one.
        row = await db.service.findFirst({
          where: { clusterId: cluster.id, name: r.name },
          orderBy: { createdAt: 'desc' },
          select: { id: true },
        });
        if (!row) throw notFound(`service ${r.name} in cluster ${r.cluster}`);
        return row;
      case 'task':
        row = await db.task.findFirst({ where: { id: r.id, clusterId: cluster.id }, select: { id: true } });
        if (!row) throw notFound(`task ${r.id} in cluster ${r.cluster}`);
        return row;
      case 'container-instance':
        row = await db.containerInstance.findFirst({
          where: { id: r.id, clusterId: cluster.id },
          select: { id: true },
        });
        if (!row) throw notFound(`container instance ${r.id} in cluster ${r.cluster}`);
        return row;
    }
  }
}
