import { Inject, Injectable } from '@nestjs/common';
import { parseResourceId, validateUpdateContainerInstance } from '@berth/domain';
import { publishAgentCommand, type Hints } from '@berth/queues';
import { ClustersRepository } from '../clusters/clusters.repository.js';
import { CONFIG, type GatewayConfig } from '../config.js';
import { HINTS, LOGGER, REDIS, type Logger, type Redis } from '../infra/providers.js';
import { ContainerInstancesRepository } from './container-instances.repository.js';

/** Draining and deregistration; the services, the scheduler and the agent do the rest. */
@Injectable()
export class ContainerInstancesService {
  constructor(
    private readonly clusters: ClustersRepository,
    private readonly instances: ContainerInstancesRepository,
    @Inject(HINTS) private readonly hints: Hints,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(CONFIG) private readonly config: GatewayConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async setStatus(clusterName: string, idOrArn: string, body: unknown) {
    const { status } = validateUpdateContainerInstance(body);
    const cluster = await this.clusters.get(clusterName);
    const id = parseResourceId(idOrArn, 'containerInstance', 'container-instance');
    const services = await this.instances.setStatus(cluster.id, id, status);
    await this.nudge(cluster.id, services);
    this.logger.info({ cluster: cluster.name, instance: id, status }, 'container instance status changed');
    return { cluster, instance: await this.instances.get(cluster.id, id) };
  }

  async deregister(clusterName: string, idOrArn: string, force: boolean) {
    const cluster = await this.clusters.get(clusterName);
    const id = parseResourceId(idOrArn, 'containerInstance', 'container-instance');
    const { stopped, services } = await this.instances.deregister(cluster.id, id, force);
    if (stopped.length) {
      await publishAgentCommand(this.redis, this.config.BERTH_REDIS_PREFIX, {
        containerInstanceId: id,
        taskIds: stopped,
      }).catch((err: unknown) =>
        this.logger.warn({ err, instance: id }, 'could not tell the agent; its next connect will'),
      );
    }
    await this.nudge(cluster.id, services);
    this.logger.info(
      { cluster: cluster.name, instance: id, stopped: stopped.length },
      'container instance deregistered',
    );
    return { cluster, instance: await this.instances.get(cluster.id, id) };
  }

  /** Hints are only hints: the sweeps cover a lost one. */
  private async nudge(clusterId: string, services: string[]) {
    try {
      for (const s of services) await this.hints.serviceChanged(s);
      await this.hints.placeInCluster(clusterId);
    } catch (err) {
      this.logger.warn({ err, clusterId }, 'could not enqueue hints; the sweeps will pick the change up');
    }
  }
}
