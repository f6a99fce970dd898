import { Injectable } from '@nestjs/common';
import {
  nextPageToken,
  parsePage,
  secretNameCursor,
  validatePutSecret,
  validateSecretName,
} from '@berth/domain';
import { ClustersRepository } from '../clusters/clusters.repository.js';
import { SecretsRepository, type SecretMetadata } from './secrets.repository.js';

/** A cluster's secrets: PutSecret, ListSecrets, DescribeSecret, DeleteSecret. Metadata only. */
@Injectable()
export class SecretsService {
  constructor(
    private readonly clusters: ClustersRepository,
    private readonly secrets: SecretsRepository,
  ) {}

  async put(clusterName: string, name: string, body: unknown) {
    validateSecretName(name);
    const input = validatePutSecret(body);
    const cluster = await this.clusters.get(clusterName);
    return { cluster, secret: await this.secrets.put(cluster.id, name, input) };
  }

  /** In name order, paged. */
  async list(clusterName: string, q: { maxResults?: string; nextToken?: string }) {
    const { limit, after } = parsePage(q, secretNameCursor);
    const cluster = await this.clusters.get(clusterName);
    const secrets: SecretMetadata[] = await this.secrets.list(cluster.id, after, limit);
    return { cluster, secrets, nextToken: nextPageToken(secrets, limit, (s) => s.name) };
  }

  async get(clusterName: string, name: string) {
    validateSecretName(name);
    const cluster = await this.clusters.get(clusterName);
    return { cluster, secret: await this.secrets.get(cluster, name) };
  }

  async delete(clusterName: string, name: string) {
    validateSecretName(name);
    const cluster = await this.clusters.get(clusterName);
    return { cluster, secret: await this.secrets.delete(cluster, name) };
  }
}
