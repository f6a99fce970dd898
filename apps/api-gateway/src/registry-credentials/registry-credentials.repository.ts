import { Inject, Injectable } from '@nestjs/common';
import { NotFoundError, type RegistryCredentialInput } from '@berth/domain';
import { sqlOf, statement, type RegistryCredentialModel } from '@berth/db';
import { LOGGER, PRISMA, type Logger, type PrismaClient } from '../infra/providers.js';
import { KEY_RING, type KeyRing } from '../crypto/key-ring.js';
import { sealContexts } from '../crypto/seal-contexts.js';

export type RegistryCredentialView = Pick<
  RegistryCredentialModel,
  'registry' | 'username' | 'createdAt' | 'updatedAt'
>;

/** Opened credentials by cluster id, then by registry host. */
export type PullCredentials = Map<string, Map<string, { username: string; password: string }>>;

const VIEW = { registry: true, username: true, createdAt: true, updatedAt: true } as const;

type StoredCredential = Pick<
  RegistryCredentialModel,
  'clusterId' | 'registry' | 'username' | 'sealedPassword' | 'sealKeyId'
>;
const CREDENTIALS_OF_CLUSTERS = statement(
  'registry_credentials_of_clusters',
  `SELECT cluster_id AS "clusterId", registry, username, sealed_password AS "sealedPassword",
          seal_key_id AS "sealKeyId"
     FROM registry_credential WHERE cluster_id = ANY($1::uuid[])`,
);

@Injectable()
export class RegistryCredentialsRepository {
  constructor(
    @Inject(PRISMA) private readonly db: PrismaClient,
    @Inject(KEY_RING) private readonly keys: KeyRing,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async put(
    clusterId: string,
    registry: string,
    input: RegistryCredentialInput,
  ): Promise<RegistryCredentialView> {
    const { keyId: sealKeyId, sealed: sealedPassword } = this.keys.seal(
      input.password,
      sealContexts.registryCredential(clusterId, registry),
    );
    return this.db.registryCredential.upsert({
      where: { clusterId_registry: { clusterId, registry } },
      create: { clusterId, registry, username: input.username, sealedPassword, sealKeyId },
      update: { username: input.username, sealedPassword, sealKeyId },
      select: VIEW,
    });
  }

  /** By registry, `limit` after the registry `after`. */
  async list(clusterId: string, limit: number, after?: string): Promise<RegistryCredentialView[]> {
    return this.db.registryCredential.findMany({
      where: { clusterId, ...(after ? { registry: { gt: after } } : {}) },
      orderBy: { registry: 'asc' },
      select: VIEW,
      take: limit,
    });
  }

  async delete(clusterId: string, registry: string): Promise<RegistryCredentialView> {
    const where = { clusterId, registry };
    const found = await this.db.registryCredential.findFirst({ where, select: VIEW });
    if (!found)
      throw new NotFoundError(
        'RegistryCredentialNotFoundException',
        `the cluster holds no credentials for registry ${registry}`,
        'registry',
      );
    // deleteMany: a concurrent delete of the same credentials is not an error.
    await this.db.registryCredential.deleteMany({ where });
    return found;
  }

  /**
   * The opened credentials of these clusters, for task specs sent to agents. A value that does
   * not open (the key changed) is logged and left out: the pull then fails with a clear reason.
   */
  async forClusters(clusterIds: readonly string[]): Promise<PullCredentials> {
    const out: PullCredentials = new Map();
    if (!clusterIds.length) return out;
    // Read for every batch of tasks sent to agents: plain SQL (see @berth/db's sql.ts).
    const rows = await sqlOf(this.db).rows<StoredCredential>(CREDENTIALS_OF_CLUSTERS, [clusterIds]);
    for (const row of rows) {
      try {
        const password = this.keys.open(
          { keyId: row.sealKeyId, sealed: row.sealedPassword },
          sealContexts.registryCredential(row.clusterId, row.registry),
        );
        let byRegistry = out.get(row.clusterId);
        if (!byRegistry) out.set(row.clusterId, (byRegistry = new Map()));
        byRegistry.set(row.registry, { username: row.username, password });
      } catch (err) {
        this.logger.error(
          { err, cluster: row.clusterId, registry: row.registry },
          'stored registry credentials do not open with BERTH_MASTER_KEYS; pulling without them',
        );
      }
    }
    return out;
  }
}
