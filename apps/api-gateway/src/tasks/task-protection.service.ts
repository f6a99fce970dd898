import { Inject, Injectable } from '@nestjs/common';
import {
  arns,
  protectedTaskView,
  validateGetTaskProtection,
  validateUpdateTaskProtection,
  type ArnContext,
} from '@berth/domain';
import { ARN_CONTEXT } from '../http/arn-context.js';
import { validId } from '../http/describe.js';
import { ClustersRepository } from '../clusters/clusters.repository.js';
import { TaskProtectionRepository, type TaskProtectionRow } from './task-protection.repository.js';

export interface TaskProtectionFailure {
  arn: string;
  reason: 'MISSING' | 'TASK_NOT_VALID';
  detail?: string;
}

export interface TaskProtectionResult {
  protectedTasks: ReturnType<typeof protectedTaskView>[];
  failures: TaskProtectionFailure[];
}

/**
 * UpdateTaskProtection and GetTaskProtection, for the REST routes and the ECS protocol alike. A
 * protected service task is never chosen for scale-in nor replaced by a deployment until the
 * protection expires: the deployment-controller's planner reads the same column. Only a service's
 * tasks can be protected (ECS's TASK_NOT_VALID otherwise); unknown ones are MISSING.
 */
@Injectable()
export class TaskProtectionService {
  constructor(
    private readonly clusters: ClustersRepository,
    private readonly protection: TaskProtectionRepository,
    @Inject(ARN_CONTEXT) private readonly ctx: ArnContext,
  ) {}

  async update(clusterName: string, body: unknown, now = new Date()): Promise<TaskProtectionResult> {
    const change = validateUpdateTaskProtection(body, now);
    const cluster = await this.clusters.get(clusterName);
    const { rows, failures } = await this.resolve(cluster.id, cluster.name, change.tasks);
    const ids = rows.map((r) => r.id);
    await this.protection.setProtection(cluster.id, ids, change.protectedUntil);
    return {
      protectedTasks: rows.map((r) =>
        protectedTaskView(arns.task(this.ctx, cluster.name, r.id), change.protectedUntil, now),
      ),
      failures,
    };
  }

  /** The tasks asked for, or without a list every live service task of the cluster that is protected. */
  async get(clusterName: string, input: unknown, now = new Date()): Promise<TaskProtectionResult> {
    const { tasks } = validateGetTaskProtection(input);
    const cluster = await this.clusters.get(clusterName);
    const { rows, failures } = tasks
      ? await this.resolve(cluster.id, cluster.name, tasks)
      : { rows: await this.protection.protectedAfter(cluster.id, now), failures: [] };
    return {
      protectedTasks: rows.map((r) =>
        protectedTaskView(arns.task(this.ctx, cluster.name, r.id), r.protectedUntil, now),
      ),
      failures,
    };
  }

  /** The service tasks the references name, in the order asked, and a failure for each other one. */
  private async resolve(
    clusterId: string,
    clusterName: string,
    refs: readonly string[],
  ): Promise<{ rows: TaskProtectionRow[]; failures: TaskProtectionFailure[] }> {
    const ids = new Map(refs.map((ref) => [ref, validId(ref, 'task')]));
    const found = await this.protection.find(
      clusterId,
      [...ids.values()].filter((id) => id !== undefined),
    );
    const byId = new Map(found.map((r) => [r.id, r]));
    const rows: TaskProtectionRow[] = [];
    const failures: TaskProtectionFailure[] = [];
    const seen = new Set<string>();
    for (const [ref, id] of ids) {
      const row = id === undefined ? undefined : byId.get(id);
      const arn = id === undefined ? ref : arns.task(this.ctx, clusterName, id);
      if (!row) failures.push({ arn, reason: 'MISSING' });
      else if (!row.serviceId)
        failures.push({ arn, reason: 'TASK_NOT_VALID', detail: 'The task is not part of a service' });
      else if (!seen.has(row.id)) {
        seen.add(row.id);
        rows.push(row);
      }
    }
    return { rows, failures };
  }
}
