import { randomInt } from 'node:crypto';
import type { Logger } from '@berth/config';
import { planPlacements, seededRandom } from '@berth/scheduler-core';
import type { PlacementRepository } from './placement.repository.js';

export interface PassResult {
  placed: number;
  unplaced: number;
  conflicts: number;
}

/** Told which instances got which tasks, so their agents start them at once. */
export type NotifyAgents = (byInstance: Map<string, string[]>) => Promise<void>;

const MAX_REPLANS = 5;

/**
 * Places a cluster's waiting tasks: snapshot, plan with the pure core, commit each placement with
 * a guarded transaction. A commit that lost a race to another scheduler re-plans from a fresh
 * snapshot; nothing is ever half-applied.
 */
export class PlacementService {
  constructor(
    private readonly repo: PlacementRepository,
    private readonly notifyAgents: NotifyAgents,
    private readonly logger: Logger,
    private readonly batch: number,
  ) {}

  async placeCluster(clusterId: string): Promise<PassResult> {
    const total: PassResult = { placed: 0, unplaced: 0, conflicts: 0 };
    for (let pass = 0; pass <= MAX_REPLANS; pass++) {
      const result = await this.pass(clusterId);
      total.placed += result.placed;
      total.conflicts += result.conflicts;
      total.unplaced = result.unplaced;
      if (result.conflicts === 0) break;
    }
    if (total.placed || total.unplaced || total.conflicts) {
      this.logger.info({ cluster: clusterId, ...total }, 'placement pass');
    }
    return total;
  }

  private async pass(clusterId: string): Promise<PassResult> {
    const tasks = await this.repo.waitingTasks(clusterId, this.batch);
    if (tasks.length === 0) return { placed: 0, unplaced: 0, conflicts: 0 };
    const instances = await this.repo.instances(clusterId);
    const plan = planPlacements(instances, tasks, seededRandom(randomInt(2 ** 31)));

    const byInstance = new Map<string, string[]>();
    let conflicts = 0;
    for (const p of plan.placements) {
      const task = tasks.find((t) => t.id === p.taskId)!;
      const outcome = await this.repo.commit(task, p.instanceId);
      if (outcome === 'placed') {
        byInstance.set(p.instanceId, [...(byInstance.get(p.instanceId) ?? []), task.id]);
        this.logger.debug({ cluster: clusterId, task: task.id, instance: p.instanceId }, 'task placed');
      } else if (outcome === 'conflict') {
        conflicts++;
      }
    }
    for (const u of plan.unplaced) {
      const task = tasks.find((t) => t.id === u.taskId)!;
      if (task.provisioningReason !== u.reason)
        await this.repo.recordUnplaced(u.taskId, task.serviceId, u.reason);
    }
    if (byInstance.size) await this.notifyAgents(byInstance);
    const placed = [...byInstance.values()].reduce((n, ids) => n + ids.length, 0);
    return { placed, unplaced: plan.unplaced.length, conflicts };
  }
}
