import { Inject, Injectable } from '@nestjs/common';
import { NotFoundError, type OpenedSecret, type PutSecretInput } from '@berth/domain';
import type { SecretModel } from '@berth/db';
import { LOGGER, PRISMA, type Logger, type PrismaClient } from '../infra/providers.js';
import { KEY_RING, type KeyRing } from '../crypto/key-ring.js';
import { sealContexts } from '../crypto/seal-contexts.js';

/** A secret as the API shows it: never its value. */
export type SecretMetadata = Pick<SecretModel, 'name' | 'description' | 'createdAt' | 'updatedAt'>;

const METADATA = { name: true, description: true, createdAt: true, updatedAt: true } as const;

const notFound = (name: string, cluster: string) =>
  new NotFoundError(
    'ResourceNotFoundException',
    `secret ${name} does not exist in cluster ${cluster}`,
    'name',
  );

/** A cluster's secrets, sealed at rest; values are opened only into the task specs sent to agents. */
@Injectable()
export class SecretsRepository {
  constructor(
    @Inject(PRISMA) private readonly db: PrismaClient,
    @Inject(KEY_RING) private readonly keys: KeyRing,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Creates the secret, or replaces its value and description. */
  async put(clusterId: string, name: string, input: PutSecretInput): Promise<SecretMetadata> {
    const { keyId: sealKeyId, sealed: sealedValue } = this.keys.seal(
      input.value,
      sealContexts.secret(clusterId, name),
    );
    const description = input.description ?? null;
    return this.db.secret.upsert({
      where: { clusterId_name: { clusterId, name } },
      create: { clusterId, name, description, sealedValue, sealKeyId },
      update: { description, sealedValue, sealKeyId },
      select: METADATA,
    });
  }

  /** In name order, `limit` at a time, after `afterName`. */
  async list(clusterId: string, afterName: string | undefined, limit: number): Promise<SecretMetadata[]> {
    return this.db.secret.findMany({
      where: { clusterId, ...(afterName === undefined ? {} : { name: { gt: afterName } }) },
      orderBy: { name: 'asc' },
      take: limit,
      select: METADATA,
    });
  }

  async get(cluster: { id: string; name: string }, name: string): Promise<SecretMetadata> {
    const found = await this.db.secret.findFirst({
      where: { clusterId: cluster.id, name },
      select: METADATA,
    });
    if (!found) throw notFound(name, cluster.name);
    return found;
  }

  async delete(cluster: { id: string; name: string }, name: string): Promise<SecretMetadata> {
    const found = await this.get(cluster, name);
    // deleteMany: a concurrent delete of the same secret is not an error.
    await this.db.secret.deleteMany({ where: { clusterId: cluster.id, name } });
    return found;
  }

  /**
   * Opens the named secrets of each cluster, for tasks about to be launched. A value that does
   * not open is logged (never the value) and comes back as an error for the task's stop reason.
   */
  async openForLaunch(
    wanted: ReadonlyMap<string, ReadonlySet<string>>,
  ): Promise<Map<string, Map<string, OpenedSecret>>> {
    const out = new Map<string, Map<string, OpenedSecret>>();
    const where = [...wanted]
      .filter(([, names]) => names.size)
      .map(([clusterId, names]) => ({ clusterId, name: { in: [...names] } }));
    if (!where.length) return out;
    for (const row of await this.db.secret.findMany({ where: { OR: where } })) {
      let opened: OpenedSecret;
      try {
        opened = {
          value: this.keys.open(
            { keyId: row.sealKeyId, sealed: row.sealedValue },
            sealContexts.secret(row.clusterId, row.name),
          ),
        };
      } catch (err) {
        this.logger.error(
          { err, cluster: row.clusterId, secret: row.name, sealKeyId: row.sealKeyId },
          'a stored secret does not open with BERTH_MASTER_KEYS; tasks that use it cannot start',
        );
        opened = { error: 'does not open with the master keys (BERTH_MASTER_KEYS)' };
      }
      let byName = out.get(row.clusterId);
      if (!byName) out.set(row.clusterId, (byName = new Map()));
      byName.set(row.name, opened);
    }
    return out;
  }
}
