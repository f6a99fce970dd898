// The data plane against a real HAProxy 2.6 and real little HTTP backends on 127.0.0.x: traffic,
// health checks, draining, membership changes and reloads under a request loop that must drop
// nothing, and a restart of the app that adopts the HAProxy it left running.
import http from 'node:http';
import net from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLogger } from '@berth/config';
import { freePort, parsePrometheusText, waitFor } from '@berth/testing';
import { startLoadBalancer, type LoadBalancerApp } from '../src/app.js';
import type { LoadBalancerState, Target, TargetGroup } from '../src/desired-state.js';
import type { HealthSink, RequestCount, RequestCountSink, TargetHealthReport } from '../src/health.js';
import { InMemoryStateSource } from '../src/state-source.js';
import { LoadBalancerMetrics } from '../src/metrics.js';

interface Backend {
  name: string;
  host: string;
  port: number;
  healthy: boolean;
  served: number;
  lastHeaders: http.IncomingHttpHeaders;
  server: http.Server;
}

/** An HTTP backend answering its name; /health follows `healthy`; /slow answers after 5 s. */
async function startBackend(name: string, host: string): Promise<Backend> {
  const port = await freePort();
  const b: Backend = {
    name,
    host,
    port,
    healthy: true,
    served: 0,
    lastHeaders: {},
    server: undefined as never,
  };
  b.server = http.createServer((req, res) => {
    if (req.url === '/health') {
      res.writeHead(b.healthy ? 200 : 500).end();
      return;
    }
    b.served++;
    b.lastHeaders = req.headers;
    const reply = () => res.writeHead(200, { 'content-type': 'text/plain' }).end(name);
    if (req.url === '/slow') setTimeout(reply, 5000);
    else reply();
  });
  await new Promise<void>((r) => b.server.listen(port, host, r));
  return b;
}

/** One request on a new connection (no keep-alive: a dropped request is HAProxy's doing). */
function get(port: number, urlPath = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, agent: false, timeout: 10_000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/** Requests in `parallel` loops until stopped; counts answers by backend and every failure. */
function requestLoop(port: number, parallel = 4) {
  const stats = { ok: 0, failed: [] as string[], byBackend: new Map<string, number>() };
  let stop = false;
  const loops = Array.from({ length: parallel }, async () => {
    while (!stop) {
      try {
        const r = await get(port);
        if (r.status === 200) {
          stats.ok++;
          stats.byBackend.set(r.body, (stats.byBackend.get(r.body) ?? 0) + 1);
        } else stats.failed.push(`HTTP ${r.status}`);
      } catch (err) {
        stats.failed.push(String(err));
      }
    }
  });
  return {
    stats,
    stop: async () => {
      stop = true;
      await Promise.all(loops);
      return stats;
    },
  };
}

class MemoryHealth implements HealthSink {
  latest = new Map<string, TargetHealthReport>();
  async report(_reporter: string, reports: TargetHealthReport[]): Promise<void> {
    this.latest = new Map(reports.map((r) => [r.targetId, r]));
  }
}

class MemoryRequests implements RequestCountSink {
  latest = new Map<string, number>();
  async report(_reporter: string, counts: RequestCount[]): Promise<void> {
    this.latest = new Map(counts.map((c) => [c.targetGroupId, c.requests]));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function group(id: string, targets: Target[]): TargetGroup {
  return {
    id,
    name: id,
    protocol: 'HTTP',
    healthCheck: {
      path: '/health',
      intervalSeconds: 1,
      timeoutSeconds: 1,
      healthyThresholdCount: 2,
      unhealthyThresholdCount: 2,
      matcher: '200',
    },
    deregistrationDelaySeconds: 10,
    slowStartSeconds: 0,
    targets,
  };
}

const targetOf = (b: Backend, drainingSince: Date | null = null): Target => ({
  id: b.name,
  host: b.host,
  port: b.port,
  drainingSince,
});

describe('load balancer on HAProxy', () => {
  const logger = createLogger('load-balancer-test', process.env.BERTH_LOG_LEVEL ?? 'warn');
  const backends: Backend[] = [];
  const source = new InMemoryStateSource();
  const health = new MemoryHealth();
  const requests = new MemoryRequests();
  const metrics = new LoadBalancerMetrics();
  const scrape = async () => parsePrometheusText(await metrics.registry.metrics());
  let runDir: string;
  let port: number;
  let app: LoadBalancerApp;
  let state: LoadBalancerState;

  const start = () =>
    startLoadBalancer({
      id: 'test-lb',
      loadBalancer: 'web',
      bindAddress: '127.0.0.1',
      runDir,
      intervalMs: 200,
      source,
      health,
      requests,
      requestSampleMs: 200,
      logger,
      metrics,
    });
  const publish = () => source.set(state);
  const web = () => state.targetGroups.find((g) => g.id === 'web')!;
  const healthOf = (b: Backend) => health.latest.get(b.name);

  beforeAll(async () => {
    runDir = await mkdtemp(path.join(tmpdir(), 'lb-'));
    for (let i = 1; i <= 6; i++) backends.push(await startBackend(`b${i}`, `127.0.0.${10 + i}`));
    port = await freePort();
    state = {
      name: 'web',
      listeners: [{ port, protocol: 'HTTP', defaultTargetGroupId: 'web', rules: [], proxyProtocol: false }],
      targetGroups: [
        group(
          'web',
          backends.slice(0, 3).map((b) => targetOf(b)),
        ),
      ],
    };
    publish();
    app = await start();
  });

  afterAll(async () => {
    await app?.close({ stopProxy: true });
    for (const b of backends) b.server.closeAllConnections();
    await Promise.all(backends.map((b) => new Promise((r) => b.server.close(r))));
    await rm(runDir, { recursive: true, force: true });
  });

  it('spreads traffic over every target and forwards the client address and protocol', async () => {
    await waitFor('three healthy targets', async () =>
      backends.slice(0, 3).every((b) => healthOf(b)?.state === 'healthy') ? true : undefined,
    );
    const seen = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const r = await get(port);
      expect(r.status).toBe(200);
      seen.add(r.body);
    }
    expect([...seen].sort()).toEqual(['b1', 'b2', 'b3']);
    expect(backends[0]!.lastHeaders['x-forwarded-for']).toBe('127.0.0.1');
    expect(backends[0]!.lastHeaders['x-forwarded-proto']).toBe('http');
    const m = await scrape();
    expect(m.value('berth_lb_targets', { state: 'healthy' })).toBe(3);
    expect(m.value('berth_lb_haproxy_reloads_total', { kind: 'start' })).toBe(1);
    expect(m.value('berth_lb_pass_duration_seconds_count')).toBeGreaterThan(0);
  });

  it("reports the target group's request count, which moves by the requests sent", async () => {
    // A report from a pass that began after the requests of the tests before this one.
    let before = 0;
    for (let i = 0; i < 2; i++) {
      requests.latest = new Map();
      before = await waitFor('a request count', async () => requests.latest.get('web'));
    }
    for (let i = 0; i < 10; i++) expect((await get(port)).status).toBe(200);
    const after = await waitFor('the count to move', async () => {
      const n = requests.latest.get('web') ?? 0;
      return n >= before + 10 ? n : undefined;
    });
    // Health checks are not requests: exactly the 10 sent.
    expect(after).toBe(before + 10);
  });

  it('takes a target failing its health check out of rotation, and back once it passes', async () => {
    const b2 = backends[1]!;
    b2.healthy = false;
    await waitFor('b2 unhealthy', async () => (healthOf(b2)?.state === 'unhealthy' ? true : undefined));
    expect(healthOf(b2)?.reason).toBe('Target.ResponseCodeMismatch');
    expect((await scrape()).value('berth_lb_targets', { state: 'unhealthy' })).toBe(1);
    const before = b2.served;
    for (let i = 0; i < 12; i++) expect((await get(port)).status).toBe(200);
    expect(b2.served).toBe(before);
    b2.healthy = true;
    await waitFor('b2 healthy again', async () => (healthOf(b2)?.state === 'healthy' ? true : undefined));
  });

  it('adds and removes targets under a request loop without dropping a request', async () => {
    const loop = requestLoop(port);
    await sleep(500);
    const added = (await scrape()).value('berth_lb_server_changes_total', {
      kind: 'add',
      outcome: 'applied',
    });
    web().targets.push(targetOf(backends[3]!), targetOf(backends[4]!));
    publish();
    await waitFor('b4 and b5 serving', async () =>
      (loop.stats.byBackend.get('b4') ?? 0) > 5 && (loop.stats.byBackend.get('b5') ?? 0) > 5
        ? true
        : undefined,
    );
    expect((await scrape()).value('berth_lb_server_changes_total', { kind: 'add', outcome: 'applied' })).toBe(
      added + 2,
    );
    // b1 leaves with a drain, b4 leaves at once (its row deleted).
    web().targets = web().targets.filter((t) => t.id !== 'b4');
    web().targets.find((t) => t.id === 'b1')!.drainingSince = new Date();
    publish();
    await waitFor('b1 and b4 gone', async () =>
      healthOf(backends[0]!)?.reason === 'Target.NotRegistered' && !healthOf(backends[3]!) ? true : undefined,
    );
    const served = backends.map((b) => b.served);
    await sleep(1000);
    const stats = await loop.stop();
    expect(backends[0]!.served).toBe(served[0]);
    expect(backends[3]!.served).toBe(served[3]);
    console.log(`membership changes: ${stats.ok} requests answered, ${stats.failed.length} failed`);
    expect(stats.failed).toEqual([]);
    expect(stats.ok).toBeGreaterThan(100);
  });

  it('lets an in-flight request on a draining target finish while new requests go elsewhere', async () => {
    // Only b6 serves; a slow request lands on it; then b6 drains and b2 takes over.
    const b6 = backends[5]!;
    web().targets = [targetOf(b6)];
    publish();
    await waitFor('only b6 serves', async () => {
      const names = new Set<string>();
      for (let i = 0; i < 4; i++) names.add((await get(port)).body);
      return names.size === 1 && names.has('b6') ? true : undefined;
    });
    const slow = get(port, '/slow');
    await sleep(300);
    web().targets = [targetOf(b6, new Date()), targetOf(backends[1]!)];
    publish();
    await waitFor('b6 draining with its session', async () =>
      healthOf(b6)?.reason === 'Target.DeregistrationInProgress' && healthOf(b6)?.activeSessions === 1
        ? true
        : undefined,
    );
    let slowDone = false;
    void slow.then(() => (slowDone = true));
    await waitFor('b2 healthy', async () => (healthOf(backends[1]!)?.state === 'healthy' ? true : undefined));
    for (let i = 0; i < 6; i++) expect((await get(port)).body).toBe('b2');
    expect(slowDone).toBe(false);
    expect(await slow).toEqual({ status: 200, body: 'b6' });
    await waitFor('b6 removed once idle', async () =>
      healthOf(b6)?.reason === 'Target.NotRegistered' ? true : undefined,
    );
  });

  it('ends a draining target’s sessions once the deregistration delay is over', async () => {
    const b3 = backends[2]!;
    web().targets = [targetOf(b3)];
    web().deregistrationDelaySeconds = 1;
    publish();
    await waitFor('only b3 serves', async () => {
      const names = new Set<string>();
      for (let i = 0; i < 4; i++) names.add((await get(port)).body);
      return names.size === 1 && names.has('b3') ? true : undefined;
    });
    // A slow request (5 s) that outlives the 1 s delay: its session is ended when the delay is over.
    const started = Date.now();
    const slow = get(port, '/slow').then(
      (r) => `HTTP ${r.status}`,
      (e: unknown) => String(e),
    );
    await waitFor('b3 has the session', async () => (healthOf(b3)?.activeSessions === 1 ? true : undefined));
    web().targets = [targetOf(b3, new Date()), targetOf(backends[1]!)];
    publish();
    await waitFor('b3 removed after its delay', async () =>
      healthOf(b3)?.reason === 'Target.NotRegistered' ? true : undefined,
    );
    expect(await slow).not.toBe('HTTP 200');
    expect(Date.now() - started).toBeLessThan(4500);
    web().deregistrationDelaySeconds = 10;
    publish();
  });

  it('adds a listener with a seamless reload without dropping a request', async () => {
    web().targets = backends.slice(0, 3).map((b) => targetOf(b));
    publish();
    await waitFor('three healthy targets', async () =>
      backends.slice(0, 3).every((b) => healthOf(b)?.state === 'healthy') ? true : undefined,
    );
    const loop = requestLoop(port);
    await sleep(500);
    const reloads = (await scrape()).value('berth_lb_haproxy_reloads_total', { kind: 'reload' });
    const second = await freePort();
    state.listeners.push({
      port: second,
      protocol: 'HTTP',
      defaultTargetGroupId: 'api',
      rules: [],
      proxyProtocol: false,
    });
    state.targetGroups.push(group('api', [targetOf(backends[5]!)]));
    publish();
    await waitFor('the new listener answers', async () =>
      (await get(second).catch(() => undefined))?.body === 'b6' ? true : undefined,
    );
    await sleep(500);
    const stats = await loop.stop();
    console.log(`reload: ${stats.ok} requests answered, ${stats.failed.length} failed`);
    expect(stats.failed).toEqual([]);
    // The servers came through the reload: every target still serves.
    expect([...stats.byBackend.keys()].sort()).toEqual(['b1', 'b2', 'b3']);
    expect((await scrape()).value('berth_lb_haproxy_reloads_total', { kind: 'reload' })).toBe(reloads + 1);
  });

  it('keeps counting a draining target’s session that a reload left in the old worker', async () => {
    const b6 = backends[5]!;
    web().targets = [targetOf(b6)];
    publish();
    await waitFor('only b6 serves', async () => {
      const names = new Set<string>();
      for (let i = 0; i < 4; i++) names.add((await get(port)).body);
      return names.size === 1 && names.has('b6') ? true : undefined;
    });
    let slowDone = false;
    const slow = get(port, '/slow').finally(() => (slowDone = true));
    await waitFor('b6 has the session', async () => (healthOf(b6)?.activeSessions === 1 ? true : undefined));
    // Drain b6 and change the health check timeout (a reload) in the same pass.
    const worker = await app.haproxy.api.workerPid();
    web().targets = [targetOf(b6, new Date()), targetOf(backends[1]!)];
    web().healthCheck.timeoutSeconds = 2;
    publish();
    await waitFor('a new worker', async () =>
      (await app.haproxy.api.workerPid()) !== worker ? true : undefined,
    );
    await sleep(600);
    expect(slowDone).toBe(false);
    expect(healthOf(b6)).toMatchObject({ reason: 'Target.DeregistrationInProgress', activeSessions: 1 });
    expect(await slow).toEqual({ status: 200, body: 'b6' });
    await waitFor('b6 drained', async () =>
      healthOf(b6)?.reason === 'Target.NotRegistered' ? true : undefined,
    );
  });

  it('restarts HAProxy when it dies', async () => {
    const before = app.haproxy.pid;
    app.haproxy.kill();
    await waitFor('HAProxy running again', async () =>
      app.haproxy.pid !== before && (await get(port).catch(() => undefined))?.status === 200
        ? true
        : undefined,
    );
  });

  it('adopts the running HAProxy when the app restarts, dropping nothing', async () => {
    const loop = requestLoop(port);
    await sleep(300);
    const pid = app.haproxy.pid;
    await app.close({ stopProxy: false }); // as after SIGKILL: HAProxy keeps serving
    await sleep(500);
    app = await start();
    expect(app.haproxy.pid).toBe(pid);
    web().targets.push(targetOf(backends[3]!));
    publish();
    await waitFor('b4 serving again', async () =>
      (loop.stats.byBackend.get('b4') ?? 0) > 3 ? true : undefined,
    );
    const stats = await loop.stop();
    console.log(`app restart: ${stats.ok} requests answered, ${stats.failed.length} failed`);
    expect(stats.failed).toEqual([]);
  });
});

describe('TCP listener with the PROXY protocol', () => {
  it('sends a PROXY v2 header carrying the client address', async () => {
    const runDir = await mkdtemp(path.join(tmpdir(), 'lb-'));
    const seen: Buffer[] = [];
    const backendPort = await freePort();
    const server = net.createServer((socket) => {
      socket.once('data', (chunk) => {
        seen.push(chunk);
        socket.end('hello');
      });
      socket.on('error', () => undefined);
    });
    await new Promise<void>((r) => server.listen(backendPort, '127.0.0.21', r));
    const port = await freePort();
    const source = new InMemoryStateSource();
    source.set({
      name: 'tcp',
      listeners: [{ port, protocol: 'TCP', defaultTargetGroupId: 'db', rules: [], proxyProtocol: true }],
      targetGroups: [
        {
          ...group('db', [{ id: 'd1', host: '127.0.0.21', port: backendPort, drainingSince: null }]),
          protocol: 'TCP',
          healthCheck: { ...group('x', []).healthCheck, path: null, matcher: null },
        },
      ],
    });
    const health = new MemoryHealth();
    const app = await startLoadBalancer({
      id: 'tcp-lb',
      loadBalancer: 'tcp',
      bindAddress: '127.0.0.1',
      runDir,
      intervalMs: 200,
      source,
      health,
      logger: createLogger('load-balancer-test', 'warn'),
    });
    try {
      await waitFor('d1 healthy', async () =>
        health.latest.get('d1')?.state === 'healthy' ? true : undefined,
      );
      const answer = await new Promise<string>((resolve, reject) => {
        const c = net.createConnection({ host: '127.0.0.1', port, localAddress: '127.0.0.99' }, () =>
          c.write('ping'),
        );
        let out = '';
        c.on('data', (d) => (out += d.toString()));
        c.on('end', () => resolve(out));
        c.on('error', reject);
      });
      expect(answer).toBe('hello');
      const header = seen.find(
        (b) => b.length > 16 && b.subarray(0, 12).equals(Buffer.from('0d0a0d0a000d0a515549540a', 'hex')),
      );
      expect(header).toBeDefined();
      // v2, PROXY command, TCP over IPv4: the source address follows the 16-byte header.
      expect([...header!.subarray(16, 20)]).toEqual([127, 0, 0, 99]);
    } finally {
      await app.close({ stopProxy: true });
      server.close();
      await rm(runDir, { recursive: true, force: true });
    }
  });
});
