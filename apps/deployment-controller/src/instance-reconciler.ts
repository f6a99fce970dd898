import type { Logger } from '@berth/config';
import type { InstancesRepository } from './instances.repository.js';

export interface InstanceEdges {
  placeInCluster(clusterId: string): Promise<void>;
  serviceChanged(serviceId: string): Promise<void>;
}

/** One sweep over instance liveness: disconnect the silent, then replace the lost. */
export class InstanceReconciler {
  constructor(
    private readonly instances: InstancesRepository,
    private readonly edges: InstanceEdges,
    private readonly logger: Logger,
    private readonly timing: { heartbeatTimeoutMs: number; lostAfterMs: number },
    private readonly now: () => Date = () => new Date(),
  ) {}

  async sweep(): Promise<void> {
    const now = this.now();
    for (const id of await this.instances.markSilentDisconnected(now, this.timing.heartbeatTimeoutMs)) {
      this.logger.warn({ instance: id }, 'agent silent: instance marked disconnected');
    }
    for (const id of await this.instances.lostWithTasks(now, this.timing.lostAfterMs)) {
      const lost = await this.instances.stopTasksOfLostInstance(id, now, this.timing.lostAfterMs);
      if (!lost) continue;
      this.logger.warn(
        { instance: id, cluster: lost.clusterId, tasks: lost.taskIds },
        'instance lost: its tasks are stopped',
      );
      for (const serviceId of lost.serviceIds) await this.edges.serviceChanged(serviceId);
      await this.edges.placeInCluster(lost.clusterId);
    }
  }
}
