import type { Logger } from '@berth/config';
import { decideScaling, scalingReadings, type ScalingWindows } from '@berth/domain';
import type { ScalingStore } from './stores.js';

export interface AutoscalerEdges {
  /** Told after a scaling committed: the service's reconcile starts or stops the tasks. */
  serviceChanged(serviceId: string): Promise<void>;
}

/**
 * Service auto scaling, level-triggered: each sweep reads every scalable service and its tasks'
 * samples, decides with the pure decideScaling, and applies the decision only if the service is
 * still as read (two controllers: one wins, the other's decision is dropped and made again on
 * fresh data at the next sweep).
 */
export class Autoscaler {
  constructor(
    private readonly scaling: ScalingStore,
    private readonly edges: AutoscalerEdges,
    private readonly logger: Logger,
    private readonly windows: ScalingWindows,
  ) {}

  async sweep(): Promise<void> {
    for (const id of await this.scaling.scalableServiceIds()) await this.evaluate(id);
  }

  async evaluate(serviceId: string): Promise<void> {
    const seen = await this.scaling.read(
      serviceId,
      Math.max(this.windows.scaleOutSeconds, this.windows.scaleInSeconds),
    );
    if (!seen) return;
    const decision = decideScaling({
      ...seen,
      readings: scalingReadings(seen.tasks, seen.now, this.windows),
    });
    if (!decision || !(await this.scaling.scale(seen, decision))) return;
    this.logger.info({ service: seen.serviceName, desiredCount: decision.desiredCount }, decision.message);
    await this.edges.serviceChanged(serviceId);
  }
}
