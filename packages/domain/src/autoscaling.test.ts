import {
  decideScaling,
  readStoredPolicies,
  scalingReadings,
  validateScalingConfiguration,
  type MetricReading,
  type ScalingState,
  type TargetTrackingPolicy,
} from './autoscaling.js';
import { InvalidParameterError } from './errors.js';

const at = (s: number) => new Date(Date.UTC(2026, 10, 28, 1, 0, s));
const NOW = at(600);
const replica = { schedulingStrategy: 'REPLICA' as const, loadBalanced: false };

describe('validateScalingConfiguration', () => {
  it('fills in Application Auto Scaling defaults', () => {
    expect(
      validateScalingConfiguration(
        {
          minCapacity: 1,
          maxCapacity: 3,
          targetTrackingPolicies: [{ predefinedMetric: 'ECSServiceAverageCPUUtilization', targetValue: 50 }],
        },
        replica,
      ),
    ).toEqual({
      minCapacity: 1,
      maxCapacity: 3,
      targetTrackingPolicies: [
        {
          policyName: 'ECSServiceAverageCPUUtilization-50',
          predefinedMetric: 'ECSServiceAverageCPUUtilization',
          targetValue: 50,
          scaleOutCooldown: 300,
          scaleInCooldown: 300,
          disableScaleIn: false,
        },
      ],
      scheduledActions: [],
    });
  });

  const cpu = { predefinedMetric: 'ECSServiceAverageCPUUtilization', targetValue: 50 };
  const night = {
    scheduledActionName: 'night',
    schedule: 'cron(0 22 * * ? *)',
    scalableTargetAction: { minCapacity: 0, maxCapacity: 1 },
  };
  it.each<[unknown, Parameters<typeof validateScalingConfiguration>[1], string, RegExp]>([
    [{ minCapacity: 3, maxCapacity: 1 }, replica, 'minCapacity', /greater than maxCapacity 1/],
    [{ minCapacity: -1, maxCapacity: 1 }, replica, 'minCapacity', /from 0 to 10000/],
    [{ minCapacity: 1 }, replica, 'maxCapacity', /from 0 to 10000/],
    [
      { minCapacity: 1, maxCapacity: 2, targetTrackingPolicies: [{ ...cpu, targetValue: 0 }] },
      replica,
      'targetTrackingPolicies[0].targetValue',
      /greater than 0/,
    ],
    [
      { minCapacity: 1, maxCapacity: 2, targetTrackingPolicies: [{ ...cpu, targetValue: 150 }] },
      replica,
      'targetTrackingPolicies[0].targetValue',
      /at most 100/,
    ],
    [
      { minCapacity: 1, maxCapacity: 2, targetTrackingPolicies: [{ ...cpu, predefinedMetric: 'Disk' }] },
      replica,
      'targetTrackingPolicies[0].predefinedMetric',
      /must be one of ECSServiceAverageCPUUtilization/,
    ],
    [
      {
        minCapacity: 1,
        maxCapacity: 2,
        targetTrackingPolicies: [cpu, { ...cpu, predefinedMetric: 'ALBRequestCountPerTarget' }],
      },
      replica,
      'targetTrackingPolicies[1].predefinedMetric',
      /needs a service with loadBalancers/,
    ],
    [
      {
        minCapacity: 1,
        maxCapacity: 2,
        targetTrackingPolicies: [{ ...cpu, resourceLabel: 'app/x/1/targetgroup/y/2' }],
      },
      replica,
      'targetTrackingPolicies[0].resourceLabel',
      /only ALBRequestCountPerTarget takes a resourceLabel/,
    ],
    [
      {
        minCapacity: 1,
        maxCapacity: 2,
        targetTrackingPolicies: [{ predefinedMetric: 'ALBRequestCountPerTarget', targetValue: 2_000_000 }],
      },
      { ...replica, loadBalanced: true },
      'targetTrackingPolicies[0].targetValue',
      /at most 1000000/,
    ],
    [
      { minCapacity: 1, maxCapacity: 2, targetTrackingPolicies: [cpu, cpu] },
      replica,
      'targetTrackingPolicies[1].policyName',
      /must be unique/,
    ],
    [
      { minCapacity: 1, maxCapacity: 2, targetTrackingPolicies: [{ ...cpu, scaleInCooldown: 1.5 }] },
      replica,
      'targetTrackingPolicies[0].scaleInCooldown',
      /integer number of seconds/,
    ],
    ...(
      [
        [
          { schedule: 'rate(1 hour)', scalableTargetAction: { minCapacity: 1 } },
          'scheduledActionName',
          /is required/,
        ],
        [{ ...night, scheduledActionName: 'a/b' }, 'scheduledActionName', /without : \/ \|/],
        [{ ...night, schedule: 'cron(0 22 * * ?)' }, 'schedule', /cron\(\) takes 6 fields/],
        [{ ...night, schedule: 'every hour' }, 'schedule', /must be rate\(value unit\)/],
        [{ ...night, timezone: 'Mars/Olympus' }, 'timezone', /IANA time zone/],
        [{ ...night, startTime: 'tomorrow' }, 'startTime', /ISO 8601/],
        [
          { ...night, startTime: '2026-12-02T00:00:00Z', endTime: '2026-12-01T00:00:00Z' },
          'endTime',
          /after startTime/,
        ],
        [{ ...night, scalableTargetAction: {} }, 'scalableTargetAction', /minCapacity, maxCapacity or both/],
        [{ ...night, scalableTargetAction: undefined }, 'scalableTargetAction', /is required/],
        [
          { ...night, scalableTargetAction: { minCapacity: 1, desired: 2 } },
          'scalableTargetAction',
          /unknown field desired/,
        ],
        [
          { ...night, scalableTargetAction: { minCapacity: 3, maxCapacity: 2 } },
          'scalableTargetAction.minCapacity',
          /3 is greater than maxCapacity 2/,
        ],
        [
          { ...night, scalableTargetAction: { maxCapacity: 10001 } },
          'scalableTargetAction.maxCapacity',
          /0 to 10000/,
        ],
      ] as const
    ).map(([action, field, message]): [unknown, typeof replica, string, RegExp] => [
      { minCapacity: 1, maxCapacity: 2, scheduledActions: [action] },
      replica,
      `scheduledActions[0]${field ? `.${field}` : ''}`,
      message,
    ]),
    [
      { minCapacity: 1, maxCapacity: 2, scheduledActions: [night, night] },
      replica,
      'scheduledActions[1].scheduledActionName',
      /must be unique/,
    ],
    [{ minCapacity: 1, maxCapacity: 2, min: 1 }, replica, '', /unknown field min/],
    [
      { minCapacity: 1, maxCapacity: 2 },
      { ...replica, schedulingStrategy: 'DAEMON' as const },
      'service',
      /DAEMON/,
    ],
  ])('%j (%j) is refused on %s', (body, service, field, message) => {
    let error: unknown;
    try {
      validateScalingConfiguration(body, service);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidParameterError);
    expect((error as InvalidParameterError).field ?? '').toBe(field);
    expect((error as Error).message).toMatch(message);
  });
});

it('takes ALBRequestCountPerTarget on a load-balanced service, with any positive target and a resourceLabel', () => {
  const { targetTrackingPolicies } = validateScalingConfiguration(
    {
      minCapacity: 1,
      maxCapacity: 5,
      targetTrackingPolicies: [
        {
          predefinedMetric: 'ALBRequestCountPerTarget',
          targetValue: 600,
          resourceLabel: 'app/web/1/targetgroup/web/2',
        },
      ],
    },
    { ...replica, loadBalanced: true },
  );
  expect(targetTrackingPolicies[0]).toMatchObject({
    policyName: 'ALBRequestCountPerTarget-600',
    targetValue: 600,
    resourceLabel: 'app/web/1/targetgroup/web/2',
  });
  expect(readStoredPolicies(JSON.parse(JSON.stringify(targetTrackingPolicies)))).toEqual(
    targetTrackingPolicies,
  );
});

describe('readStoredPolicies', () => {
  it('reads what validation stored, and names the row of anything else', () => {
    const { targetTrackingPolicies } = validateScalingConfiguration(
      {
        minCapacity: 0,
        maxCapacity: 1,
        targetTrackingPolicies: [{ predefinedMetric: 'ECSServiceAverageMemoryUtilization', targetValue: 70 }],
      },
      replica,
    );
    expect(readStoredPolicies(JSON.parse(JSON.stringify(targetTrackingPolicies)), 's1')).toEqual(
      targetTrackingPolicies,
    );
    expect(() => readStoredPolicies([{ policyName: 'p' }], 's1')).toThrow(
      /stored scaling policies s1 is malformed: \[0\]/,
    );
    expect(() => readStoredPolicies({}, 's1')).toThrow(/not an array/);
  });
});

describe('scalingReadings', () => {
  it("averages the tasks' samples over each window, with the number of samples", () => {
    const sample = (s: number, cpuUnits: number) => ({
      sampledAt: at(s),
      cpuUnits,
      memoryBytes: 128 * 1024 * 1024,
    });
    const readings = scalingReadings(
      [{ cpu: 256, memory: 512, samples: [sample(300, 0), sample(590, 256), sample(600, 128)] }],
      NOW,
      { scaleOutSeconds: 60, scaleInSeconds: 600 },
    );
    expect(readings.ECSServiceAverageCPUUtilization).toEqual({
      scaleOut: { value: 75, windowSeconds: 60, samples: 2 },
      scaleIn: { value: 50, windowSeconds: 600, samples: 3 },
    });
    expect(readings.ECSServiceAverageMemoryUtilization.scaleOut.value).toBe(25);
    expect(readings.ALBRequestCountPerTarget.scaleOut).toEqual({
      value: null,
      windowSeconds: 60,
      samples: 0,
    });
  });
});

const policy = (p: Partial<TargetTrackingPolicy> = {}): TargetTrackingPolicy => ({
  policyName: 'cpu50',
  predefinedMetric: 'ECSServiceAverageCPUUtilization',
  targetValue: 50,
  scaleOutCooldown: 60,
  scaleInCooldown: 120,
  disableScaleIn: false,
  ...p,
});
const reading = (value: number | null, windowSeconds: number, samples = 6): MetricReading => ({
  value,
  windowSeconds,
  samples,
});
/** Readings with the same value on both windows unless `scaleIn` says otherwise. */
const readings = (
  cpu: number | null,
  memory: number | null = 10,
  scaleInCpu = cpu,
  requests: number | null = null,
) => ({
  ECSServiceAverageCPUUtilization: { scaleOut: reading(cpu, 60), scaleIn: reading(scaleInCpu, 300) },
  ECSServiceAverageMemoryUtilization: { scaleOut: reading(memory, 60), scaleIn: reading(memory, 300) },
  ALBRequestCountPerTarget: { scaleOut: reading(requests, 60), scaleIn: reading(requests, 300) },
});
const state = (s: Partial<ScalingState>): ScalingState => ({
  serviceName: 'web',
  desiredCount: 1,
  minCapacity: 1,
  maxCapacity: 3,
  policies: [policy()],
  readings: readings(50),
  deploymentInProgress: false,
  lastScaleOutAt: null,
  lastScaleInAt: null,
  now: NOW,
  ...s,
});
const requests100 = policy({
  policyName: 'req100',
  predefinedMetric: 'ALBRequestCountPerTarget',
  targetValue: 100,
});
const memory60 = policy({
  policyName: 'mem60',
  predefinedMetric: 'ECSServiceAverageMemoryUtilization',
  targetValue: 60,
});

describe('decideScaling', () => {
  it.each<[string, Partial<ScalingState>, number | null]>([
    ['at the target: nothing', {}, null],
    ['1 task at 96.4 % of a 50 % target: 2', { readings: readings(96.4) }, 2],
    ['1 task at 400 %: 8, held at maxCapacity 3', { readings: readings(400) }, 3],
    ['2 tasks at 60 %: ceil(2.4) = 3', { desiredCount: 2, readings: readings(60) }, 3],
    ['at maxCapacity already: nothing more', { desiredCount: 3, readings: readings(100) }, null],
    ['within the scale-out cooldown: nothing', { readings: readings(100), lastScaleOutAt: at(550) }, null],
    ['the scale-out cooldown over: out', { readings: readings(100), lastScaleOutAt: at(540) }, 2],
    ['a scale-in cooldown does not hold a scale-out', { readings: readings(100), lastScaleInAt: at(599) }, 2],
    [
      'a deployment in progress does not hold a scale-out',
      { readings: readings(100), deploymentInProgress: true },
      2,
    ],
    [
      'too few samples: nothing',
      {
        readings: {
          ...readings(100),
          ECSServiceAverageCPUUtilization: { scaleOut: reading(100, 60, 1), scaleIn: reading(100, 300) },
        },
      },
      null,
    ],
    ['no sample at all: nothing', { readings: readings(null) }, null],
    ['3 tasks idle: in to minCapacity', { desiredCount: 3, readings: readings(0) }, 1],
    ['3 tasks at 20 %: ceil(1.2) = 2', { desiredCount: 3, readings: readings(20) }, 2],
    ['3 tasks at 46 % (over 90 % of the target): nothing', { desiredCount: 3, readings: readings(46) }, null],
    ['3 tasks at 40 %: ceil(2.4) is 3, nothing', { desiredCount: 3, readings: readings(40) }, null],
    [
      'idle now but busy over the long window: nothing',
      { desiredCount: 3, readings: readings(0, 10, 80) },
      null,
    ],
    [
      'within the scale-in cooldown: nothing',
      { desiredCount: 3, readings: readings(0), lastScaleInAt: at(500) },
      null,
    ],
    ['the scale-in cooldown over: in', { desiredCount: 3, readings: readings(0), lastScaleInAt: at(480) }, 1],
    [
      'a recent scale-out does not hold a scale-in',
      { desiredCount: 3, readings: readings(0), lastScaleOutAt: at(599) },
      1,
    ],
    [
      'a deployment in progress holds a scale-in',
      { desiredCount: 3, readings: readings(0), deploymentInProgress: true },
      null,
    ],
    [
      'disableScaleIn: nothing',
      { desiredCount: 3, readings: readings(0), policies: [policy({ disableScaleIn: true })] },
      null,
    ],
    [
      'too few samples on the long window: no scale-in',
      {
        desiredCount: 3,
        readings: {
          ...readings(0),
          ECSServiceAverageCPUUtilization: { scaleOut: reading(0, 60), scaleIn: reading(0, 300, 1) },
        },
      },
      null,
    ],
    [
      'below minCapacity: up to it, whatever the metric',
      { desiredCount: 0, minCapacity: 2, readings: readings(null) },
      2,
    ],
    ['above maxCapacity: down to it', { desiredCount: 5, readings: readings(null) }, 3],
    ['above maxCapacity during a deployment: nothing', { desiredCount: 5, deploymentInProgress: true }, null],
    ['no policy: only the bounds', { desiredCount: 2, policies: [], readings: readings(0) }, null],
    ['two policies, one says out: out', { policies: [policy(), memory60], readings: readings(10, 90) }, 2],
    [
      'two policies, the larger scale-out wins',
      { policies: [policy(), memory60], readings: readings(100, 180) },
      3,
    ],
    [
      'two policies, one idle and one at target: no scale-in',
      { desiredCount: 3, policies: [policy(), memory60], readings: readings(0, 60) },
      null,
    ],
    [
      'two policies both idle: in to the larger of their wishes',
      { desiredCount: 3, policies: [policy(), memory60], readings: readings(0, 30) },
      2,
    ],
    [
      'two policies both idle, one with disableScaleIn: nothing',
      {
        desiredCount: 3,
        policies: [policy(), { ...memory60, disableScaleIn: true }],
        readings: readings(0, 0),
      },
      null,
    ],
    [
      '2 targets at 250 requests per minute each, target 100: 5',
      { desiredCount: 2, maxCapacity: 10, policies: [requests100], readings: readings(0, 0, 0, 250) },
      5,
    ],
    [
      '4 targets at 20 requests per minute each, target 100: in to 1',
      { desiredCount: 4, maxCapacity: 5, policies: [requests100], readings: readings(0, 0, 0, 20) },
      1,
    ],
    ['no request rate yet: nothing', { desiredCount: 2, policies: [requests100] }, null],
  ])('%s', (_what, s, want) => {
    expect(decideScaling(state(s))?.desiredCount ?? null).toBe(want);
  });

  it('says why, in a service event', () => {
    expect(decideScaling(state({ readings: readings(96.4) }))).toEqual({
      direction: 'out',
      desiredCount: 2,
      message:
        '(service web) scaled out from 1 to 2 tasks: average CPU utilization 96.4 % over 60 s, target 50 % (policy cpu50)',
    });
    expect(decideScaling(state({ desiredCount: 3, readings: readings(2, 10, 3.25) }))?.message).toBe(
      '(service web) scaled in from 3 to 1 tasks: average CPU utilization 3.3 % over 300 s, target 50 % (policy cpu50)',
    );
    expect(decideScaling(state({ policies: [requests100], readings: readings(0, 0, 0, 150) }))?.message).toBe(
      '(service web) scaled out from 1 to 2 tasks: 150.0 requests per target per minute over 60 s, target 100 (policy req100)',
    );
    expect(decideScaling(state({ desiredCount: 0 }))?.message).toBe(
      '(service web) scaled out from 0 to 1 tasks: below minCapacity 1',
    );
  });
});
