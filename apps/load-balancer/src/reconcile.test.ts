import type { LoadBalancerState, Target } from './desired-state.js';
import { targetHealth } from './health.js';
import { planServers } from './reconcile.js';
import { parseOldWorkers, type RuntimeServer } from './runtime-api.js';

const now = new Date('2026-11-27T12:00:00Z');
const secondsAgo = (s: number) => new Date(now.getTime() - s * 1000);

function lb(targets: Target[]): LoadBalancerState {
  return {
    name: 'web',
    listeners: [{ port: 8000, protocol: 'HTTP', defaultTargetGroupId: 'g', rules: [], proxyProtocol: false }],
    targetGroups: [
      {
        id: 'g',
        name: 'web',
        protocol: 'HTTP',
        healthCheck: {
          path: '/',
          intervalSeconds: 1,
          timeoutSeconds: 1,
          healthyThresholdCount: 2,
          unhealthyThresholdCount: 2,
          matcher: '200',
        },
        deregistrationDelaySeconds: 30,
        slowStartSeconds: 0,
        targets,
      },
    ],
  };
}

const target = (id: string, port: number, drainingSince: Date | null = null): Target => ({
  id,
  host: '127.0.0.2',
  port,
  drainingSince,
});
const server = (name: string, port: number, status = 'UP', sessions = 0): RuntimeServer => ({
  backend: 'tg-web',
  name,
  host: '127.0.0.2',
  port,
  status,
  checkStatus: 'L7OK',
  sessions,
});
const runtime = (...servers: RuntimeServer[]) => ({ backends: ['tg-web'], servers, backendRequests: {} });

describe('planServers', () => {
  it('adds new targets with the health check options', () => {
    expect(planServers(lb([target('a', 1)]), runtime(), now)).toEqual([
      {
        kind: 'add',
        backend: 'tg-web',
        server: 'a',
        address: '127.0.0.2:1',
        options: 'check inter 1s rise 2 fall 2 weight 0',
        weight: 100,
      },
    ]);
  });

  it('does nothing when servers match', () => {
    expect(planServers(lb([target('a', 1)]), runtime(server('a', 1)), now)).toEqual([]);
    expect(planServers(lb([target('a', 1)]), runtime(server('a', 1, 'DOWN')), now)).toEqual([]);
  });

  it('puts a target back in rotation when it is in maintenance or draining but wanted', () => {
    expect(planServers(lb([target('a', 1)]), runtime(server('a', 1, 'MAINT')), now)).toEqual([
      { kind: 'ready', backend: 'tg-web', server: 'a' },
    ]);
    expect(planServers(lb([target('a', 1)]), runtime(server('a', 1, 'DRAIN')), now)).toEqual([
      { kind: 'ready', backend: 'tg-web', server: 'a' },
    ]);
  });

  it('drains a draining target that has sessions, within its delay', () => {
    expect(planServers(lb([target('a', 1, secondsAgo(5))]), runtime(server('a', 1, 'UP', 2)), now)).toEqual([
      { kind: 'drain', backend: 'tg-web', server: 'a' },
    ]);
    expect(
      planServers(lb([target('a', 1, secondsAgo(5))]), runtime(server('a', 1, 'DRAIN', 2)), now),
    ).toEqual([]);
  });

  it('removes a draining target once idle, or by force after the deregistration delay', () => {
    expect(
      planServers(lb([target('a', 1, secondsAgo(5))]), runtime(server('a', 1, 'DRAIN', 0)), now),
    ).toEqual([{ kind: 'remove', backend: 'tg-web', server: 'a', force: false, reason: 'drained' }]);
    expect(
      planServers(lb([target('a', 1, secondsAgo(30))]), runtime(server('a', 1, 'DRAIN', 3)), now),
    ).toEqual([
      { kind: 'remove', backend: 'tg-web', server: 'a', force: true, reason: 'deregistration delay over' },
    ]);
  });

  it('never adds back a draining target that is gone', () => {
    expect(planServers(lb([target('a', 1, secondsAgo(1))]), runtime(), now)).toEqual([]);
  });

  it('removes servers that are no target, and replaces a target whose address changed', () => {
    expect(planServers(lb([target('a', 2)]), runtime(server('a', 1), server('x', 3, 'UP', 1)), now)).toEqual([
      { kind: 'remove', backend: 'tg-web', server: 'a', force: false, reason: 'not a target' },
      { kind: 'remove', backend: 'tg-web', server: 'x', force: false, reason: 'not a target' },
    ]);
    // Next pass, once 'a' is gone: added at its new address.
    expect(planServers(lb([target('a', 2)]), runtime(), now)).toMatchObject([
      { kind: 'add', address: '127.0.0.2:2' },
    ]);
  });

  it('leaves backends alone until a reload has created them', () => {
    expect(
      planServers(lb([target('a', 1)]), { backends: [], servers: [], backendRequests: {} }, now),
    ).toEqual([]);
  });
});

describe('targetHealth', () => {
  const hc = (status: string, checkStatus: string, drainingSince: Date | null = null, sessions = 0) =>
    targetHealth(
      lb([target('a', 1, drainingSince)]),
      runtime({ ...server('a', 1, status, sessions), checkStatus }),
    )[0];

  it('maps HAProxy states to ELB target states and reasons', () => {
    expect(hc('UP', 'L7OK')).toEqual({ targetId: 'a', state: 'healthy', reason: null, activeSessions: 0 });
    expect(hc('UP 1/2', 'L7STS')).toMatchObject({ state: 'healthy' });
    expect(hc('DOWN 1/2', 'L7OK')).toMatchObject({ state: 'initial', reason: 'Elb.InitialHealthChecking' });
    expect(hc('DOWN', 'INI')).toMatchObject({ state: 'initial' });
    expect(hc('DOWN', 'L7STS')).toMatchObject({ state: 'unhealthy', reason: 'Target.ResponseCodeMismatch' });
    expect(hc('DOWN', 'L4TOUT')).toMatchObject({ state: 'unhealthy', reason: 'Target.Timeout' });
    expect(hc('DOWN', 'L4CON')).toMatchObject({ state: 'unhealthy', reason: 'Target.FailedHealthChecks' });
    expect(hc('MAINT', 'L7OK')).toMatchObject({ state: 'initial', reason: 'Elb.RegistrationInProgress' });
  });

  it('reports draining targets with their sessions, and 0 once removed', () => {
    expect(hc('DRAIN', 'L7OK', secondsAgo(1), 2)).toEqual({
      targetId: 'a',
      state: 'healthy',
      reason: 'Target.DeregistrationInProgress',
      activeSessions: 2,
    });
    expect(targetHealth(lb([target('a', 1, secondsAgo(1))]), runtime())[0]).toEqual({
      targetId: 'a',
      state: 'unhealthy',
      reason: 'Target.NotRegistered',
      activeSessions: 0,
    });
  });
});

describe('parseOldWorkers', () => {
  it('lists the pids under "# old workers" in show proc', () => {
    const showProc = [
      '#<PID>          <type>          <reloads>       <uptime>        <version>',
      '14740           master          1 [failed: 0]   0d00h00m02s     2.6.12-1+deb12u4',
      '# workers',
      '14773           worker          0               0d00h00m01s     2.6.12-1+deb12u4',
      '# old workers',
      '14741           worker          1               0d00h00m02s     2.6.12-1+deb12u4',
      '# programs',
      '',
    ].join('\n');
    expect(parseOldWorkers(showProc)).toEqual([14741]);
  });
});

describe('targetHealth after a reload', () => {
  it('counts sessions still open in the workers a reload replaced', () => {
    const draining = lb([target('a', 1, secondsAgo(1))]);
    expect(targetHealth(draining, { ...runtime(), oldWorkerSessions: { 'tg-web/a': 1 } })[0]).toEqual({
      targetId: 'a',
      state: 'unhealthy',
      reason: 'Target.DeregistrationInProgress',
      activeSessions: 1,
    });
    const withServer = { ...runtime(server('a', 1, 'DRAIN', 2)), oldWorkerSessions: { 'tg-web/a': 1 } };
    expect(targetHealth(draining, withServer)[0]?.activeSessions).toBe(3);
  });
});
