import {
  nextFireAt,
  parseScheduleExpression,
  planFiring,
  validateSchedule,
  type FlexibleTimeWindow,
  type ScheduleClock,
} from './schedule.js';
import { InvalidParameterError } from './errors.js';

const clock = (expression: string, timezone = 'UTC', startAt = '2026-11-28T00:00:00Z'): ScheduleClock => ({
  expression: parseScheduleExpression(expression, timezone),
  timezone,
  startAt: new Date(startAt),
});

/** The next `n` firings at or after `from`, as ISO strings. */
function firings(c: ScheduleClock, from: string, n: number): (string | null)[] {
  const out: (string | null)[] = [];
  let t: Date | null = new Date(from);
  for (let i = 0; i < n && t; i++) {
    t = nextFireAt(c, t);
    out.push(t ? t.toISOString() : null);
    if (t) t = new Date(t.getTime() + 1);
  }
  return out;
}

describe('nextFireAt', () => {
  it.each<[string, string, string, string, number, (string | null)[]]>([
    [
      'daily at 03:00 UTC',
      'cron(0 3 * * ? *)',
      'UTC',
      '2026-11-28T00:10:00Z',
      2,
      ['2026-11-28T03:00:00.000Z', '2026-11-29T03:00:00.000Z'],
    ],
    [
      'a firing exactly at `from` counts',
      'cron(0 3 * * ? *)',
      'UTC',
      '2026-11-28T03:00:00Z',
      1,
      ['2026-11-28T03:00:00.000Z'],
    ],
    [
      '03:00 in Paris is 02:00 UTC in winter',
      'cron(0 3 * * ? *)',
      'Europe/Paris',
      '2026-11-28T00:00:00Z',
      1,
      ['2026-11-28T02:00:00.000Z'],
    ],
    [
      'a rate past the last date there is has no next firing',
      'rate(9007199254740991 days)',
      'UTC',
      '2026-11-28T00:01:00Z',
      1,
      [null],
    ],
    [
      'every 15 minutes',
      'cron(0/15 * * * ? *)',
      'UTC',
      '2026-11-28T00:01:00Z',
      3,
      ['2026-11-28T00:15:00.000Z', '2026-11-28T00:30:00.000Z', '2026-11-28T00:45:00.000Z'],
    ],
    // EventBridge numbers weekdays 1 (SUN) to 7 (SAT): 2-6 is MON-FRI. 2026-11-28 is a Saturday.
    [
      'weekdays by number',
      'cron(0 10 ? * 2-6 *)',
      'UTC',
      '2026-11-28T00:00:00Z',
      2,
      ['2026-11-30T10:00:00.000Z', '2026-12-01T10:00:00.000Z'],
    ],
    [
      'weekdays by name',
      'cron(0 10 ? * MON-FRI *)',
      'UTC',
      '2026-11-28T00:00:00Z',
      1,
      ['2026-11-30T10:00:00.000Z'],
    ],
    [
      'first Monday of the month',
      'cron(0 10 ? * 2#1 *)',
      'UTC',
      '2026-11-28T00:00:00Z',
      2,
      ['2026-12-07T10:00:00.000Z', '2027-01-04T10:00:00.000Z'],
    ],
    [
      'last day of the month',
      'cron(0 10 L * ? *)',
      'UTC',
      '2026-11-28T00:00:00Z',
      2,
      ['2026-11-30T10:00:00.000Z', '2026-12-31T10:00:00.000Z'],
    ],
    [
      'only in the years named',
      'cron(0 0 1 1 ? 2028,2030)',
      'UTC',
      '2026-11-28T00:00:00Z',
      3,
      ['2028-01-01T00:00:00.000Z', '2030-01-01T00:00:00.000Z', null],
    ],
    ['a year that has passed: never', 'cron(0 0 1 1 ? 2020)', 'UTC', '2026-11-28T00:00:00Z', 1, [null]],
    // New York springs forward on 2027-03-14: 02:30 does not exist that day and is skipped.
    [
      'DST gap: the missing time is skipped',
      'cron(30 2 * * ? *)',
      'America/New_York',
      '2027-03-13T00:00:00Z',
      2,
      ['2027-03-13T07:30:00.000Z', '2027-03-15T06:30:00.000Z'],
    ],
    // ...and falls back on 2027-11-07: 01:30 happens twice and runs once, the first time.
    [
      'DST repeat: the doubled time runs once',
      'cron(30 1 * * ? *)',
      'America/New_York',
      '2027-11-06T00:00:00Z',
      3,
      ['2027-11-06T05:30:00.000Z', '2027-11-07T05:30:00.000Z', '2027-11-08T06:30:00.000Z'],
    ],
    [
      'hourly across the repeated hour: each wall hour once',
      'cron(0 * * * ? *)',
      'America/New_York',
      '2027-11-07T04:30:00Z',
      3,
      ['2027-11-07T05:00:00.000Z', '2027-11-07T07:00:00.000Z', '2027-11-07T08:00:00.000Z'],
    ],
    [
      'rate counts from startAt',
      'rate(5 minutes)',
      'UTC',
      '2026-11-28T00:07:00Z',
      2,
      ['2026-11-28T00:10:00.000Z', '2026-11-28T00:15:00.000Z'],
    ],
    [
      'rate: the first firing is startAt itself',
      'rate(1 hour)',
      'UTC',
      '2026-11-27T00:00:00Z',
      2,
      ['2026-11-28T00:00:00.000Z', '2026-11-28T01:00:00.000Z'],
    ],
    [
      'rate of days is 24 hours, whatever the zone',
      'rate(1 day)',
      'America/New_York',
      '2026-11-28T00:00:01Z',
      1,
      ['2026-11-29T00:00:00.000Z'],
    ],
    [
      'at() in the given zone, once',
      'at(2026-12-01T10:00:00)',
      'Asia/Tokyo',
      '2026-11-28T00:00:00Z',
      2,
      ['2026-12-01T01:00:00.000Z', null],
    ],
    ['at() in the past: never', 'at(2026-01-01T10:00:00)', 'UTC', '2026-11-28T00:00:00Z', 1, [null]],
  ])('%s: %s in %s', (_, expression, tz, from, n, expected) => {
    expect(firings(clock(expression, tz), from, n)).toEqual(expected);
  });
});

describe('parseScheduleExpression refuses, naming the field and the rule', () => {
  it.each<[string, string, RegExp]>([
    ['every 5 minutes', 'UTC', /must be rate\(value unit\), cron\(6 fields\) or at/],
    ['cron(0 3 * * ?)', 'UTC', /6 fields.*got 5/],
    ['cron(0 3 * * * *)', 'UTC', /\? in exactly one of day-of-month and day-of-week/],
    ['cron(0 3 ? * ? *)', 'UTC', /\? in exactly one/],
    ['cron(0 3 15W * ? *)', 'UTC', /W \(nearest weekday\) is not supported/],
    ['cron(0 3 ? * 8 *)', 'UTC', /day-of-week is 1-7/],
    ['cron(61 3 * * ? *)', 'UTC', /cron\(\)/],
    ['cron(0 3 * * ? 1969)', 'UTC', /year "1969" must lie within 1970-2199/],
    ['rate(0 minutes)', 'UTC', /at least 1 minute/],
    ['rate(30 seconds)', 'UTC', /minute\(s\), hour\(s\) or day\(s\)/],
    ['rate(1 minutes)', 'UTC', /singular: rate\(1 minute\)/],
    ['rate(5 minute)', 'UTC', /plural: rate\(5 minutes\)/],
    ['at(2026-02-30T10:00:00)', 'UTC', /does not exist/],
    ['at(2026-12-01T10:00:00Z)', 'UTC', /without a zone/],
  ])('%s', (expression, tz, message) => {
    const call = () => parseScheduleExpression(expression, tz);
    expect(call).toThrow(InvalidParameterError);
    expect(call).toThrow(/^scheduleExpression: /);
    expect(call).toThrow(message);
  });
});

describe('validateSchedule', () => {
  const base = { name: 'nightly', scheduleExpression: 'cron(0 3 * * ? *)', taskDefinition: 'batch' };

  it('takes EventBridge defaults, and keeps the RunTask parameters apart', () => {
    const s = validateSchedule({ ...base, count: 2, overrides: { containerOverrides: [] } });
    expect(s).toMatchObject({
      name: 'nightly',
      scheduleExpressionTimezone: 'UTC',
      flexibleTimeWindow: { mode: 'OFF' },
      state: 'ENABLED',
      runTask: { taskDefinition: 'batch', count: 2, overrides: { containerOverrides: [] } },
    });
  });

  it.each<[string, Record<string, unknown>, string]>([
    [
      'an unknown time zone',
      { scheduleExpressionTimezone: 'Mars/Olympus' },
      'scheduleExpressionTimezone: must be an IANA time zone',
    ],
    ['a bad expression', { scheduleExpression: 'rate(1 second)' }, 'scheduleExpression: '],
    ['a bad name', { name: 'no spaces' }, 'name: must be 1-64'],
    [
      'FLEXIBLE without a window',
      { flexibleTimeWindow: { mode: 'FLEXIBLE' } },
      'flexibleTimeWindow.maximumWindowInMinutes: is required',
    ],
    [
      'a window over a day',
      { flexibleTimeWindow: { mode: 'FLEXIBLE', maximumWindowInMinutes: 1441 } },
      'flexibleTimeWindow.maximumWindowInMinutes: must be from 1 to 1440',
    ],
    ['a state ECS does not have', { state: 'PAUSED' }, 'state: must be ENABLED or DISABLED'],
    ['a clientToken (each firing has its own)', { clientToken: 'x' }, 'clientToken: is set by each firing'],
    ['a RunTask count over 10', { count: 11 }, 'count: must be an integer from 1 to 10'],
    ['no task definition', { taskDefinition: undefined }, 'taskDefinition: is required'],
  ])('refuses %s', (_, change, message) => {
    expect(() => validateSchedule({ ...base, ...change })).toThrow(message);
  });
});

describe('planFiring', () => {
  const off: FlexibleTimeWindow = { mode: 'OFF' };
  const everyMinute = clock('rate(1 minute)', 'UTC', '2026-11-28T00:00:00Z');
  const at = (iso: string) => new Date(iso);
  const iso = (d: Date | null | undefined) => d?.toISOString() ?? d;

  it.each<
    [
      string,
      ScheduleClock,
      FlexibleTimeWindow,
      string,
      string,
      { fire?: string; missed?: number; next: string | null },
    ]
  >([
    [
      'not due yet: nothing',
      everyMinute,
      off,
      '2026-11-28T00:05:00Z',
      '2026-11-28T00:04:59Z',
      { next: '2026-11-28T00:05:00.000Z' },
    ],
    [
      'due now: runs it',
      everyMinute,
      off,
      '2026-11-28T00:05:00Z',
      '2026-11-28T00:05:00.400Z',
      { fire: '2026-11-28T00:05:00.000Z', next: '2026-11-28T00:06:00.000Z' },
    ],
    [
      '59 s late (a controller restart): still runs',
      clock('rate(5 minutes)'),
      off,
      '2026-11-28T00:05:00Z',
      '2026-11-28T00:05:59Z',
      { fire: '2026-11-28T00:05:00.000Z', next: '2026-11-28T00:10:00.000Z' },
    ],
    [
      '2 min late with the window OFF: missed',
      clock('rate(5 minutes)'),
      off,
      '2026-11-28T00:05:00Z',
      '2026-11-28T00:07:00Z',
      { missed: 1, next: '2026-11-28T00:10:00.000Z' },
    ],
    [
      '2 min late within a 15-minute flexible window: runs',
      clock('rate(5 minutes)'),
      { mode: 'FLEXIBLE', maximumWindowInMinutes: 15 },
      '2026-11-28T00:05:00Z',
      '2026-11-28T00:07:00Z',
      { fire: '2026-11-28T00:05:00.000Z', next: '2026-11-28T00:10:00.000Z' },
    ],
    [
      'down 10 minutes: only the latest runs, the rest are missed',
      everyMinute,
      off,
      '2026-11-28T00:05:00Z',
      '2026-11-28T00:15:20Z',
      { fire: '2026-11-28T00:15:00.000Z', missed: 10, next: '2026-11-28T00:16:00.000Z' },
    ],
    [
      'at(): runs once, then no next firing',
      clock('at(2026-11-28T00:05:00)'),
      off,
      '2026-11-28T00:05:00Z',
      '2026-11-28T00:05:01Z',
      { fire: '2026-11-28T00:05:00.000Z', next: null },
    ],
  ])('%s', (_, c, window, due, now, expected) => {
    const plan = planFiring(c, window, at(due), at(now));
    expect({ fire: iso(plan.fire), missed: plan.missed?.count, next: iso(plan.nextFireAt) }).toEqual({
      fire: expected.fire,
      missed: expected.missed,
      next: expected.next,
    });
  });

  it('names the span of the missed firings', () => {
    const plan = planFiring(everyMinute, off, at('2026-11-28T00:05:00Z'), at('2026-11-28T00:08:10Z'));
    expect(plan.missed).toEqual({
      count: 3,
      first: at('2026-11-28T00:05:00Z'),
      last: at('2026-11-28T00:07:00Z'),
    });
  });
});
