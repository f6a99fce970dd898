import type { Logger } from '@berth/config';
import {
  applyScheduledActions,
  decideScaling,
  dueScheduledActions,
  scalingReadings,
  type ScalingWindows,
} from '@berth/domain';
import type { ScalingStore } from './stores.js';

export interface AutoscalerEdges {
  /** Told after a scaling committed: the service's reconcile starts or stops the tasks. */
  serviceChanged(serviceId: string): Promise<void>;
}

/**
 * Service auto scaling, level-triggered: each sweep reads every scalable service and its tasks'
 * samples, applies the scheduled actions that dueScheduledActions finds due (from the last firing
 * of each stored in Postgres), or else decides with the pure decideScaling, and applies the decision only if the service is
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
    // Scheduled actions first: target tracking then decides within the bounds they set, next sweep.
    const due = dueScheduledActions(seen.scheduledActions, seen.scheduledActionsFired, seen.now);
    if (due.length > 0) {
      const change = applyScheduledActions(seen, due);
      if (!(await this.scaling.applyScheduled(seen, due, change))) return;
      for (const message of change.messages) this.logger.info({ service: seen.serviceName }, message);
      if (change.desiredCount !== seen.desiredCount) await this.edges.serviceChanged(serviceId);
      return;
    }
    const decision = decideScaling({
      ...seen,
      readings: scalingReadings(seen.tasks, seen.now, this.windows, seen.requests),
    });
    if (!decision || !(await this.scaling.scale(seen, decision))) return;
    this.logger.info({ service: seen.serviceName, desiredCount: decision.desiredCount }, decision.message);
    await this.edges.serviceChanged(serviceId);
  }
}
