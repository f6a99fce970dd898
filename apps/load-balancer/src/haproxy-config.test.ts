import type { LoadBalancerState } from './desired-state.js';
import { configStructure, expectStatus, renderConfig } from './haproxy-config.js';

const opts = {
  bindAddress: '127.0.0.1',
  adminSocket: '/run/lb/admin.sock',
  serverStateFile: '/run/lb/state',
};
const hc = {
  path: '/health',
  intervalSeconds: 5,
  timeoutSeconds: 2,
  healthyThresholdCount: 3,
  unhealthyThresholdCount: 2,
  matcher: '200',
};

function state(): LoadBalancerState {
  return {
    name: 'web',
    listeners: [
      {
        port: 8000,
        protocol: 'HTTP',
        defaultTargetGroupId: 'g-web',
        rules: [
          { priority: 20, host: 'admin.example.com', targetGroupId: 'g-admin' },
          { priority: 10, pathPrefix: '/api', targetGroupId: 'g-api' },
        ],
        proxyProtocol: false,
      },
      { port: 5432, protocol: 'TCP', defaultTargetGroupId: 'g-db', rules: [], proxyProtocol: true },
    ],
    targetGroups: [
      {
        id: 'g-web',
        name: 'web-tg',
        protocol: 'HTTP',
        healthCheck: hc,
        deregistrationDelaySeconds: 30,
        slowStartSeconds: 0,
        targets: [
          { id: 't1', host: '10.0.0.1', port: 32768, drainingSince: null },
          { id: 't2', host: '10.0.0.2', port: 32769, drainingSince: new Date(0) },
        ],
      },
      {
        id: 'g-api',
        name: 'api',
        protocol: 'HTTP',
        healthCheck: { ...hc, matcher: '200-202,301' },
        deregistrationDelaySeconds: 30,
        slowStartSeconds: 20,
        targets: [{ id: 't4', host: '10.0.0.4', port: 80, drainingSince: null }],
      },
      {
        id: 'g-admin',
        name: 'admin',
        protocol: 'HTTP',
        healthCheck: hc,
        deregistrationDelaySeconds: 30,
        slowStartSeconds: 0,
        targets: [],
      },
      {
        id: 'g-db',
        name: 'db',
        protocol: 'TCP',
        healthCheck: { ...hc, path: null, matcher: null },
        deregistrationDelaySeconds: 300,
        slowStartSeconds: 0,
        targets: [{ id: 't3', host: '10.0.0.3', port: 5432, drainingSince: null }],
      },
    ],
  };
}

describe('renderConfig', () => {
  const cfg = renderConfig(state(), opts);

  it('runs master-worker with an admin socket that hands listeners over on reload', () => {
    expect(cfg).toContain('  master-worker\n');
    expect(cfg).toContain('  stats socket /run/lb/admin.sock mode 600 level admin expose-fd listeners\n');
    expect(cfg).toContain('  server-state-file /run/lb/state\n');
    expect(cfg).toContain('  load-server-state-from-file global\n');
  });

  it('binds one frontend per listener, with forwarded headers on HTTP', () => {
    expect(cfg).toContain(
      [
        'frontend listener-8000',
        '  bind 127.0.0.1:8000',
        '  mode http',
        '  option forwardfor',
        '  http-request set-header X-Forwarded-Proto http',
        '  http-request set-header X-Forwarded-Port 8000',
      ].join('\n'),
    );
    expect(cfg).toContain(
      'frontend listener-5432\n  bind 127.0.0.1:5432\n  mode tcp\n  default_backend tg-db-pp\n',
    );
  });

  it('routes rules in priority order, then the default group', () => {
    const api = cfg.indexOf('use_backend tg-api if rule10_path');
    const admin = cfg.indexOf('use_backend tg-admin if rule20_host');
    expect(api).toBeGreaterThan(0);
    expect(admin).toBeGreaterThan(api);
    expect(cfg).toContain('  acl rule10_path path_beg /api\n');
    expect(cfg).toContain('  acl rule20_host hdr(host),field(1,:) -i admin.example.com\n');
    expect(cfg.indexOf('default_backend tg-web-tg')).toBeGreaterThan(admin);
  });

  it('checks health as the target group says and lists the targets that are not draining', () => {
    expect(cfg).toContain(
      [
        'backend tg-web-tg',
        '  mode http',
        '  balance roundrobin',
        '  timeout check 2s',
        '  option httpchk GET /health',
        '  http-check expect status 200',
        '  server t1 10.0.0.1:32768 check inter 5s rise 3 fall 2 weight 100',
      ].join('\n'),
    );
    expect(cfg).not.toContain('t2');
    expect(cfg).toContain('  server t4 10.0.0.4:80 check inter 5s rise 3 fall 2 weight 100 slowstart 20s\n');
  });

  it('sends the PROXY protocol on TCP listeners that ask for it, and checks TCP groups by connecting', () => {
    expect(cfg).toContain(
      'backend tg-db-pp\n  mode tcp\n  balance roundrobin\n  timeout check 2s\n  server t3 10.0.0.3:5432 check inter 5s rise 3 fall 2 weight 100 send-proxy-v2\n',
    );
  });

  it('leaves out listeners whose groups are missing or of the other protocol', () => {
    const s = state();
    s.listeners.push({
      port: 9000,
      protocol: 'TCP',
      defaultTargetGroupId: 'g-web',
      rules: [],
      proxyProtocol: false,
    });
    s.listeners.push({
      port: 9001,
      protocol: 'HTTP',
      defaultTargetGroupId: 'nope',
      rules: [],
      proxyProtocol: false,
    });
    const out = renderConfig(s, opts);
    expect(out).not.toContain('listener-9000');
    expect(out).not.toContain('listener-9001');
  });

  it('structure ignores servers: target changes need no reload, listener changes do', () => {
    const a = state();
    const b = state();
    b.targetGroups[0]!.targets.push({ id: 't9', host: '10.0.0.9', port: 1, drainingSince: null });
    expect(configStructure(a, opts)).toBe(configStructure(b, opts));
    expect(configStructure(a, opts)).not.toContain('\n  server ');
    b.listeners[0]!.port = 8001;
    expect(configStructure(a, opts)).not.toBe(configStructure(b, opts));
  });
});

describe('expectStatus', () => {
  it.each([
    ['200', 'status 200'],
    [null, 'status 200'],
    ['200,302', 'rstatus ^(200|302)$'],
    ['200-202', 'rstatus ^(200|201|202)$'],
  ])('%s → %s', (matcher, out) => expect(expectStatus(matcher)).toBe(out));

  it('refuses a matcher that is not codes', () => expect(() => expectStatus('2xx')).toThrow(/matcher/));
});
