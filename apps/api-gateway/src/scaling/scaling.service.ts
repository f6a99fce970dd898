import { Inject, Injectable } from '@nestjs/common';
import {
  arns,
  nextScheduledFiring,
  parseStatus,
  readStoredFirings,
  readStoredPolicies,
  readStoredScheduledActions,
  validateScalingConfiguration,
  type ArnContext,
} from '@berth/domain';
import { ARN_CONTEXT } from '../http/arn-context.js';
import { ClustersRepository } from '../clusters/clusters.repository.js';
import { ServicesRepository } from '../services/services.repository.js';
import { ScalingRepository } from './scaling.repository.js';

/**
 * A service's auto scaling (docs/autoscaling.md): its scalable target and target tracking
 * policies, as Application Auto Scaling's RegisterScalableTarget and PutScalingPolicy set them.
 * The deployment-controller acts on them.
 */
@Injectable()
export class ScalingService {
  constructor(
    private readonly clusters: ClustersRepository,
    private readonly services: ServicesRepository,
    private readonly scaling: ScalingRepository,
    @Inject(ARN_CONTEXT) private readonly ctx: ArnContext,
  ) {}

  async put(clusterName: string, serviceName: string, body: unknown) {
    const { cluster, service } = await this.service(clusterName, serviceName);
    const config = validateScalingConfiguration(body, {
      schedulingStrategy: parseStatus.schedulingStrategy(service.schedulingStrategy),
      loadBalanced: service.loadBalancers.length > 0,
    });
    const row = await this.scaling.put(service.id, service.name, config);
    return this.view(cluster.name, service.name, row);
  }

  async get(clusterName: string, serviceName: string) {
    const { cluster, service } = await this.service(clusterName, serviceName);
    return this.view(cluster.name, service.name, await this.scaling.get(service.id, service.name));
  }

  async delete(clusterName: string, serviceName: string) {
    const { cluster, service } = await this.service(clusterName, serviceName);
    return this.view(cluster.name, service.name, await this.scaling.delete(service.id, service.name));
  }

  private async service(clusterName: string, serviceName: string) {
    const cluster = await this.clusters.get(clusterName);
    return { cluster, service: await this.services.get(cluster.id, serviceName) };
  }

  private view(
    cluster: string,
    service: string,
    row: {
      serviceId: string;
      minCapacity: number;
      maxCapacity: number;
      policies: unknown;
      lastScaleOutAt: Date | null;
      lastScaleInAt: Date | null;
      scheduledActions: unknown;
      scheduledActionsFired: unknown;
    },
  ) {
    const fired = readStoredFirings(row.scheduledActionsFired, row.serviceId);
    return {
      serviceArn: arns.service(this.ctx, cluster, service),
      minCapacity: row.minCapacity,
      maxCapacity: row.maxCapacity,
      targetTrackingPolicies: readStoredPolicies(row.policies, row.serviceId),
      scheduledActions: readStoredScheduledActions(row.scheduledActions, row.serviceId).map((a) => ({
        scheduledActionName: a.scheduledActionName,
        schedule: a.schedule,
        timezone: a.timezone,
        startTime: a.startTime?.toISOString() ?? null,
        endTime: a.endTime?.toISOString() ?? null,
        scalableTargetAction: a.scalableTargetAction,
        creationTime: a.creationTime.toISOString(),
        nextFiringTime: nextScheduledFiring(a, fired[a.scheduledActionName])?.toISOString() ?? null,
        lastFiringTime: fired[a.scheduledActionName]?.toISOString() ?? null,
      })),
      lastScaleOutAt: row.lastScaleOutAt?.toISOString() ?? null,
      lastScaleInAt: row.lastScaleInAt?.toISOString() ?? null,
    };
  }
}
