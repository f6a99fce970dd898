import { Injectable } from '@nestjs/common';
import type { ClusterModel } from '@berth/db';
import {
  cursors,
  nextPageToken,
  parsePage,
  parseTags,
  validateContainerPolicy,
  validateCreateCluster,
  validateUpdateCluster,
  validateUpdateClusterSettings,
} from '@berth/domain';
import type { ClusterCounts } from '../http/views.js';
import { splitFound, validName } from '../http/describe.js';
import { ClustersRepository } from './clusters.repository.js';

export interface ClusterWithCounts {
  cluster: ClusterModel;
  counts: ClusterCounts;
}

const NO_COUNTS: ClusterCounts = {
  registeredContainerInstancesCount: 0,
  runningTasksCount: 0,
  pendingTasksCount: 0,
  activeServicesCount: 0,
};

/** CreateCluster, DescribeClusters, ListClusters, UpdateClusterSettings, DeleteCluster: for REST and ECS alike. */
@Injectable()
export class ClustersService {
  constructor(private readonly clusters: ClustersRepository) {}

  /** Idempotent, as in ECS: creating an existing cluster returns it. */
  async create(body: unknown): Promise<ClusterWithCounts> {
    const { clusterName, settings, configuration } = validateCreateCluster(body);
    const tags = parseTags((body as { tags?: unknown } | null)?.tags);
    return this.withCounts(await this.clusters.create(clusterName, { tags, settings, configuration }));
  }

  async list(q: { maxResults?: string; nextToken?: string }) {
    const { limit, after } = parsePage(q, cursors.name);
    const clusters = await this.clusters.list(limit, after);
    const counts = await this.clusters.counts(clusters.map((c) => c.id));
    return {
      clusters: clusters.map((cluster) => ({ cluster, counts: counts.get(cluster.id)! })),
      nextToken: nextPageToken(clusters, limit, (c) => c.name),
    };
  }

  async get(name: string): Promise<ClusterWithCounts> {
    return this.withCounts(await this.clusters.get(name));
  }

  /**
   * Several clusters by name or ARN, as DescribeClusters takes them: those found, in the order
   * asked, and the references that name no cluster.
   */
  async describe(refs: readonly string[]): Promise<{ found: ClusterWithCounts[]; missing: string[] }> {
    const names = new Map(refs.map((ref) => [ref, validName(ref, 'cluster')]));
    const rows = await this.clusters.findByNames([...names.values()].filter((n) => n !== undefined));
    const counts = await this.clusters.counts(rows.map((c) => c.id));
    const byName = new Map(
      rows.map((cluster) => [cluster.name, { cluster, counts: counts.get(cluster.id)! }]),
    );
    return splitFound(names, byName);
  }

  /** Settings are kept and not acted on (containerInsights). */
  async updateSettings(name: string, body: unknown): Promise<ClusterWithCounts> {
    const { settings } = validateUpdateClusterSettings(body);
    return this.withCounts(await this.clusters.update(name, { settings }));
  }

  /** UpdateCluster: `settings` and `configuration` are kept as sent and not acted on. */
  async update(name: string, body: unknown): Promise<ClusterWithCounts> {
    return this.withCounts(await this.clusters.update(name, validateUpdateCluster(body)));
  }

  /** The cluster's container policy (docs/container-policy.md). */
  policy(name: string): Promise<ClusterModel> {
    return this.clusters.get(name);
  }

  /** Replaces the container policy: new tasks are checked against it, running ones carry on. */
  putPolicy(name: string, body: unknown): Promise<ClusterModel> {
    return this.clusters.putPolicy(name, validateContainerPolicy(body));
  }

  /** The deleted cluster, INACTIVE, with nothing left in it. */
  async delete(name: string): Promise<ClusterWithCounts> {
    return { cluster: await this.clusters.delete(name), counts: NO_COUNTS };
  }

  private async withCounts(cluster: ClusterModel): Promise<ClusterWithCounts> {
    const counts = await this.clusters.counts([cluster.id]);
    return { cluster, counts: counts.get(cluster.id)! };
  }
}
