// Every feature of the rendered config is accepted by the real HAProxy (`haproxy -c`), and rules
// route by path prefix and host.
import http from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLogger } from '@berth/config';
import { freePort, waitFor } from '@berth/testing';
import { startLoadBalancer } from '../src/app.js';
import type { HealthCheck, LoadBalancerState, TargetGroup } from '../src/desired-state.js';
import { renderConfig } from '../src/haproxy-config.js';
import { Haproxy, haproxyPaths } from '../src/haproxy-process.js';
import type { TargetHealthReport } from '../src/health.js';
import { InMemoryStateSource } from '../src/state-source.js';

const logger = createLogger('load-balancer-test', 'warn');
const hc: HealthCheck = {
  path: '/health',
  intervalSeconds: 1,
  timeoutSeconds: 1,
  healthyThresholdCount: 2,
  unhealthyThresholdCount: 2,
  matcher: '200-299,302',
};
const group = (id: string, port: number, protocol: 'HTTP' | 'TCP' = 'HTTP'): TargetGroup => ({
  id,
  name: id,
  protocol,
  healthCheck: protocol === 'HTTP' ? hc : { ...hc, path: null, matcher: null },
  deregistrationDelaySeconds: 30,
  slowStartSeconds: 10,
  targets: [{ id: `${id}-1`, host: '127.0.0.41', port, drainingSince: null }],
});

function state(ports: { web: number; api: number; admin: number; db: number }): LoadBalancerState {
  return {
    name: 'all',
    listeners: [
      {
        port: ports.web,
        protocol: 'HTTP',
        defaultTargetGroupId: 'web',
        rules: [
          { priority: 5, host: 'Admin.Example.com', targetGroupId: 'admin' },
          { priority: 10, pathPrefix: '/api', targetGroupId: 'api' },
        ],
        proxyProtocol: false,
      },
      { port: ports.db, protocol: 'TCP', defaultTargetGroupId: 'db', rules: [], proxyProtocol: true },
    ],
    targetGroups: [group('web', 1), group('api', 2), group('admin', 3), group('db', 4, 'TCP')],
  };
}

describe('rendered config', () => {
  it('is accepted by haproxy -c with rules, host matches, status lists, slow start and PROXY v2', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'lbc-'));
    try {
      const paths = haproxyPaths(dir);
      const file = path.join(dir, 'check.cfg');
      await writeFile(
        file,
        renderConfig(state({ web: 18000, api: 0, admin: 0, db: 15432 }), {
          bindAddress: '127.0.0.1',
          adminSocket: paths.adminSocket,
          serverStateFile: paths.serverStateFile,
        }),
      );
      await new Haproxy(paths, logger).check(file);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('routes by host, then path prefix, then to the default group', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'lbc-'));
    const servers: http.Server[] = [];
    const s = state({ web: await freePort(), api: 0, admin: 0, db: await freePort() });
    for (const g of s.targetGroups.filter((x) => x.protocol === 'HTTP')) {
      const port = await freePort();
      g.targets[0]!.port = port;
      const server = http.createServer((req, res) =>
        req.url === '/health' ? res.writeHead(200).end() : res.end(g.id),
      );
      await new Promise<void>((r) => server.listen(port, '127.0.0.41', r));
      servers.push(server);
    }
    s.listeners = s.listeners.filter((l) => l.protocol === 'HTTP');
    const source = new InMemoryStateSource();
    source.set(s);
    let health: TargetHealthReport[] = [];
    const app = await startLoadBalancer({
      id: 'rules',
      loadBalancer: 'all',
      bindAddress: '127.0.0.1',
      runDir: dir,
      intervalMs: 200,
      source,
      health: { report: async (_r, h) => void (health = h) },
      logger,
    });
    const ask = (urlPath: string, host = 'web.example.com') =>
      new Promise<string>((resolve, reject) => {
        http
          .get(
            { host: '127.0.0.1', port: s.listeners[0]!.port, path: urlPath, headers: { host }, agent: false },
            (res) => {
              let body = '';
              res.on('data', (c: Buffer) => (body += c.toString()));
              res.on('end', () => resolve(body));
            },
          )
          .on('error', reject);
      });
    try {
      await waitFor('targets healthy', async () =>
        health.length === 3 && health.every((h) => h.state === 'healthy') ? true : undefined,
      );
      expect(await ask('/')).toBe('web');
      expect(await ask('/api/v1/things')).toBe('api');
      expect(await ask('/api/v1/things', 'admin.example.com:8000')).toBe('admin');
      expect(await ask('/other', 'ADMIN.example.com')).toBe('admin');
    } finally {
      await app.close({ stopProxy: true });
      for (const server of servers) server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
