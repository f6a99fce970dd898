import { CronExpressionParser, type CronExpression } from 'cron-parser';
import { z } from 'zod';
import { InvalidParameterError } from './errors.js';
import { parseOrThrow } from './validation.js';
import { validateRunTask, type RunTaskInput } from './run-task.js';

/**
 * Scheduled tasks, in EventBridge Scheduler's model: a schedule expression (`cron(...)`,
 * `rate(...)` or `at(...)`) evaluated in a time zone, whose target is a RunTask. Everything here
 * is pure: the controller passes `now` in.
 */

/** EventBridge Scheduler's rule for schedule names. */
const SCHEDULE_NAME_RULE = /^[0-9a-zA-Z._-]{1,64}$/;
export const SCHEDULE_NAME_TEXT = '1-64 letters, digits, periods, hyphens or underscores';

export function validateScheduleName(name: string, field = 'name'): string {
  if (!SCHEDULE_NAME_RULE.test(name))
    throw new InvalidParameterError(`${field}: must be ${SCHEDULE_NAME_TEXT} (got "${name}")`, field);
  return name;
}

/** A parsed schedule expression. `at` and `cron` are wall-clock times in the schedule's time zone. */
export type ScheduleExpression =
  | { kind: 'rate'; everyMs: number }
  | { kind: 'at'; local: LocalDateTime }
  | { kind: 'cron'; cron: CronExpression; years: (year: number) => boolean };

export interface LocalDateTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const RATE_UNITS: Record<string, number> = {
  minute: 60_000,
  minutes: 60_000,
  hour: 3_600_000,
  hours: 3_600_000,
  day: 86_400_000,
  days: 86_400_000,
};

const CRON_FIELDS = ['minutes', 'hours', 'day-of-month', 'month', 'day-of-week', 'year'] as const;
const MIN_YEAR = 1970;
const MAX_YEAR = 2199;

/**
 * `rate(value unit)`, `cron(minutes hours day-of-month month day-of-week year)` or
 * `at(yyyy-mm-ddThh:mm:ss)`, as EventBridge Scheduler takes them. A 400 naming the field and the
 * rule otherwise. The zone is checked here too because cron-parser needs it to parse.
 */
export function parseScheduleExpression(
  value: string,
  timezone = 'UTC',
  field = 'scheduleExpression',
): ScheduleExpression {
  const bad = (rule: string) => new InvalidParameterError(`${field}: ${rule} (got "${value}")`, field);
  const m = /^(rate|cron|at)\((.*)\)$/.exec(value.trim());
  if (!m) throw bad('must be rate(value unit), cron(6 fields) or at(yyyy-mm-ddThh:mm:ss)');
  const [, kind, body] = m as unknown as [string, 'rate' | 'cron' | 'at', string];
  if (kind === 'rate') {
    const r = /^\s*(\d+)\s+([a-z]+)\s*$/.exec(body);
    const unit = r && RATE_UNITS[r[2]!];
    if (!r || !unit) throw bad('rate() takes a positive integer and minute(s), hour(s) or day(s)');
    const n = Number(r[1]);
    if (!Number.isSafeInteger(n) || n < 1) throw bad('the rate must be at least 1 minute');
    // As EventBridge: a singular unit with 1, a plural one otherwise.
    const plural = r[2]!.endsWith('s');
    if (n === 1 && plural) throw bad(`with 1 the unit is singular: rate(1 ${r[2]!.slice(0, -1)})`);
    if (n > 1 && !plural) throw bad(`with ${n} the unit is plural: rate(${n} ${r[2]}s)`);
    return { kind: 'rate', everyMs: n * unit };
  }
  if (kind === 'at') {
    const a = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/.exec(body);
    if (!a) throw bad('at() takes a date and time yyyy-mm-ddThh:mm:ss, without a zone');
    const [year, month, day, hour, minute, second] = a.slice(1).map(Number) as [
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    const probe = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
    if (
      probe.getUTCMonth() !== month - 1 ||
      probe.getUTCDate() !== day ||
      hour > 23 ||
      minute > 59 ||
      second > 59
    )
      throw bad('at() names a date or time that does not exist');
    return { kind: 'at', local: { year, month, day, hour, minute, second } };
  }
  return parseCron(body, timezone, bad);
}

function parseCron(
  body: string,
  timezone: string,
  bad: (rule: string) => InvalidParameterError,
): ScheduleExpression {
  const fields = body.trim().split(/\s+/);
  if (fields.length !== 6)
    throw bad(`cron() takes 6 fields: ${CRON_FIELDS.join(' ')} (got ${fields.length})`);
  const [minutes, hours, dom, month, dow, year] = fields as [string, string, string, string, string, string];
  // EventBridge: exactly one of the two day fields is `?`, so they never combine.
  if ((dom === '?') === (dow === '?'))
    throw bad('cron() needs ? in exactly one of day-of-month and day-of-week');
  if (/W/i.test(dom)) throw bad('cron() day-of-month W (nearest weekday) is not supported by Berth');
  if (/\//.test(dow)) throw bad('cron() day-of-week takes no / increments');
  let cron: CronExpression;
  try {
    // cron-parser counts weekdays from 0 (SUN); EventBridge from 1 (SUN) to 7 (SAT). The number
    // after # is the week of the month and stays.
    const weekday = dow.replace(/(^|[^#\d])(\d+)/g, (_, before: string, n: string) => {
      const d = Number(n);
      if (d < 1 || d > 7) throw bad('cron() day-of-week is 1-7 (SUN-SAT) or SUN-SAT');
      return `${before}${d - 1}`;
    });
    cron = CronExpressionParser.parse(`0 ${minutes} ${hours} ${dom} ${month} ${weekday}`, {
      tz: timezone,
      strict: false,
    });
  } catch (error) {
    if (error instanceof InvalidParameterError) throw error;
    throw bad(`cron() ${(error as Error).message}`);
  }
  return { kind: 'cron', cron, years: parseYears(year, bad) };
}

/** The year field: `*`, a year, a range, a list, with `/` steps; 1970-2199. */
function parseYears(field: string, bad: (rule: string) => InvalidParameterError): (year: number) => boolean {
  if (field === '*' || field === '?') return () => true;
  const parts = field.split(',').map((part) => {
    const p = /^(\*|\d{4})(?:-(\d{4}))?(?:\/(\d+))?$/.exec(part);
    if (!p) throw bad(`cron() year "${part}" must be *, a year, a range or a list, with optional /step`);
    const from = p[1] === '*' ? MIN_YEAR : Number(p[1]);
    const to = p[2] ? Number(p[2]) : p[1] === '*' || p[3] ? MAX_YEAR : from;
    const step = p[3] ? Number(p[3]) : 1;
    if (from < MIN_YEAR || to > MAX_YEAR || from > to || step < 1)
      throw bad(`cron() year "${part}" must lie within ${MIN_YEAR}-${MAX_YEAR}`);
    return { from, to, step };
  });
  return (year) => parts.some((p) => year >= p.from && year <= p.to && (year - p.from) % p.step === 0);
}

/** A time zone the runtime knows (IANA names such as `Europe/Paris`, or `UTC`). */
export function validateTimezone(timezone: string, field = 'scheduleExpressionTimezone'): string {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
  } catch {
    throw new InvalidParameterError(
      `${field}: must be an IANA time zone such as UTC or Europe/Paris (got "${timezone}")`,
      field,
    );
  }
  return timezone;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The wall clock in `timezone` at instant `t`. */
export function localTime(t: Date, timezone: string): LocalDateTime {
  let f = formatters.get(timezone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timezone, f);
  }
  const parts = Object.fromEntries(f.formatToParts(t).map((p) => [p.type, Number(p.value)]));
  return {
    year: parts.year!,
    month: parts.month!,
    day: parts.day!,
    hour: parts.hour!,
    minute: parts.minute!,
    second: parts.second!,
  };
}

const asUtc = (l: LocalDateTime) => Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second);

/**
 * The instant the wall clock in `timezone` shows `local`. In a gap (spring forward) that has no
 * instant, the wall time an hour later; in a repeated hour (fall back), the first one.
 */
export function instantOf(local: LocalDateTime, timezone: string): Date {
  const wanted = asUtc(local);
  const offsetAt = (t: number) => asUtc(localTime(new Date(t), timezone)) - t;
  // Try the offsets just before and after, earliest first, for the first repeated hour.
  const candidates = [offsetAt(wanted - 86_400_000), offsetAt(wanted + 86_400_000)]
    .map((o) => wanted - o)
    .sort((a, b) => a - b);
  for (const t of candidates) if (asUtc(localTime(new Date(t), timezone)) === wanted) return new Date(t);
  return new Date(wanted - offsetAt(wanted));
}

export interface ScheduleClock {
  expression: ScheduleExpression;
  timezone: string;
  /** Where a rate counts from: when the schedule was created, or its expression last changed. */
  startAt: Date;
}

/** The first firing at or after `from`, or null when there is none (an `at` in the past, a past year). */
/** The last instant a Date holds (ECMAScript's limit, about the year 275760). */
const LAST_DATE_MS = 8.64e15;

export function nextFireAt(clock: ScheduleClock, from: Date): Date | null {
  const { expression: e, timezone, startAt } = clock;
  if (e.kind === 'rate') {
    const k = Math.max(0, Math.ceil((from.getTime() - startAt.getTime()) / e.everyMs));
    const t = startAt.getTime() + k * e.everyMs;
    // A rate so long that its next firing is past the last date there is has none.
    return t <= LAST_DATE_MS ? new Date(t) : null;
  }
  if (e.kind === 'at') {
    const at = instantOf(e.local, timezone);
    return at >= from ? at : null;
  }
  const minutes = e.cron.fields.minute.values as readonly number[];
  const hours = e.cron.fields.hour.values as readonly number[];
  // Whole minutes only: the firing at `from` itself counts.
  let cursor = new Date(Math.ceil(from.getTime() / 60_000) * 60_000 - 1);
  for (let i = 0; i < 1000; i++) {
    e.cron.reset(cursor);
    if (!e.cron.hasNext()) return null;
    const t = e.cron.next().toDate();
    const local = localTime(t, timezone);
    if (!e.years(local.year)) {
      const year = nextYear(e.years, local.year);
      if (year === undefined) return null;
      cursor = new Date(
        instantOf({ year, month: 1, day: 1, hour: 0, minute: 0, second: 0 }, timezone).getTime() - 1,
      );
      continue;
    }
    // As EventBridge: a wall time that the spring-forward gap skips does not run (cron-parser
    // would move it an hour later), and one that the fall-back repeats runs the first time only.
    const skipped = !minutes.includes(local.minute) || !hours.includes(local.hour);
    if (!skipped && instantOf(local, timezone).getTime() === t.getTime()) return t;
    cursor = t;
  }
  return null;
}

function nextYear(years: (year: number) => boolean, after: number): number | undefined {
  for (let y = after + 1; y <= MAX_YEAR; y++) if (years(y)) return y;
  return undefined;
}

/** How late a firing may still run: the flexible window, and at least EventBridge's 60 s precision. */
export function lateness(window: FlexibleTimeWindow): number {
  return window.mode === 'FLEXIBLE' ? window.maximumWindowInMinutes * 60_000 : 60_000;
}

/** The most firings one plan looks through to find the latest due one (a week of `rate(1 minute)`). */
export const MAX_FIRINGS_PER_PLAN = 10_080;

export interface FiringPlan {
  /** The firing to run now, if one is due and not too late. */
  fire?: Date;
  /** Due firings that are not run: too late, or older than a later due one. */
  missed?: { count: number; first: Date; last: Date };
  /** The schedule's next firing after this plan, or null when it has no more. */
  nextFireAt: Date | null;
}

/**
 * What a controller does with a schedule whose `nextFireAt` has come. Only the latest due firing
 * runs, and only if it is at most `lateness` old: a schedule never catches up on the firings a
 * stopped control plane missed, as EventBridge Scheduler does not beyond the flexible window.
 */
export function planFiring(
  clock: ScheduleClock,
  window: FlexibleTimeWindow,
  due: Date,
  now: Date,
): FiringPlan {
  if (due > now) return { nextFireAt: due };
  let latest = due;
  let count = 1;
  let next = nextFireAt(clock, new Date(latest.getTime() + 1));
  while (next && next <= now && count < MAX_FIRINGS_PER_PLAN) {
    latest = next;
    count++;
    next = nextFireAt(clock, new Date(latest.getTime() + 1));
  }
  const fire = now.getTime() - latest.getTime() <= lateness(window) ? latest : undefined;
  const missedCount = fire ? count - 1 : count;
  const missedLast = fire ? previousOf(clock, due, latest) : latest;
  return {
    ...(fire ? { fire } : {}),
    ...(missedCount > 0 ? { missed: { count: missedCount, first: due, last: missedLast } } : {}),
    nextFireAt: next,
  };
}

/** The firing just before `latest`, counted from `due` (only called when there is one). */
function previousOf(clock: ScheduleClock, due: Date, latest: Date): Date {
  let prev = due;
  for (let t = nextFireAt(clock, new Date(due.getTime() + 1)); t && t < latest;) {
    prev = t;
    t = nextFireAt(clock, new Date(t.getTime() + 1));
  }
  return prev;
}

const flexibleTimeWindowSchema = z.discriminatedUnion(
  'mode',
  [
    z.strictObject({ mode: z.literal('OFF') }),
    z.strictObject({
      mode: z.literal('FLEXIBLE'),
      maximumWindowInMinutes: z
        .int({ error: 'is required with mode FLEXIBLE: an integer of minutes from 1 to 1440' })
        .min(1, { error: 'must be from 1 to 1440 minutes' })
        .max(1440, { error: 'must be from 1 to 1440 minutes' }),
    }),
  ],
  { error: 'must be {mode: OFF} or {mode: FLEXIBLE, maximumWindowInMinutes}' },
);

export type FlexibleTimeWindow = z.output<typeof flexibleTimeWindowSchema>;

/** A schedule row's `flexible_time_window`. */
export function readFlexibleTimeWindow(stored: unknown): FlexibleTimeWindow {
  return parseOrThrow(flexibleTimeWindowSchema, stored, 'flexibleTimeWindow');
}

/** The schedule's own fields; every other field of the request is the RunTask it makes. */
export const scheduleSchema = z.looseObject({
  name: z.string({ error: `is required: ${SCHEDULE_NAME_TEXT}` }).regex(SCHEDULE_NAME_RULE, {
    error: `must be ${SCHEDULE_NAME_TEXT}`,
  }),
  scheduleExpression: z.string({ error: 'is required: rate(...), cron(...) or at(...)' }),
  scheduleExpressionTimezone: z.string({ error: 'must be an IANA time zone name' }).default('UTC'),
  flexibleTimeWindow: flexibleTimeWindowSchema.default({ mode: 'OFF' }),
  state: z.enum(['ENABLED', 'DISABLED'], { error: 'must be ENABLED or DISABLED' }).default('ENABLED'),
  description: z
    .string({ error: 'must be a string' })
    .max(512, { error: 'must be at most 512 characters' })
    .optional(),
  clientToken: z
    .never({ error: 'is set by each firing (the schedule and its time); leave it out' })
    .optional(),
});

const SCHEDULE_FIELDS = [
  'name',
  'scheduleExpression',
  'scheduleExpressionTimezone',
  'flexibleTimeWindow',
  'state',
  'description',
] as const;

export interface ScheduleInput {
  name: string;
  scheduleExpression: string;
  scheduleExpressionTimezone: string;
  flexibleTimeWindow: FlexibleTimeWindow;
  state: 'ENABLED' | 'DISABLED';
  description?: string;
  /** The RunTask request each firing makes, as sent (validated with RunTask's own rules). */
  runTask: Record<string, unknown>;
  expression: ScheduleExpression;
}

/**
 * CreateSchedule / UpdateSchedule: the schedule's fields, and the RunTask parameters
 * (taskDefinition, count, overrides, group, placement, tags...) checked by RunTask's validation.
 */
export function validateSchedule(input: unknown): ScheduleInput {
  const s = parseOrThrow(scheduleSchema, input ?? {});
  validateTimezone(s.scheduleExpressionTimezone);
  const expression = parseScheduleExpression(s.scheduleExpression, s.scheduleExpressionTimezone);
  const runTask = Object.fromEntries(
    Object.entries(input as Record<string, unknown>).filter(
      ([k]) => !(SCHEDULE_FIELDS as readonly string[]).includes(k),
    ),
  );
  validateRunTask(runTask);
  return {
    name: s.name,
    scheduleExpression: s.scheduleExpression,
    scheduleExpressionTimezone: s.scheduleExpressionTimezone,
    flexibleTimeWindow: s.flexibleTimeWindow,
    state: s.state,
    ...(s.description === undefined ? {} : { description: s.description }),
    runTask,
    expression,
  };
}

/** The clientToken of one firing: the same firing, retried anywhere, creates its tasks once. */
export function firingClientToken(scheduleId: string, scheduledAt: Date): string {
  return `schedule-${scheduleId}-${Math.floor(scheduledAt.getTime() / 1000)}`;
}

/** The RunTask a firing makes: the stored request, with the firing's token and startedBy. */
export function firingRunTask(
  runTask: Record<string, unknown>,
  scheduleName: string,
  token: string,
): RunTaskInput {
  return validateRunTask({
    startedBy: `schedule/${scheduleName}`,
    ...runTask,
    clientToken: token,
  });
}
