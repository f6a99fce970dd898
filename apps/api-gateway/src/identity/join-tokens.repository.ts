import { createHash, randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { formatJoinToken, NotFoundError, type CreateJoinTokenInput } from '@berth/domain';
import type { JoinTokenModel } from '@berth/db';
import { PRISMA, type PrismaClient } from '../infra/providers.js';

export interface JoinTokenView {
  tokenId: string;
  expiresAt: Date;
  maxUses: number | null;
  uses: number;
  revokedAt: Date | null;
  createdAt: Date;
}

/** Only a hash of a token's secret is stored: a database dump lets nobody join. */
export const hashJoinSecret = (secret: string) => createHash('sha256').update(secret).digest('hex');

const view = (row: JoinTokenModel): JoinTokenView => ({
  tokenId: row.id,
  expiresAt: row.expiresAt,
  maxUses: row.maxUses,
  uses: row.uses,
  revokedAt: row.revokedAt,
  createdAt: row.createdAt,
});

@Injectable()
export class JoinTokensRepository {
  constructor(@Inject(PRISMA) private readonly db: PrismaClient) {}

  /** Creates a token; the answer holds its text, the only time it is shown. */
  async create(
    clusterId: string,
    caHash: string,
    input: CreateJoinTokenInput,
    now = new Date(),
  ): Promise<JoinTokenView & { token: string }> {
    const id = randomBytes(8).toString('hex');
    const secret = randomBytes(16).toString('hex');
    const row = await this.db.joinToken.create({
      data: {
        id,
        clusterId,
        secretHash: hashJoinSecret(secret),
        expiresAt: new Date(now.getTime() + input.ttlSeconds * 1000),
        maxUses: input.maxUses ?? null,
      },
    });
    return { ...view(row), token: formatJoinToken({ id, secret, caHash }) };
  }

  /** By id, `limit` after the id `after`; revoked and expired tokens too, until the cluster goes. */
  async list(clusterId: string, limit: number, after?: string): Promise<JoinTokenView[]> {
    const rows = await this.db.joinToken.findMany({
      where: { clusterId, ...(after ? { id: { gt: after } } : {}) },
      orderBy: { id: 'asc' },
      take: limit,
    });
    return rows.map(view);
  }

  /** Revokes a token at once; hosts that joined with it keep their certificates. */
  async revoke(clusterId: string, id: string, now = new Date()): Promise<JoinTokenView> {
    const found = await this.db.joinToken.findFirst({ where: { clusterId, id } });
    if (!found)
      throw new NotFoundError('JoinTokenNotFoundException', `the cluster has no join token ${id}`, 'tokenId');
    if (found.revokedAt) return view(found);
    return view(await this.db.joinToken.update({ where: { id }, data: { revokedAt: now } }));
  }
}
