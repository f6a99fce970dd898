import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import {
  formatJoinToken,
  joinTokenRefusal,
  NotFoundError,
  type CreateJoinTokenInput,
  type JoinToken,
} from '@berth/domain';
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

  /**
   * Whether a token may join a host to `clusterName` now. Whoever does not hold the secret learns
   * nothing, not even whether the id exists.
   */
  async check(token: JoinToken, clusterName: string, now = new Date()): Promise<string | undefined> {
    const row = await this.db.joinToken.findUnique({
      where: { id: token.id },
      include: { cluster: { select: { name: true } } },
    });
    const given = Buffer.from(hashJoinSecret(token.secret), 'hex');
    if (!row || !timingSafeEqual(Buffer.from(row.secretHash, 'hex'), given))
      return 'the join token is not valid';
    if (row.cluster.name !== clusterName)
      return `cluster: the join token is for another cluster than ${clusterName}`;
    return joinTokenRefusal(row, now);
  }

  /** Spends one use; the guarded update keeps maxUses exact when several hosts join at once. */
  async spend(id: string, now = new Date()): Promise<boolean> {
    const spent = await this.db.$executeRaw`
      UPDATE join_token SET uses = uses + 1
       WHERE id = ${id} AND revoked_at IS NULL AND expires_at > ${now}
         AND (max_uses IS NULL OR uses < max_uses)`;
    return spent === 1;
  }
}
