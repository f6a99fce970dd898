import { isServing, planService } from './service-plan.js';
import {
  drainEnded,
  elbArns,
  listenerTargetGroupNames,
  loadBalancersDiffer,
  serviceTaskDeregistrationRefusal,
  targetGroupNameFromRef,
  targetLeavesAtOnce,
  targetState,
  targetsPassGate,
  taskLoadBalancerHealth,
  taskTargets,
  validateCreateLoadBalancer,
  validateCreateTargetGroup,
  validateModifyListeners,
  validateServiceLoadBalancers,
  validateTargets,
  type TargetHealthReport,
} from './load-balancing.js';

const now = new Date('2026-11-27T12:00:00Z');
const ago = (s: number) => new Date(now.getTime() - s * 1000);
const report = (
  reporter: string,
  state: string,
  ageSeconds: number,
  activeSessions = 0,
): TargetHealthReport => ({
  reporter,
  state,
  reason: state === 'unhealthy' ? 'Layer7 wrong status (503)' : null,
  activeSessions,
  reportedAt: ago(ageSeconds),
});

describe('targetState', () => {
  const base = {
    drainingSince: null,
    registeredAt: ago(600),
    groupInUse: true,
    intervalSeconds: 10,
    unhealthyThresholdCount: 3,
    now,
  };
  it.each([
    ['no report yet', [], 'initial', 'Elb.RegistrationInProgress'],
    ['one healthy reporter', [report('lb1', 'healthy', 1)], 'healthy', null],
    ['both healthy', [report('lb1', 'healthy', 1), report('lb2', 'healthy', 29)], 'healthy', null],
    [
      'one of two still initial',
      [report('lb1', 'healthy', 1), report('lb2', 'initial', 1)],
      'initial',
      'Elb.InitialHealthChecking',
    ],
    [
      'any unhealthy wins',
      [report('lb1', 'healthy', 1), report('lb2', 'unhealthy', 1)],
      'unhealthy',
      'Target.FailedHealthChecks',
    ],
    [
      'a stale unhealthy report is ignored',
      [report('lb1', 'healthy', 1), report('lb2', 'unhealthy', 31)],
      'healthy',
      null,
    ],
    ['only stale reports', [report('lb1', 'healthy', 31)], 'initial', 'Elb.RegistrationInProgress'],
  ])('%s', (_name, reports, state, reason) => {
    const got = targetState({ ...base, reports });
    expect(got.state).toBe(state);
    expect(got.reason).toBe(reason);
  });

  it('draining before everything, then unused', () => {
    const reports = [report('lb1', 'healthy', 1)];
    expect(targetState({ ...base, reports, drainingSince: ago(5), groupInUse: false }).state).toBe(
      'draining',
    );
    expect(targetState({ ...base, reports, groupInUse: false })).toMatchObject({
      state: 'unused',
      reason: 'Target.NotInUse',
    });
  });

  it('a new target is in its initial checks until unhealthyThresholdCount checks could have failed', () => {
    const reports = [report('lb1', 'unhealthy', 1)];
    // 3 checks 10 s apart: unhealthy from 30 s after registration, as ELB.
    expect(targetState({ ...base, reports, registeredAt: ago(29) })).toMatchObject({
      state: 'initial',
      reason: 'Elb.InitialHealthChecking',
    });
    expect(targetState({ ...base, reports, registeredAt: ago(30) })).toMatchObject({
      state: 'unhealthy',
      reason: 'Target.FailedHealthChecks',
    });
  });

  it('names the reporter and its reason when unhealthy', () => {
    expect(targetState({ ...base, reports: [report('lb2', 'unhealthy', 1)] }).description).toBe(
      'lb2: Layer7 wrong status (503)',
    );
  });
});

describe('drainEnded', () => {
  const base = { drainingSince: ago(10), deregistrationDelaySeconds: 30, intervalSeconds: 10, now };
  /** A report of an app that has applied the drain. */
  const draining = (reporter: string, ageSeconds: number, sessions = 0): TargetHealthReport => ({
    ...report(reporter, 'healthy', ageSeconds, sessions),
    reason: 'Target.DeregistrationInProgress',
  });
  it.each([
    ['no reporter at all', [], true],
    ['delay passed with sessions open', [draining('lb1', 1, 3)], true, { drainingSince: ago(30) }],
    ['sessions still open', [draining('lb1', 1, 3)], false],
    ['every reporter drained and at 0 since the drain began', [draining('lb1', 1), draining('lb2', 2)], true],
    [
      'a server the app removed after its drain counts as drained',
      [{ ...report('lb1', 'unhealthy', 1), reason: 'Target.NotRegistered' }],
      true,
    ],
    [
      'a report at 0 sessions from a pass that had not yet applied the drain does not end it',
      [report('lb1', 'healthy', 1)],
      false,
    ],
    ['one reporter not heard since the drain began', [draining('lb1', 1), draining('lb2', 12)], false],
    ['a stale reporter does not hold the drain', [draining('lb1', 1), draining('lb2', 40, 9)], true],
    ['a delay of 0 ends at once', [draining('lb1', 1, 3)], true, { deregistrationDelaySeconds: 0 }],
    [
      'a target every reporter finds unhealthy takes no traffic: its drain ends at once',
      [report('lb1', 'unhealthy', 15), report('lb2', 'unhealthy', 1)],
      true,
    ],
    [
      'unhealthy on one reporter, still healthy on another that has not applied the drain',
      [report('lb1', 'unhealthy', 1), report('lb2', 'healthy', 1)],
      false,
    ],
    ['unhealthy with a request still open on it', [report('lb1', 'unhealthy', 1, 1)], false],
  ] as [string, TargetHealthReport[], boolean, object?][])('%s', (_name, reports, ended, over = {}) => {
    expect(drainEnded({ ...base, ...over, reports })).toBe(ended);
  });
});

it('targetsPassGate: every target registered and healthy (or in a group no listener uses)', () => {
  expect(targetsPassGate([])).toBe(true);
  expect(targetsPassGate([], 1)).toBe(false);
  expect(targetsPassGate(['healthy'], 2)).toBe(false);
  expect(targetsPassGate(['healthy', 'healthy'])).toBe(true);
  expect(targetsPassGate(['healthy', 'unused'])).toBe(true);
  expect(targetsPassGate(['healthy', 'initial'])).toBe(false);
  expect(targetsPassGate(['unhealthy'])).toBe(false);
  expect(targetsPassGate(['draining'])).toBe(false);
});

describe('targetLeavesAtOnce', () => {
  const running = { lastStatus: 'RUNNING', desiredStatus: 'RUNNING', essentialContainerStopped: false };
  it.each([
    ['a running task', running, null, false],
    [
      'a task that stopped on its own (crashed, instance lost)',
      { ...running, lastStatus: 'STOPPED' },
      null,
      true,
    ],
    [
      'a stopped task whose drain had begun',
      { ...running, lastStatus: 'STOPPED', desiredStatus: 'STOPPED' },
      ago(1),
      true,
    ],
    [
      'an essential container exited, not yet asked to stop',
      { ...running, essentialContainerStopped: true },
      null,
      true,
    ],
    [
      'an essential container exited during a drain',
      { lastStatus: 'DEACTIVATING', desiredStatus: 'STOPPED', essentialContainerStopped: true },
      ago(1),
      true,
    ],
    ['asked to stop without a drain', { ...running, desiredStatus: 'STOPPED' }, null, true],
    [
      'draining, the task still serving what it has',
      { lastStatus: 'DEACTIVATING', desiredStatus: 'STOPPED', essentialContainerStopped: false },
      ago(1),
      false,
    ],
  ] as const)('%s', (_name, task, drainingSince, atOnce) => {
    expect(targetLeavesAtOnce({ drainingSince }, task)).toBe(atOnce);
  });
});

it('taskLoadBalancerHealth: the gate, and the groups in which the task is unhealthy', () => {
  expect(
    taskLoadBalancerHealth(
      [
        { targetGroup: 'web-tg', state: 'healthy' },
        { targetGroup: 'api-tg', state: 'initial' },
      ],
      2,
    ),
  ).toEqual({ loadBalancersHealthy: false, unhealthyTargetGroups: [] });
  expect(
    taskLoadBalancerHealth(
      [
        { targetGroup: 'web-tg', state: 'unhealthy' },
        { targetGroup: 'api-tg', state: 'unhealthy' },
      ],
      2,
    ),
  ).toEqual({ loadBalancersHealthy: false, unhealthyTargetGroups: ['api-tg', 'web-tg'] });
  expect(taskLoadBalancerHealth([{ targetGroup: 'web-tg', state: 'healthy' }], 1)).toEqual({
    loadBalancersHealthy: true,
    unhealthyTargetGroups: [],
  });
});

describe('the gate in the service planner', () => {
  const spec = {
    name: 'web',
    status: 'ACTIVE' as const,
    desiredCount: 1,
    minimumHealthyPercent: 100,
    maximumPercent: 200,
    circuitBreaker: { enable: false, rollback: false },
    healthCheckGracePeriodSeconds: 0,
    steady: false,
  };
  const deployment = (id: string, status: 'PRIMARY' | 'ACTIVE') => ({
    id,
    status,
    taskDefinitionId: `td-${id}`,
    desiredCount: 1,
    rolloutState: 'IN_PROGRESS' as const,
    createdAt: now,
    failedTasks: 0,
  });
  const task = (id: string, deploymentId: string, loadBalancersHealthy?: boolean) => ({
    id,
    deploymentId,
    lastStatus: 'RUNNING' as const,
    desiredStatus: 'RUNNING' as const,
    healthStatus: 'UNKNOWN' as const,
    hasHealthCheck: false,
    startedAt: now,
    createdAt: now,
    ...(loadBalancersHealthy === undefined ? {} : { loadBalancersHealthy }),
  });
  const deployments = [deployment('new', 'PRIMARY'), deployment('old', 'ACTIVE')];

  it('keeps the old task while the new one is not healthy in its target groups', () => {
    expect(isServing(task('n', 'new', false))).toBe(false);
    const actions = planService(spec, deployments, [task('o', 'old', true), task('n', 'new', false)], now);
    expect(actions.filter((a) => a.type === 'stopTask')).toEqual([]);
  });

  describe('a task that fails ELB health checks', () => {
    const failing = (id: string, deploymentId: string, startedSecondsAgo: number, groups = ['web-tg']) => ({
      ...task(id, deploymentId, false),
      startedAt: ago(startedSecondsAgo),
      unhealthyTargetGroups: groups,
    });
    const graced = { ...spec, healthCheckGracePeriodSeconds: 60 };
    const stops = (actions: ReturnType<typeof planService>) => actions.filter((a) => a.type === 'stopTask');

    it('is stopped as a failure past the grace period, with ECS’s event', () => {
      const actions = planService(
        graced,
        deployments,
        [task('o', 'old', true), failing('n1234abcdef', 'new', 60)],
        now,
      );
      expect(stops(actions)).toEqual([
        {
          type: 'stopTask',
          taskId: 'n1234abcdef',
          reason: 'Task failed ELB health checks in (target-group web-tg)',
          failed: true,
        },
      ]);
      expect(actions).toContainEqual({
        type: 'event',
        message: '(service web) (task n1234abc) failed ELB health checks in (target-group web-tg).',
      });
    });

    it('is kept within the grace period, and while its target is still initial', () => {
      expect(
        stops(planService(graced, deployments, [task('o', 'old', true), failing('n', 'new', 59)], now)),
      ).toEqual([]);
      expect(
        stops(planService(graced, deployments, [task('o', 'old', true), failing('n', 'new', 600, [])], now)),
      ).toEqual([]);
    });

    it('names every group that finds it unhealthy', () => {
      const actions = planService(spec, deployments, [failing('n', 'new', 1, ['api-tg', 'web-tg'])], now);
      expect(stops(actions)[0]).toMatchObject({
        reason: 'Task failed ELB health checks in (target-group api-tg) (target-group web-tg)',
      });
    });

    it('counts for the circuit breaker: a revision that never gets healthy is rolled back', () => {
      const breaker = { ...spec, desiredCount: 3, circuitBreaker: { enable: true, rollback: true } };
      const rollout = [
        { ...deployment('new', 'PRIMARY'), desiredCount: 3, failedTasks: 2 },
        { ...deployment('old', 'ACTIVE'), rolloutState: 'COMPLETED' as const },
      ];
      const actions = planService(
        breaker,
        rollout,
        [task('o1', 'old', true), task('o2', 'old', true), task('o3', 'old', true), failing('n', 'new', 5)],
        now,
      );
      expect(stops(actions)).toEqual([expect.objectContaining({ taskId: 'n', failed: true })]);
      expect(actions).toContainEqual(
        expect.objectContaining({ type: 'updateDeployment', deploymentId: 'new', rolloutState: 'FAILED' }),
      );
      expect(actions).toContainEqual(
        expect.objectContaining({
          type: 'createDeployment',
          taskDefinitionId: 'td-old',
          rolledBackFrom: 'new',
        }),
      );
    });
  });

  it('stops the old task once the new one is healthy in every target group', () => {
    expect(isServing(task('n', 'new', true))).toBe(true);
    expect(isServing(task('n', 'new'))).toBe(true);
    const actions = planService(spec, deployments, [task('o', 'old', true), task('n', 'new', true)], now);
    expect(actions).toContainEqual(expect.objectContaining({ type: 'stopTask', taskId: 'o' }));
  });
});

describe('taskTargets', () => {
  const bindings = [
    { targetGroupId: 'tg1', containerName: 'web', containerPort: 80 },
    { targetGroupId: 'tg2', containerName: 'web', containerPort: 9090 },
  ];
  it('takes the host port of the container port, at the bind address or the instance address', () => {
    expect(
      taskTargets(
        bindings,
        [
          {
            name: 'web',
            networkBindings: [
              { bindIP: '0.0.0.0', containerPort: 80, hostPort: 32768, protocol: 'tcp' },
              { bindIP: '10.0.0.7', containerPort: 9090, hostPort: 9090, protocol: 'tcp' },
            ],
          },
        ],
        '10.0.0.5',
      ),
    ).toEqual([
      { targetGroupId: 'tg1', host: '10.0.0.5', port: 32768 },
      { targetGroupId: 'tg2', host: '10.0.0.7', port: 9090 },
    ]);
  });
  it('gives nothing for a port not published yet, a udp binding or a missing container', () => {
    expect(taskTargets(bindings, [{ name: 'web', networkBindings: [] }], '10.0.0.5')).toEqual([]);
    expect(
      taskTargets(
        bindings,
        [{ name: 'web', networkBindings: [{ containerPort: 80, hostPort: 80, protocol: 'udp' }] }],
        '10.0.0.5',
      ),
    ).toEqual([]);
    expect(taskTargets(bindings, [{ name: 'other', networkBindings: null }], null)).toEqual([]);
  });
});

describe('validateCreateTargetGroup', () => {
  it('fills in the defaults by protocol', () => {
    expect(validateCreateTargetGroup({ name: 'web-tg', protocol: 'HTTP' })).toEqual({
      name: 'web-tg',
      protocol: 'HTTP',
      healthCheck: {
        path: '/',
        intervalSeconds: 30,
        timeoutSeconds: 5,
        healthyThresholdCount: 5,
        unhealthyThresholdCount: 2,
        matcher: '200',
      },
      deregistrationDelaySeconds: 30,
      slowStartSeconds: 0,
    });
    expect(validateCreateTargetGroup({ name: 'db', protocol: 'TCP' }).healthCheck).toMatchObject({
      path: null,
      matcher: null,
      timeoutSeconds: 10,
    });
  });

  it.each([
    [{ protocol: 'HTTP' }, 'name'],
    [{ name: '-web', protocol: 'HTTP' }, 'name'],
    [{ name: 'x'.repeat(33), protocol: 'HTTP' }, 'name'],
    [{ name: 'web', protocol: 'UDP' }, 'protocol'],
    [{ name: 'web', protocol: 'HTTP', healthCheck: { path: 'health' } }, 'healthCheck.path'],
    [{ name: 'web', protocol: 'HTTP', healthCheck: { intervalSeconds: 1 } }, 'healthCheck.intervalSeconds'],
    [{ name: 'web', protocol: 'HTTP', healthCheck: { matcher: '2xx' } }, 'healthCheck.matcher'],
    [
      { name: 'web', protocol: 'HTTP', healthCheck: { intervalSeconds: 5, timeoutSeconds: 5 } },
      'healthCheck.timeoutSeconds',
    ],
    [{ name: 'web', protocol: 'TCP', healthCheck: { path: '/' } }, 'healthCheck.path'],
    [{ name: 'web', protocol: 'HTTP', deregistrationDelaySeconds: 3601 }, 'deregistrationDelaySeconds'],
  ])('%j is refused naming %s', (input, field) => {
    expect(() => validateCreateTargetGroup(input)).toThrow(expect.objectContaining({ field }));
  });
});

describe('load balancers and listeners', () => {
  const arn = elbArns.targetGroup({ region: 'local', account: '000000000000' }, 'web-tg');
  it('takes target groups by ARN or name', () => {
    expect(arn).toBe('arn:berth:elasticloadbalancing:local:000000000000:targetgroup/web-tg');
    expect(targetGroupNameFromRef(arn, 'x')).toBe('web-tg');
    expect(targetGroupNameFromRef('api', 'x')).toBe('api');
    expect(() => targetGroupNameFromRef('arn:berth:ecs:local:0:cluster/x', 'f')).toThrow(
      expect.objectContaining({ field: 'f' }),
    );
  });

  it('reads listeners with rules', () => {
    const got = validateCreateLoadBalancer({
      name: 'edge',
      listeners: [
        {
          port: 8000,
          protocol: 'HTTP',
          defaultTargetGroupArn: arn,
          rules: [{ priority: 1, pathPrefix: '/api', targetGroupArn: 'api' }],
        },
        { port: 5432, protocol: 'TCP', defaultTargetGroupArn: 'db', proxyProtocol: true },
      ],
    });
    expect(got.listeners[0]).toEqual({
      port: 8000,
      protocol: 'HTTP',
      defaultTargetGroupName: 'web-tg',
      proxyProtocol: false,
      rules: [{ priority: 1, pathPrefix: '/api', targetGroupName: 'api' }],
    });
    expect(listenerTargetGroupNames(got.listeners)).toEqual(['web-tg', 'api', 'db']);
  });

  const l = (over: object) => ({ port: 80, protocol: 'HTTP', defaultTargetGroupArn: 'web', ...over });
  it.each([
    [{ listeners: [l({}), l({})] }, 'listeners[1].port'],
    [{ listeners: [l({ port: 0 })] }, 'listeners[0].port'],
    [{ listeners: [l({ proxyProtocol: true })] }, 'listeners[0].proxyProtocol'],
    [
      { listeners: [l({ protocol: 'TCP', rules: [{ priority: 1, host: 'a', targetGroupArn: 'x' }] })] },
      'listeners[0].rules',
    ],
    [
      { listeners: [l({ rules: [{ priority: 1, targetGroupArn: 'x' }] })] },
      'listeners[0].rules[0].pathPrefix',
    ],
    [
      {
        listeners: [
          l({
            rules: [
              { priority: 1, host: 'a', targetGroupArn: 'x' },
              { priority: 1, host: 'b', targetGroupArn: 'x' },
            ],
          }),
        ],
      },
      'listeners[0].rules[1].priority',
    ],
    [{ listeners: [l({ defaultTargetGroupArn: '' })] }, 'listeners[0].defaultTargetGroupArn'],
    [{}, 'listeners'],
  ])('%j is refused naming %s', (input, field) => {
    expect(() => validateModifyListeners(input)).toThrow(expect.objectContaining({ field }));
  });
});

describe('validateTargets', () => {
  it('reads {id, port} as host and port', () => {
    expect(validateTargets({ targets: [{ id: '10.0.0.5', port: 8080 }] })).toEqual([
      { host: '10.0.0.5', port: 8080 },
    ]);
  });
  it.each([
    [{}, 'targets'],
    [{ targets: [] }, 'targets'],
    [{ targets: [{ id: '10.0.0.5' }] }, 'targets[0].port'],
    [{ targets: [{ id: 'a b', port: 1 }] }, 'targets[0].id'],
  ])('%j is refused naming %s', (input, field) => {
    expect(() => validateTargets(input)).toThrow(expect.objectContaining({ field }));
  });
});

describe('validateServiceLoadBalancers', () => {
  const containers = [
    { name: 'web', portMappings: [{ containerPort: 80 }, { containerPort: 53, protocol: 'udp' }] },
  ];
  it('needs the container and its tcp port', () => {
    expect(
      validateServiceLoadBalancers(
        [{ targetGroupArn: 'web-tg', containerName: 'web', containerPort: 80 }],
        containers,
      ),
    ).toEqual([{ targetGroupName: 'web-tg', containerName: 'web', containerPort: 80 }]);
    expect(() =>
      validateServiceLoadBalancers(
        [{ targetGroupArn: 'web-tg', containerName: 'db', containerPort: 80 }],
        containers,
      ),
    ).toThrow(expect.objectContaining({ field: 'loadBalancers[0].containerName' }));
    expect(() =>
      validateServiceLoadBalancers(
        [{ targetGroupArn: 'web-tg', containerName: 'web', containerPort: 53 }],
        containers,
      ),
    ).toThrow(expect.objectContaining({ field: 'loadBalancers[0].containerPort' }));
  });
});

it('loadBalancersDiffer: another group, container or port, or another number of entries; not the order', () => {
  const web = { targetGroupName: 'web-tg', containerName: 'web', containerPort: 80 };
  const api = { targetGroupName: 'api-tg', containerName: 'web', containerPort: 8080 };
  expect(loadBalancersDiffer([web, api], [api, web])).toBe(false);
  expect(loadBalancersDiffer([], [])).toBe(false);
  expect(loadBalancersDiffer([web], [web, api])).toBe(true);
  expect(loadBalancersDiffer([web], [])).toBe(true);
  expect(loadBalancersDiffer([web], [{ ...web, targetGroupName: 'web-tg-2' }])).toBe(true);
  expect(loadBalancersDiffer([web], [{ ...web, containerPort: 8080 }])).toBe(true);
});

it('serviceTaskDeregistrationRefusal: names the first service task target, its task and how to take it out', () => {
  const owned = [
    {
      host: '10.0.0.8',
      port: 32768,
      taskArn: 'arn:berth:ecs:local:0:task/default/t1',
      stopTaskPath: '/v1/clusters/default/tasks/t1/stop',
      service: 'web',
    },
  ];
  expect(serviceTaskDeregistrationRefusal([{ host: '10.0.0.9', port: 80 }], owned)).toBeNull();
  const refusal = serviceTaskDeregistrationRefusal(
    [
      { host: '10.0.0.9', port: 80 },
      { host: '10.0.0.8', port: 32768 },
    ],
    owned,
  );
  expect(refusal).toMatchObject({ field: 'targets[1]' });
  expect(refusal!.message).toBe(
    'targets[1]: 10.0.0.8:32768 is the target of task arn:berth:ecs:local:0:task/default/t1 of service web, ' +
      'registered while the task runs; deregister it by stopping the task (StopTask drains it first: ' +
      'POST /v1/clusters/default/tasks/t1/stop) or by scaling the service in',
  );
});
