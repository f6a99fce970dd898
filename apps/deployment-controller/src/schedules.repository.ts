import {
  checkRunTask,
  findClientToken,
  launchableRevision,
  writeRunTasks,
  viaPrisma,
  type ClientTokenClaim,
  type PrismaClient,
} from '@berth/db';
import {
  BerthError,
  firingClientToken,
  firingRunTask,
  lateness,
  NotFoundError,
  parseScheduleExpression,
  planFiring,
  readFlexibleTimeWindow,
  requestHash,
} from '@berth/domain';

/** What one firing pass did to a schedule. */
export interface Firing {
  scheduleId: string;
  clusterId: string;
  /** The firing it ran, if one was due and not too late. */
  scheduledAt?: Date;
  /** The tasks that firing started (none when it failed). */
  taskIds: string[];
  /** Why the firing started no task. */
  failure?: string;
  missed?: number;
}

/** Runs at most this many finished runs per schedule; older ones go. */
const RUNS_KEPT = 100;

/**
 * Schedules' firings. Exactly once per firing, on any number of controllers and across
 * restarts: a firing runs in the transaction that holds its schedule's row lock and moves
 * `next_fire_at` past it, so a second controller skips the row (SKIP LOCKED) or finds the
 * firing gone, and a crash before the commit leaves the firing due for the next sweep. The
 * firing's clientToken (schedule and time) and the run's unique (schedule, time) back that up.
 */
export class SchedulesRepository {
  constructor(private readonly db: PrismaClient) {}

  /** ENABLED schedules whose next firing has come, oldest first. */
  async due(now: Date, limit = 100): Promise<string[]> {
    const rows = await this.db.schedule.findMany({
      where: { state: 'ENABLED', nextFireAt: { lte: now } },
      orderBy: { nextFireAt: 'asc' },
      select: { id: true },
      take: limit,
    });
    return rows.map((r) => r.id);
  }

  /** Plans and applies one schedule's due firing; undefined if another controller holds it or it is not due. */
  async fire(scheduleId: string, now: Date): Promise<Firing | undefined> {
    return this.db.$transaction(
      async (tx) => {
        const locked = await tx.$queryRaw<{ id: string }[]>`
          SELECT id FROM schedule
          WHERE id = ${scheduleId}::uuid AND state = 'ENABLED' AND next_fire_at <= ${now}
          FOR UPDATE SKIP LOCKED`;
        if (locked.length === 0) return undefined;
        const s = await tx.schedule.findUniqueOrThrow({
          where: { id: scheduleId },
          include: { cluster: true },
        });
        const clock = {
          expression: parseScheduleExpression(s.scheduleExpression, s.scheduleExpressionTimezone),
          timezone: s.scheduleExpressionTimezone,
          startAt: s.startAt,
        };
        const window = readFlexibleTimeWindow(s.flexibleTimeWindow);
        const plan = planFiring(clock, window, s.nextFireAt!, now);
        const firing: Firing = { scheduleId, clusterId: s.clusterId, taskIds: [] };
        if (plan.missed) {
          const { count, first, last } = plan.missed;
          firing.missed = count;
          const minutes = lateness(window) / 60_000;
          await tx.scheduleRun.create({
            data: {
              scheduleId,
              scheduledAt: first,
              status: 'MISSED',
              taskIds: [],
              reason:
                count === 1
                  ? `not run: no controller ran it within ${minutes} minute(s) of its time`
                  : `${count} firings up to ${last.toISOString()} not run: no controller ran them within ${minutes} minute(s) of their time`,
            },
          });
        }
        if (plan.fire) {
          firing.scheduledAt = plan.fire;
          const token = firingClientToken(s.id, plan.fire);
          try {
            if (s.cluster.status !== 'ACTIVE')
              throw new NotFoundError('ClusterNotFoundException', `cluster ${s.cluster.name} is INACTIVE`);
            const request = checkRunTask(firingRunTask(s.runTask as Record<string, unknown>, s.name, token));
            const claim: ClientTokenClaim = {
              clusterId: s.clusterId,
              action: 'RunTask',
              token,
              requestHash: requestHash(request.input),
            };
            // Under the row lock no one else fires this schedule; a token already taken means a
            // RunTask with the firing's token already ran: its tasks are this firing's.
            const earlier = await findClientToken(tx, claim);
            if (earlier) firing.taskIds = earlier.resourceIds;
            else {
              const revision = await launchableRevision(
                viaPrisma(tx),
                s.cluster,
                request.input.taskDefinition,
                request.input.overrides,
              );
              firing.taskIds = (await writeRunTasks(viaPrisma(tx), s.cluster, revision, request, claim)).map(
                (t) => t.id,
              );
            }
          } catch (error) {
            // A refusal (the revision was deregistered, the policy refuses it...) is this firing's
            // outcome; anything else rolls back, and the next sweep tries again while it may.
            if (!(error instanceof BerthError)) throw error;
            firing.failure = (error as Error).message;
          }
          await tx.scheduleRun.create({
            data: {
              scheduleId,
              scheduledAt: plan.fire,
              status: firing.failure ? 'FAILED' : 'SUCCEEDED',
              taskIds: firing.taskIds,
              reason: firing.failure ?? null,
            },
          });
        }
        await tx.schedule.update({ where: { id: scheduleId }, data: { nextFireAt: plan.nextFireAt } });
        await tx.$executeRaw`
          DELETE FROM schedule_run WHERE schedule_id = ${scheduleId}::uuid AND id NOT IN (
            SELECT id FROM schedule_run WHERE schedule_id = ${scheduleId}::uuid
            ORDER BY scheduled_at DESC LIMIT ${RUNS_KEPT})`;
        return firing;
      },
      { timeout: 30_000 },
    );
  }
}
