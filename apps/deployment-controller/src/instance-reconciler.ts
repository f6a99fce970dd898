import type { Logger } from '@berth/config';
import { planInstanceLiveness, type LivenessSettings } from '@berth/domain';
import type { InstanceStore } from './stores.js';

export interface InstanceEdges {
  placeInCluster(clusterId: string): Promise<void>;
  serviceChanged(serviceId: string): Promise<void>;
}

/**
 * One sweep over instance liveness, judged with the database's clock: disconnect the silent,
 * hold back when most of a cluster went silent at once, replace the lost at a bounded rate.
 */
export class InstanceReconciler {
  constructor(
    private readonly instances: InstanceStore,
    private readonly edges: InstanceEdges,
    private readonly logger: Logger,
    private readonly settings: LivenessSettings,
  ) {}

  async sweep(): Promise<void> {
    const { now, instances } = await this.instances.snapshot();
    const plan = planInstanceLiveness(instances, now, this.settings);
    const byId = new Map(instances.map((i) => [i.id, i]));
    const rows = (ids: string[]) => ids.flatMap((id) => byId.get(id) ?? []);

    for (const id of await this.instances.markDisconnected(rows(plan.disconnect))) {
      this.logger.warn({ instance: id }, 'agent silent: instance marked disconnected');
    }
    await this.instances.observeSilence(rows(plan.observe), now);

    for (const hold of plan.braked) {
      await this.instances.markBrakeHeld(hold.instanceIds, now);
      if (hold.newlyHeld.length === 0) continue;
      this.logger.warn(
        { cluster: hold.clusterId, instances: hold.newlyHeld, silent: hold.silent, of: hold.of },
        'most of the cluster went silent at once: no instance is declared lost and their tasks are kept',
      );
      const services = await this.instances.servicesOn(hold.newlyHeld);
      await this.instances.addServiceEvents(
        services.map((s) => ({
          serviceId: s.id,
          message: `(service ${s.name}) kept its tasks on ${hold.newlyHeld.length} silent container instance(s): ${hold.silent} of ${hold.of} instances of the cluster went silent at once, more likely a control-plane outage than failed hosts.`,
        })),
      );
    }
    if (plan.deferred.length > 0) {
      this.logger.warn({ instances: plan.deferred }, 'instance loss deferred to a later sweep: rate limit');
    }

    // All of this sweep's losses in one transaction, then one hint per service and per cluster:
    // one instance at a time, a rack of 50 took seconds to declare lost.
    const lost = await this.instances.stopTasksOfLostInstances(rows(plan.lose), now);
    for (const l of lost) {
      this.logger.warn(
        { instance: l.instanceId, cluster: l.clusterId, tasks: l.taskIds },
        'instance lost: its tasks are stopped',
      );
    }
    for (const serviceId of new Set(lost.flatMap((l) => l.serviceIds)))
      await this.edges.serviceChanged(serviceId);
    for (const clusterId of new Set(lost.map((l) => l.clusterId))) await this.edges.placeInCluster(clusterId);
  }
}
