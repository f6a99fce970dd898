import type { Logger } from '@berth/config';
import { planService, type ServiceAction } from '@berth/domain';
import type { ServiceStore } from './stores.js';

export interface ServiceEdges {
  placeInCluster(clusterId: string): Promise<void>;
  tellAgent(containerInstanceId: string, taskIds: string[]): Promise<void>;
  /** Told after a plan that failed a rollout on the circuit breaker has committed (metrics). */
  circuitBreakerTripped?(rollback: boolean): void;
}

/**
 * Level-triggered: reads the service as it is now (under its row lock), plans with the pure
 * planner, applies the plan in the same transaction, then hints the scheduler and the agents.
 */
export class ServiceReconciler {
  constructor(
    private readonly services: ServiceStore,
    private readonly edges: ServiceEdges,
    private readonly logger: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Every live service, in place of the hints that were lost. */
  async sweep(): Promise<void> {
    for (const id of await this.services.liveServiceIds()) await this.reconcile(id);
  }

  async reconcile(serviceId: string): Promise<void> {
    let planned: ServiceAction[] = [];
    const applied = await this.services.applyPlan(serviceId, (snapshot) => {
      const actions = planService(
        snapshot.spec,
        snapshot.deployments,
        snapshot.tasks,
        this.now(),
        snapshot.instances,
      );
      if (actions.length > 0) {
        this.logger.info(
          { service: snapshot.name, cluster: snapshot.clusterId, actions: actions.map((a) => a.type) },
          'reconciling service',
        );
      }
      planned = actions;
      return actions;
    });
    if (!applied) return;
    if (planned.some((a) => a.type === 'updateDeployment' && a.rolloutState === 'FAILED'))
      this.edges.circuitBreakerTripped?.(planned.some((a) => a.type === 'createDeployment'));
    if (applied.startedTaskIds.length) await this.edges.placeInCluster(applied.clusterId);
    for (const [instanceId, taskIds] of applied.stoppedByInstance)
      await this.edges.tellAgent(instanceId, taskIds);
  }
}
