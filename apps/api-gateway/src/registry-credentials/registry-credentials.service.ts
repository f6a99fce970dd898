import { Injectable } from '@nestjs/common';
import {
  cursors,
  nextPageToken,
  parsePage,
  validateRegistry,
  validateRegistryCredential,
} from '@berth/domain';
import { ClustersRepository } from '../clusters/clusters.repository.js';
import { RegistryCredentialsRepository } from './registry-credentials.repository.js';

/** The credentials a cluster's agents pull private images with, one set per registry host. */
@Injectable()
export class RegistryCredentialsService {
  constructor(
    private readonly clusters: ClustersRepository,
    private readonly credentials: RegistryCredentialsRepository,
  ) {}

  async put(clusterName: string, registry: string, body: unknown) {
    const host = validateRegistry(registry);
    const input = validateRegistryCredential(body);
    const cluster = await this.clusters.get(clusterName);
    return this.credentials.put(cluster.id, host, input);
  }

  /** By registry name, paged; never the passwords. */
  async list(clusterName: string, q: { maxResults?: string; nextToken?: string }) {
    const { limit, after } = parsePage(q, cursors.name);
    const cluster = await this.clusters.get(clusterName);
    const registryCredentials = await this.credentials.list(cluster.id, limit, after);
    return { registryCredentials, nextToken: nextPageToken(registryCredentials, limit, (c) => c.registry) };
  }

  async delete(clusterName: string, registry: string) {
    const cluster = await this.clusters.get(clusterName);
    return this.credentials.delete(cluster.id, validateRegistry(registry));
  }
}
