import type { Logger } from '@berth/config';
import type { TargetStore } from './stores.js';
import type { TellAgent } from './task-reconciler.js';

/**
 * Load-balancer targets (docs/load-balancing.md): registers RUNNING service tasks, ends drains,
 * and tells the agents of drained tasks to stop them. Level-triggered, run by a periodic sweep.
 */
export class TargetReconciler {
  constructor(
    private readonly targets: TargetStore,
    private readonly edges: { tellAgent: TellAgent; serviceChanged: (serviceId: string) => Promise<void> },
    private readonly logger: Logger,
  ) {}

  async sweep(): Promise<void> {
    const { stopByInstance, serviceIds } = await this.targets.sweep();
    for (const [instanceId, taskIds] of stopByInstance) {
      this.logger.info({ instance: instanceId, tasks: taskIds }, 'drain ended: stopping tasks');
      await this.edges.tellAgent(instanceId, taskIds);
    }
    for (const id of serviceIds) await this.edges.serviceChanged(id);
  }
}
