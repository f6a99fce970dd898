import { Inject, Injectable } from '@nestjs/common';
import {
  arns,
  parseResourceId,
  parseStatsWindow,
  readStoredContainerStats,
  serviceUtilization,
  taskUtilization,
  type ArnContext,
} from '@berth/domain';
import { ARN_CONTEXT } from '../http/arn-context.js';
import { ClustersRepository } from '../clusters/clusters.repository.js';
import { ServicesRepository } from '../services/services.repository.js';
import { StatsRepository } from './stats.repository.js';

/**
 * A task's latest resource use and a service's average utilisation, from the samples agents
 * report (docs/observability.md). Auto scaling will read `serviceUtilization` the same way.
 */
@Injectable()
export class StatsService {
  constructor(
    private readonly clusters: ClustersRepository,
    private readonly services: ServicesRepository,
    private readonly stats: StatsRepository,
    @Inject(ARN_CONTEXT) private readonly ctx: ArnContext,
  ) {}

  async task(clusterName: string, taskRef: string) {
    const cluster = await this.clusters.get(clusterName);
    const task = await this.stats.task(cluster.id, parseResourceId(taskRef, 'task', 'task'));
    const latest = task.latest;
    return {
      taskArn: arns.task(this.ctx, cluster.name, task.id),
      lastStatus: task.lastStatus,
      cpu: task.cpu,
      memory: task.memory,
      sampledAt: latest?.sampledAt.toISOString() ?? null,
      cpuUnits: latest?.cpuUnits ?? null,
      memoryBytes: latest?.memoryBytes ?? null,
      ...(latest ? taskUtilization(task, latest) : { cpuUtilization: null, memoryUtilization: null }),
      containers: readStoredContainerStats(latest?.containers),
    };
  }

  async service(clusterName: string, serviceName: string, windowSeconds: string | undefined) {
    const window = parseStatsWindow(windowSeconds);
    const cluster = await this.clusters.get(clusterName);
    const service = await this.services.get(cluster.id, serviceName);
    const { now, tasks } = await this.stats.serviceSamples(service.id, window);
    const from = new Date(now.getTime() - window * 1000);
    return {
      serviceArn: arns.service(this.ctx, cluster.name, service.name),
      windowSeconds: window,
      runningTasks: tasks.length,
      ...serviceUtilization(tasks, { from, to: now }),
    };
  }
}
