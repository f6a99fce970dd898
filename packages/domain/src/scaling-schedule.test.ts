import { validateScalingConfiguration } from './autoscaling.js';
import {
  applyScheduledActions,
  dueScheduledActions,
  mergeScheduledActions,
  nextScheduledFiring,
  readStoredFirings,
  readStoredScheduledActions,
  storedFirings,
  storedScheduledActions,
  type ScheduledAction,
} from './scaling-schedule.js';

const t = (iso: string) => new Date(iso);
const CREATED = t('2026-11-28T01:00:00Z');

const action = (over: Partial<ScheduledAction> = {}): ScheduledAction => ({
  scheduledActionName: 'a',
  schedule: 'rate(1 hour)',
  timezone: 'UTC',
  startTime: null,
  endTime: null,
  scalableTargetAction: { minCapacity: 2 },
  creationTime: CREATED,
  ...over,
});

describe('validateScalingConfiguration with scheduledActions', () => {
  it('takes AAS fields, defaulting the time zone to UTC', () => {
    const config = validateScalingConfiguration(
      {
        minCapacity: 1,
        maxCapacity: 3,
        scheduledActions: [
          {
            scheduledActionName: 'office-hours',
            schedule: 'cron(0 8 ? * MON-FRI *)',
            timezone: 'Europe/Paris',
            startTime: '2026-12-01T00:00:00+01:00',
            scalableTargetAction: { minCapacity: 3, maxCapacity: 10 },
          },
          {
            scheduledActionName: 'once',
            schedule: 'at(2026-12-24T18:00:00)',
            scalableTargetAction: { maxCapacity: 1 },
          },
        ],
      },
      { schedulingStrategy: 'REPLICA', loadBalanced: false },
    );
    expect(config.scheduledActions).toEqual([
      {
        scheduledActionName: 'office-hours',
        schedule: 'cron(0 8 ? * MON-FRI *)',
        timezone: 'Europe/Paris',
        startTime: t('2026-11-30T23:00:00Z'),
        endTime: null,
        scalableTargetAction: { minCapacity: 3, maxCapacity: 10 },
      },
      {
        scheduledActionName: 'once',
        schedule: 'at(2026-12-24T18:00:00)',
        timezone: 'UTC',
        startTime: null,
        endTime: null,
        scalableTargetAction: { maxCapacity: 1 },
      },
    ]);
  });
});

describe('nextScheduledFiring', () => {
  it.each<[string, Partial<ScheduledAction>, string | null, string | null]>([
    ['a rate fires at its creation first', {}, null, '2026-11-28T01:00:00.000Z'],
    ['then every interval after the last firing', {}, '2026-11-28T01:00:00Z', '2026-11-28T02:00:00.000Z'],
    [
      'a rate counts from startTime',
      { startTime: t('2026-11-28T00:30:00Z') },
      null,
      '2026-11-28T01:30:00.000Z',
    ],
    [
      'nothing fires before a future startTime',
      { schedule: 'cron(0 * * * ? *)', startTime: t('2026-11-28T05:10:00Z') },
      null,
      '2026-11-28T06:00:00.000Z',
    ],
    ['nothing fires after endTime', { endTime: t('2026-11-28T01:30:00Z') }, '2026-11-28T01:00:00Z', null],
    [
      'cron in the action time zone',
      { schedule: 'cron(0 8 * * ? *)', timezone: 'Europe/Paris' },
      null,
      '2026-11-28T07:00:00.000Z',
    ],
    ['an at() still to come', { schedule: 'at(2026-11-28T02:00:00)' }, null, '2026-11-28T02:00:00.000Z'],
    ['an at() before the action was set never fires', { schedule: 'at(2026-11-28T00:59:00)' }, null, null],
    ['an at() fires once', { schedule: 'at(2026-11-28T02:00:00)' }, '2026-11-28T02:00:00Z', null],
    [
      'a rate beyond the last date there is has no next firing',
      { schedule: 'rate(9007199254740991 days)' },
      '2026-11-28T01:00:00Z',
      null,
    ],
  ])('%s', (_, over, lastFired, expected) => {
    expect(nextScheduledFiring(action(over), lastFired ? t(lastFired) : null)?.toISOString() ?? null).toBe(
      expected,
    );
  });
});

describe('dueScheduledActions', () => {
  it.each<[string, Partial<ScheduledAction>, string | undefined, string, string | null]>([
    ['a rate is due at its creation', {}, undefined, '2026-11-28T01:00:00Z', '2026-11-28T01:00:00.000Z'],
    ['and not again before its interval', {}, '2026-11-28T01:00:00Z', '2026-11-28T01:59:59Z', null],
    ['and again at it', {}, '2026-11-28T01:00:00Z', '2026-11-28T02:00:10Z', '2026-11-28T02:00:00.000Z'],
    [
      'after an outage only the latest missed firing is due',
      {},
      '2026-11-28T01:00:00Z',
      '2026-11-28T05:30:00Z',
      '2026-11-28T05:00:00.000Z',
    ],
    [
      'an at() that has come, however late',
      { schedule: 'at(2026-11-28T02:00:00)' },
      undefined,
      '2026-11-28T03:00:00Z',
      '2026-11-28T02:00:00.000Z',
    ],
    [
      'an at() applied is not due again',
      { schedule: 'at(2026-11-28T02:00:00)' },
      '2026-11-28T02:00:00Z',
      '2026-11-29T00:00:00Z',
      null,
    ],
    [
      'nothing after endTime',
      { endTime: t('2026-11-28T01:30:00Z') },
      '2026-11-28T01:00:00Z',
      '2026-11-28T09:00:00Z',
      null,
    ],
  ])('%s', (_, over, lastFired, now, expected) => {
    const due = dueScheduledActions([action(over)], lastFired ? { a: t(lastFired) } : {}, t(now));
    expect(due[0]?.firingAt.toISOString() ?? null).toBe(expected);
    expect(due.length).toBe(expected ? 1 : 0);
  });

  it('orders several due actions by firing time, so the latest one sets the bounds', () => {
    const morning = action({ scheduledActionName: 'morning', schedule: 'cron(0 8 * * ? *)' });
    const evening = action({ scheduledActionName: 'evening', schedule: 'cron(0 18 * * ? *)' });
    const due = dueScheduledActions([evening, morning], {}, t('2026-11-28T19:00:00Z'));
    expect(due.map((d) => [d.action.scheduledActionName, d.firingAt.toISOString()])).toEqual([
      ['morning', '2026-11-28T08:00:00.000Z'],
      ['evening', '2026-11-28T18:00:00.000Z'],
    ]);
  });
});

describe('applyScheduledActions', () => {
  const state = {
    serviceName: 'web',
    desiredCount: 1,
    minCapacity: 1,
    maxCapacity: 3,
    deploymentInProgress: false,
  };
  const fire = (name: string, set: ScheduledAction['scalableTargetAction']) => ({
    action: action({ scheduledActionName: name, scalableTargetAction: set }),
    firingAt: CREATED,
  });

  it.each<
    [string, Partial<typeof state>, ScheduledAction['scalableTargetAction'], [number, number, number], string]
  >([
    [
      'a new minimum above desiredCount scales out to it',
      {},
      { minCapacity: 2, maxCapacity: 5 },
      [2, 5, 2],
      '(service web) scheduled action x set capacity min 2 max 5: scaled out from 1 to 2 tasks',
    ],
    [
      'a new maximum below desiredCount scales in to it',
      { desiredCount: 3 },
      { maxCapacity: 2 },
      [1, 2, 2],
      '(service web) scheduled action x set capacity min 1 max 2: scaled in from 3 to 2 tasks',
    ],
    [
      'a scale-in waits for a deployment in progress',
      { desiredCount: 3, deploymentInProgress: true },
      { maxCapacity: 2 },
      [1, 2, 3],
      '(service web) scheduled action x set capacity min 1 max 2: the scale-in from 3 to 2 tasks waits for the deployment in progress',
    ],
    [
      'a scale-out does not wait for a deployment',
      { deploymentInProgress: true },
      { minCapacity: 3 },
      [3, 3, 3],
      '(service web) scheduled action x set capacity min 3 max 3: scaled out from 1 to 3 tasks',
    ],
    [
      'only a minimum above the maximum raises the maximum too',
      {},
      { minCapacity: 4 },
      [4, 4, 4],
      '(service web) scheduled action x set capacity min 4 max 4: scaled out from 1 to 4 tasks',
    ],
    [
      'only a maximum below the minimum lowers the minimum too',
      { minCapacity: 2, desiredCount: 2 },
      { maxCapacity: 0 },
      [0, 0, 0],
      '(service web) scheduled action x set capacity min 0 max 0: scaled in from 2 to 0 tasks',
    ],
    [
      'a desiredCount within the new bounds stays',
      { desiredCount: 2 },
      { minCapacity: 0, maxCapacity: 10 },
      [0, 10, 2],
      '(service web) scheduled action x set capacity min 0 max 10: 2 tasks is within it',
    ],
  ])('%s', (_, over, set, [min, max, count], message) => {
    expect(applyScheduledActions({ ...state, ...over }, [fire('x', set)])).toEqual({
      minCapacity: min,
      maxCapacity: max,
      desiredCount: count,
      messages: [message],
    });
  });

  it('applies several firings in order, one event each', () => {
    const change = applyScheduledActions(state, [
      fire('up', { minCapacity: 3 }),
      fire('down', { maxCapacity: 2 }),
    ]);
    expect(change).toMatchObject({ minCapacity: 2, maxCapacity: 2, desiredCount: 2 });
    expect(change.messages).toEqual([
      '(service web) scheduled action up set capacity min 3 max 3: scaled out from 1 to 3 tasks',
      '(service web) scheduled action down set capacity min 2 max 2: scaled in from 3 to 2 tasks',
    ]);
  });
});

describe('mergeScheduledActions', () => {
  const input = ({ creationTime: _, ...a }: ScheduledAction) => a;
  const NOW = t('2026-11-28T04:00:00Z');

  it('keeps the creation time and last firing of an unchanged action, and starts a changed or new one now', () => {
    const kept = action({ scheduledActionName: 'kept' });
    const changed = action({ scheduledActionName: 'changed' });
    const fired = { kept: t('2026-11-28T03:00:00Z'), changed: t('2026-11-28T03:00:00Z'), gone: CREATED };
    const merged = mergeScheduledActions(
      [kept, changed, action({ scheduledActionName: 'gone' })],
      fired,
      [
        input(kept),
        { ...input(changed), scalableTargetAction: { minCapacity: 5 } },
        input(action({ scheduledActionName: 'new' })),
      ],
      NOW,
    );
    expect(merged.actions.map((a) => [a.scheduledActionName, a.creationTime])).toEqual([
      ['kept', CREATED],
      ['changed', NOW],
      ['new', NOW],
    ]);
    expect(merged.fired).toEqual({ kept: t('2026-11-28T03:00:00Z') });
  });
});

describe('stored scheduled actions', () => {
  it('reads back what is stored, and names the row of anything else', () => {
    const actions = [
      action({ startTime: CREATED, scalableTargetAction: { minCapacity: 1, maxCapacity: 2 } }),
    ];
    const json = JSON.parse(JSON.stringify(storedScheduledActions(actions)));
    expect(readStoredScheduledActions(json)).toEqual(actions);
    const fired = { a: CREATED };
    expect(readStoredFirings(JSON.parse(JSON.stringify(storedFirings(fired))))).toEqual(fired);
    expect(() => readStoredScheduledActions([{ schedule: 1 }], 'svc-1')).toThrow(
      /stored scheduled actions svc-1 is malformed/,
    );
  });
});
