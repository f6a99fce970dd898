import { z } from 'zod';
import { InvalidParameterError } from './errors.js';
import {
  MAX_FIRINGS_PER_PLAN,
  nextFireAt,
  parseScheduleExpression,
  validateTimezone,
  type ScheduleClock,
} from './schedule.js';
import { readStoredList, StoredDataError } from './stored.js';

/**
 * Scheduled actions of a service's scaling, in Application Auto Scaling's model (PutScheduledAction):
 * at the times of a schedule expression (the same `cron`, `rate` and `at` as scheduled tasks,
 * schedule.ts), set the scalable target's minCapacity and/or maxCapacity. Everything here is pure:
 * the controller passes in what it read and `now`.
 */

export interface ScheduledAction {
  scheduledActionName: string;
  schedule: string;
  timezone: string;
  startTime: Date | null;
  endTime: Date | null;
  scalableTargetAction: { minCapacity?: number; maxCapacity?: number };
  /**
   * When the action was set as it is (set by the PUT that created or changed it): nothing before
   * it fires, and a rate without startTime counts from it.
   */
  creationTime: Date;
}

/** A scheduled action as the PUT body gives it, already through the field rules. */
export type ScheduledActionInput = Omit<ScheduledAction, 'creationTime'>;

/** The last firing each action applied, by scheduledActionName: the `scheduled_actions_fired` column. */
export type ScheduledFirings = Record<string, Date>;

/**
 * The rules zod cannot check field by field: the expression and the time zone (the same parser and
 * messages as scheduled tasks), startTime before endTime, a capacity to set, names unique.
 */
export function checkScheduledActions(actions: readonly ScheduledActionInput[]): ScheduledActionInput[] {
  const names = new Set<string>();
  return actions.map((a, i) => {
    const field = `scheduledActions[${i}]`;
    validateTimezone(a.timezone, `${field}.timezone`);
    parseScheduleExpression(a.schedule, a.timezone, `${field}.schedule`);
    if (names.has(a.scheduledActionName))
      throw new InvalidParameterError(
        `${field}.scheduledActionName: ${a.scheduledActionName} is used by another scheduled action of this service; names must be unique`,
        `${field}.scheduledActionName`,
      );
    names.add(a.scheduledActionName);
    if (a.startTime && a.endTime && a.startTime >= a.endTime)
      throw new InvalidParameterError(`${field}.endTime: must be after startTime`, `${field}.endTime`);
    const { minCapacity, maxCapacity } = a.scalableTargetAction;
    if (minCapacity === undefined && maxCapacity === undefined)
      throw new InvalidParameterError(
        `${field}.scalableTargetAction: must set minCapacity, maxCapacity or both`,
        `${field}.scalableTargetAction`,
      );
    if (minCapacity !== undefined && maxCapacity !== undefined && minCapacity > maxCapacity)
      throw new InvalidParameterError(
        `${field}.scalableTargetAction.minCapacity: ${minCapacity} is greater than maxCapacity ${maxCapacity}`,
        `${field}.scalableTargetAction.minCapacity`,
      );
    return a;
  });
}

const sameDefinition = (a: ScheduledActionInput, b: ScheduledActionInput) =>
  a.schedule === b.schedule &&
  a.timezone === b.timezone &&
  a.startTime?.getTime() === b.startTime?.getTime() &&
  a.endTime?.getTime() === b.endTime?.getTime() &&
  a.scalableTargetAction.minCapacity === b.scalableTargetAction.minCapacity &&
  a.scalableTargetAction.maxCapacity === b.scalableTargetAction.maxCapacity;

/**
 * A PUT's actions against the stored ones: an action unchanged (same name and definition) keeps
 * its creationTime and last firing, so a PUT repeated does not fire it again; a new or changed one
 * starts at `now` with no firing.
 */
export function mergeScheduledActions(
  previous: readonly ScheduledAction[],
  fired: ScheduledFirings,
  next: readonly ScheduledActionInput[],
  now: Date,
): { actions: ScheduledAction[]; fired: ScheduledFirings } {
  const out: ScheduledFirings = {};
  const actions = next.map((a) => {
    const before = previous.find((p) => p.scheduledActionName === a.scheduledActionName);
    if (!before || !sameDefinition(before, a)) return { ...a, creationTime: now };
    const last = fired[a.scheduledActionName];
    if (last) out[a.scheduledActionName] = last;
    return { ...a, creationTime: before.creationTime };
  });
  return { actions, fired: out };
}

function clockOf(a: ScheduledAction): ScheduleClock {
  return {
    expression: parseScheduleExpression(a.schedule, a.timezone),
    timezone: a.timezone,
    startAt: a.startTime ?? a.creationTime,
  };
}

const later = (a: Date, b: Date | null) => (b && b > a ? b : a);

/**
 * The action's first firing after `lastFired` (or, before its first, at or after its creationTime
 * and startTime), no later than endTime; null when it has no more.
 */
export function nextScheduledFiring(a: ScheduledAction, lastFired: Date | null | undefined): Date | null {
  return nextFrom(clockOf(a), a, lastFired ?? null);
}

function nextFrom(clock: ScheduleClock, a: ScheduledAction, lastFired: Date | null): Date | null {
  const from = lastFired ? new Date(lastFired.getTime() + 1) : later(a.creationTime, a.startTime);
  const t = nextFireAt(clock, from);
  return t && (!a.endTime || t <= a.endTime) ? t : null;
}

export interface DueFiring {
  action: ScheduledAction;
  /** The latest firing of the action at or before `now` that has not been applied. */
  firingAt: Date;
}

/**
 * The actions that have a firing to apply now, earliest firing first. Unlike a scheduled task, an
 * action catches up: capacity is a state, so after controllers were down only each action's
 * latest missed firing is applied, in time order, and the bounds end as the latest says.
 */
export function dueScheduledActions(
  actions: readonly ScheduledAction[],
  lastFired: ScheduledFirings,
  now: Date,
): DueFiring[] {
  const due: DueFiring[] = [];
  for (const action of actions) {
    const clock = clockOf(action);
    let latest = nextFrom(clock, action, lastFired[action.scheduledActionName] ?? null);
    if (!latest || latest > now) continue;
    for (let i = 0; i < MAX_FIRINGS_PER_PLAN; i++) {
      const next = nextFrom(clock, action, latest);
      if (!next || next > now) break;
      latest = next;
    }
    due.push({ action, firingAt: latest });
  }
  return due.sort(
    (x, y) =>
      x.firingAt.getTime() - y.firingAt.getTime() ||
      x.action.scheduledActionName.localeCompare(y.action.scheduledActionName),
  );
}

export interface CapacityState {
  serviceName: string;
  desiredCount: number;
  minCapacity: number;
  maxCapacity: number;
  /** A deployment is IN_PROGRESS: a scale-in waits for it, as target tracking's does. */
  deploymentInProgress: boolean;
}

export interface CapacityChange {
  minCapacity: number;
  maxCapacity: number;
  desiredCount: number;
  /** One service event per firing applied. */
  messages: string[];
}

/**
 * AAS's semantics of a scheduled action: the new bounds replace the old (a bound it leaves out
 * stays, moved along if the other would cross it), and a desiredCount outside them goes to the
 * nearest bound: at once when that is a scale-out, after the deployment in progress when it is a
 * scale-in (Berth never fights a deployment; target tracking's rule 1 does it then).
 */
export function applyScheduledActions(s: CapacityState, due: readonly DueFiring[]): CapacityChange {
  let { minCapacity: min, maxCapacity: max, desiredCount: count } = s;
  const messages: string[] = [];
  for (const { action } of due) {
    const set = action.scalableTargetAction;
    min = set.minCapacity ?? Math.min(min, set.maxCapacity ?? min);
    max = set.maxCapacity ?? Math.max(max, min);
    const what = `(service ${s.serviceName}) scheduled action ${action.scheduledActionName} set capacity min ${min} max ${max}`;
    if (count < min) {
      messages.push(`${what}: scaled out from ${count} to ${min} tasks`);
      count = min;
    } else if (count > max && !s.deploymentInProgress) {
      messages.push(`${what}: scaled in from ${count} to ${max} tasks`);
      count = max;
    } else if (count > max) {
      messages.push(
        `${what}: the scale-in from ${count} to ${max} tasks waits for the deployment in progress`,
      );
    } else {
      messages.push(`${what}: ${count} tasks is within it`);
    }
  }
  return { minCapacity: min, maxCapacity: max, desiredCount: count, messages };
}

const storedAction = z.object({
  scheduledActionName: z.string(),
  schedule: z.string(),
  timezone: z.string(),
  startTime: z.iso.datetime().nullable(),
  endTime: z.iso.datetime().nullable(),
  scalableTargetAction: z.object({
    minCapacity: z.int().min(0).optional(),
    maxCapacity: z.int().min(0).optional(),
  }),
  creationTime: z.iso.datetime(),
});

const date = (s: string | null) => (s === null ? null : new Date(s));

/** Reads `service_scaling.scheduled_actions`, written only after checkScheduledActions. */
export function readStoredScheduledActions(json: unknown, where = ''): ScheduledAction[] {
  return readStoredList(json, 'scheduled actions', where).map((a, i) => {
    const parsed = storedAction.safeParse(a);
    if (!parsed.success)
      throw new StoredDataError('scheduled actions', where, `[${i}]: ${parsed.error.issues[0]!.message}`);
    const p = parsed.data;
    return {
      ...p,
      startTime: date(p.startTime),
      endTime: date(p.endTime),
      creationTime: new Date(p.creationTime),
    };
  });
}

/** The JSON stored for `actions` (dates as ISO strings). */
export function storedScheduledActions(actions: readonly ScheduledAction[]): unknown[] {
  return actions.map((a) => ({
    ...a,
    startTime: a.startTime?.toISOString() ?? null,
    endTime: a.endTime?.toISOString() ?? null,
    creationTime: a.creationTime.toISOString(),
  }));
}

/** Reads `service_scaling.scheduled_actions_fired`: {scheduledActionName: ISO time}. */
export function readStoredFirings(json: unknown, where = ''): ScheduledFirings {
  const parsed = z.record(z.string(), z.iso.datetime()).safeParse(json);
  if (!parsed.success)
    throw new StoredDataError('scheduled action firings', where, parsed.error.issues[0]!.message);
  return Object.fromEntries(Object.entries(parsed.data).map(([k, v]) => [k, new Date(v)]));
}

export function storedFirings(fired: ScheduledFirings): Record<string, string> {
  return Object.fromEntries(Object.entries(fired).map(([k, v]) => [k, v.toISOString()]));
}
