import { Injectable } from '@nestjs/common';
import { checkRunTask, type ClusterModel, type ScheduleModel } from '@berth/db';
import {
  cursors,
  InvalidParameterError,
  nextFireAt,
  nextPageToken,
  parseMaxResults,
  parsePage,
  validateSchedule,
  validateScheduleName,
  type ScheduleInput,
} from '@berth/domain';
import { ClustersRepository } from '../clusters/clusters.repository.js';
import { TaskDefinitionsRepository } from '../task-definitions/task-definitions.repository.js';
import { SchedulesRepository, type ScheduleData } from './schedules.repository.js';

/** How many runs GetSchedule shows; ListScheduleRuns pages through up to 100 kept. */
export const LAST_RUNS_SHOWN = 10;

/**
 * Scheduled tasks (EventBridge Scheduler's model): CreateSchedule, ListSchedules, GetSchedule,
 * UpdateSchedule (whole, or PATCH of some fields), DeleteSchedule, and a schedule's runs. The
 * deployment-controller fires them.
 */
@Injectable()
export class SchedulesService {
  constructor(
    private readonly clusters: ClustersRepository,
    private readonly taskDefinitions: TaskDefinitionsRepository,
    private readonly schedules: SchedulesRepository,
  ) {}

  async create(clusterName: string, body: unknown) {
    const input = validateSchedule(body);
    const cluster = await this.clusters.get(clusterName);
    await this.checkTarget(cluster, input);
    const now = new Date();
    const schedule = await this.schedules.create(cluster, this.columns(input, now, now));
    return { cluster, schedule };
  }

  /** In name order, paged. */
  async list(clusterName: string, q: { maxResults?: string; nextToken?: string }) {
    const { limit, after } = parsePage(q, cursors.name);
    const cluster = await this.clusters.get(clusterName);
    const schedules = await this.schedules.list(cluster.id, after, limit);
    return { cluster, schedules, nextToken: nextPageToken(schedules, limit, (s) => s.name) };
  }

  /** The schedule with its last runs. */
  async get(clusterName: string, name: string) {
    validateScheduleName(name, 'schedule');
    const cluster = await this.clusters.get(clusterName);
    const schedule = await this.schedules.get(cluster, name);
    return { cluster, schedule, runs: await this.schedules.runs(schedule.id, LAST_RUNS_SHOWN) };
  }

  /** Newest first; `maxResults` up to 100, the runs kept per schedule. */
  async runs(clusterName: string, name: string, q: { maxResults?: string }) {
    const limit = parseMaxResults(q.maxResults, 100, 100);
    const { cluster, schedule } = await this.get(clusterName, name);
    return { cluster, schedule, runs: await this.schedules.runs(schedule.id, limit) };
  }

  /**
   * PUT replaces the whole schedule, as EventBridge's UpdateSchedule does (fields left out take
   * their defaults); PATCH changes only the fields it names. The next firing is computed again
   * from now; a changed expression or time zone restarts a rate() from now.
   */
  async update(clusterName: string, name: string, body: unknown, mode: 'replace' | 'merge') {
    validateScheduleName(name, 'schedule');
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      throw new InvalidParameterError('the body must be a JSON object');
    const given = body as Record<string, unknown>;
    if (given.name !== undefined && given.name !== name)
      throw new InvalidParameterError(`name: a schedule cannot be renamed (the path names ${name})`, 'name');
    const cluster = await this.clusters.get(clusterName);
    const current = await this.schedules.get(cluster, name);
    const input = validateSchedule(
      mode === 'merge' ? { ...request(current), ...given, name } : { ...given, name },
    );
    await this.checkTarget(cluster, input);
    const now = new Date();
    const sameClock =
      input.scheduleExpression === current.scheduleExpression &&
      input.scheduleExpressionTimezone === current.scheduleExpressionTimezone;
    const schedule = await this.schedules.update(
      cluster,
      current,
      this.columns(input, sameClock ? current.startAt : now, now),
    );
    return { cluster, schedule };
  }

  async delete(clusterName: string, name: string) {
    validateScheduleName(name, 'schedule');
    const cluster = await this.clusters.get(clusterName);
    return { cluster, schedule: await this.schedules.delete(cluster, name) };
  }

  /** The RunTask each firing makes must be one RunTask would take now (400 otherwise). */
  private async checkTarget(cluster: ClusterModel, input: ScheduleInput): Promise<void> {
    const { input: runTask } = checkRunTask(input.runTask);
    await this.taskDefinitions.launchable(cluster, runTask.taskDefinition, runTask.overrides);
  }

  private columns(input: ScheduleInput, startAt: Date, now: Date): ScheduleData {
    const clock = { expression: input.expression, timezone: input.scheduleExpressionTimezone, startAt };
    return {
      name: input.name,
      description: input.description ?? null,
      scheduleExpression: input.scheduleExpression,
      scheduleExpressionTimezone: input.scheduleExpressionTimezone,
      flexibleTimeWindow: input.flexibleTimeWindow,
      state: input.state,
      runTask: input.runTask,
      startAt,
      nextFireAt: nextFireAt(clock, now),
    };
  }
}

/** A stored schedule as the request that would create it. */
export function request(s: ScheduleModel): Record<string, unknown> {
  return {
    ...(s.runTask as Record<string, unknown>),
    name: s.name,
    ...(s.description === null ? {} : { description: s.description }),
    scheduleExpression: s.scheduleExpression,
    scheduleExpressionTimezone: s.scheduleExpressionTimezone,
    flexibleTimeWindow: s.flexibleTimeWindow,
    state: s.state,
  };
}
