import type { Logger } from '@berth/config';
import type { Firing, SchedulesRepository } from './schedules.repository.js';

/**
 * Fires the schedules whose time has come (docs/scheduled-tasks.md). Run by the `schedules`
 * sweep, a BullMQ job scheduler shared by every controller; the exactly-once guarantee is the
 * repository's, so any number of sweeps may run at once.
 */
export class ScheduleFirer {
  constructor(
    private readonly schedules: SchedulesRepository,
    private readonly edges: { placeInCluster: (clusterId: string) => Promise<void> },
    private readonly logger: Logger,
  ) {}

  async sweep(now = new Date()): Promise<Firing[]> {
    const fired: Firing[] = [];
    for (const id of await this.schedules.due(now)) {
      const firing = await this.schedules.fire(id, now);
      if (!firing) continue;
      fired.push(firing);
      if (firing.missed) this.logger.warn({ schedule: id, missed: firing.missed }, 'schedule firings missed');
      if (!firing.scheduledAt) continue;
      this.logger.info(
        { schedule: id, scheduledAt: firing.scheduledAt, tasks: firing.taskIds, failure: firing.failure },
        firing.failure ? 'schedule firing failed' : 'schedule fired',
      );
      // The tasks are in Postgres; a lost hint only delays placement until the scheduler's sweep.
      if (firing.taskIds.length)
        await this.edges
          .placeInCluster(firing.clusterId)
          .catch((err: unknown) => this.logger.warn({ err }, 'could not enqueue a placement hint'));
    }
    return fired;
  }
}
