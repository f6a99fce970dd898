import { randomInt } from 'node:crypto';
import type { Logger } from '@berth/config';
import { planPlacements, seededRandom, type Partition } from '@berth/scheduler-core';
import { secondsSince } from '@berth/metrics';
import type { PlacementRepository } from './placement.repository.js';
import { SchedulerMetrics } from './metrics.js';

export interface PassResult {
  placed: number;
  unplaced: number;
  conflicts: number;
}

/** Told which instances got which tasks, so their agents start them at once. */
export type NotifyAgents = (byInstance: Map<string, string[]>) => Promise<void>;

/** Splits a cluster's backlog into this many partition jobs (Hints.placePartitions). */
export interface Splitting {
  partitions: number;
  split: (clusterId: string, partitions: number) => Promise<void>;
}

const MAX_REPLANS = 5;

/**
 * Places a cluster's waiting tasks in batches: snapshot, plan with the pure core, commit the
 * plan in one transaction that re-checks each instance under its lock. Tasks that lost a race to
 * another scheduler go back to waiting and are re-planned from a fresh snapshot.
 */
export class PlacementService {
  constructor(
    private readonly repo: PlacementRepository,
    private readonly notifyAgents: NotifyAgents,
    private readonly logger: Logger,
    private readonly batch: number,
    private readonly metrics = new SchedulerMetrics(),
    private readonly splitting: Splitting = { partitions: 1, split: async () => undefined },
  ) {}

  /**
   * A hint that a cluster has waiting tasks. A backlog of more than a batch is split into
   * partition jobs, which every replica's worker slots take in parallel; a smaller one is placed
   * here at once (one task placed alone must not pay for a hand-off).
   */
  async onClusterHint(clusterId: string): Promise<PassResult | 'split'> {
    const { partitions, split } = this.splitting;
    if (partitions > 1 && (await this.repo.countWaitingIn(clusterId)) > this.batch) {
      await split(clusterId, partitions);
      return 'split';
    }
    return this.placeCluster(clusterId);
  }

  /** Places the cluster's waiting tasks, or only one share of them. */
  async placeCluster(clusterId: string, partition?: Partition): Promise<PassResult> {
    const start = process.hrtime.bigint();
    const total: PassResult = { placed: 0, unplaced: 0, conflicts: 0 };
    let replans = 0;
    for (;;) {
      const result = await this.pass(clusterId, partition);
      total.placed += result.placed;
      total.conflicts += result.conflicts;
      total.unplaced = result.unplaced;
      // Go on while a full batch was placed (more may wait) or a lost race asks for a re-plan.
      if (result.conflicts > 0 && ++replans <= MAX_REPLANS) continue;
      if (result.seen === this.batch && result.placed > 0) continue;
      break;
    }
    if (total.placed || total.unplaced || total.conflicts) {
      this.logger.info({ cluster: clusterId, partition, ...total }, 'placement pass');
    }
    this.metrics.clusterPass.observe(secondsSince(start));
    this.metrics.tasks.inc({ outcome: 'placed' }, total.placed);
    this.metrics.tasks.inc({ outcome: 'unplaced' }, total.unplaced);
    this.metrics.tasks.inc({ outcome: 'conflict' }, total.conflicts);
    return total;
  }

  private async pass(clusterId: string, partition?: Partition): Promise<PassResult & { seen: number }> {
    const tasks = await this.repo.waitingTasks(clusterId, this.batch, partition);
    if (tasks.length === 0) return { placed: 0, unplaced: 0, conflicts: 0, seen: 0 };
    const instances = await this.repo.instances(clusterId);
    const placeable = tasks.filter((t) => t.invalidSpec === undefined);
    const plan = planPlacements(instances, placeable, seededRandom(randomInt(2 ** 31)));

    const byId = new Map(tasks.map((t) => [t.id, t]));
    const committed = await this.repo.commit(
      plan.placements.map((p) => ({ task: byId.get(p.taskId)!, instanceId: p.instanceId })),
    );
    const unplaced = [
      ...plan.unplaced.map((u) => ({ task: byId.get(u.taskId)!, reason: u.reason })),
      ...tasks.flatMap((task) =>
        task.invalidSpec === undefined ? [] : [{ task, reason: `Invalid placement: ${task.invalidSpec}` }],
      ),
    ];
    await this.repo.recordUnplaced(unplaced);
    for (const seconds of committed.waitedSeconds) this.metrics.latency.observe(seconds);
    if (committed.placed.size) await this.notifyAgents(committed.placed);
    const placed = [...committed.placed.values()].reduce((n, ids) => n + ids.length, 0);
    return { placed, unplaced: unplaced.length, conflicts: committed.conflicts, seen: tasks.length };
  }
}
