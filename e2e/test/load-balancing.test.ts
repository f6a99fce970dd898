import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { promisify } from 'node:util';
import { freePort, startLocalCluster, waitFor, type LocalCluster } from '@berth/testing';
import { api, httpdTaskDefinition, type Task } from './api.js';

/**
 * Load balancing with real containers, the real load-balancer app and HAProxy (issue 13): a
 * service of 3 httpd tasks behind a target group and an HTTP listener; a rolling deployment and a
 * scale-in under about 200 requests per second, each on a new connection, drop no request; the
 * load-balancer app killed with SIGKILL mid-deployment comes back, and traffic goes on.
 */

interface Service {
  desiredCount: number;
  deployments: { status: string; taskDefinition: string; rolloutState: string }[];
}
interface TargetHealth {
  target: { id: string; port: number };
  taskArn?: string;
  targetHealth: { state: string; reason?: string };
}
type WebTask = Task & { taskDefinitionArn: string };

const run = promisify(execFile);
/** Fails with the answer's body unless it is a 200. */
const ok = (res: { status: number; body: unknown }) => {
  if (res.status !== 200) throw new Error(`${res.status} ${JSON.stringify(res.body)}`);
};
let cluster: LocalCluster;
let client: ReturnType<typeof api>;
let listenerPort: number;
/** The load generators' and watchers' timers and loops, ended in afterAll if a test failed first. */
const timers = new Set<NodeJS.Timeout>();
let watching = false;

/** Each task's page is its container's hostname (the container id's first 12 characters). */
const webRevision = (tag: string) => {
  const td = httpdTaskDefinition('lb-web', { cpu: 256 });
  td.containerDefinitions[0]!.command = [
    'sh',
    '-c',
    `echo "${tag} $(hostname)" > /var/www/index.html && exec httpd -f -p 8000 -h /var/www`,
  ];
  return td;
};

const service = async () =>
  (await client.call<{ service: Service }>('GET', '/v1/clusters/default/services/web')).body.service;
const targetHealth = async () =>
  (await client.call<{ targetHealthDescriptions: TargetHealth[] }>('GET', '/v1/target-groups/web-tg/health'))
    .body.targetHealthDescriptions;
const events = async () =>
  (
    await client.call<{ events: { message: string }[] }>('GET', '/v1/clusters/default/services/web/events')
  ).body.events.map((e) => e.message);

/** One GET through the listener on a new connection: its status (0 on a network error) and body. */
const get = () =>
  new Promise<{ status: number; body: string }>((res) => {
    const req = request(
      { host: '127.0.0.1', port: listenerPort, path: '/', agent: false, timeout: 10_000 },
      (r) => {
        let body = '';
        r.setEncoding('utf8');
        r.on('data', (d: string) => (body += d));
        r.on('end', () => res({ status: r.statusCode ?? 0, body }));
        r.on('error', () => res({ status: 0, body: '' }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => res({ status: 0, body: '' }));
    req.end();
  });

/** Sends about `rate` requests per second through the listener until stop() is called. */
function load(rate = 200) {
  const statuses = new Map<number, number>();
  const inFlight = new Set<Promise<void>>();
  let sent = 0;
  const started = Date.now();
  const timer: NodeJS.Timeout = setInterval(() => {
    const due = Math.floor(((Date.now() - started) * rate) / 1000) - sent;
    for (let i = 0; i < due; i++) {
      sent++;
      const p = get().then(({ status }) => {
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      });
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
    }
  }, 20);
  timers.add(timer);
  return {
    async stop() {
      clearInterval(timer);
      timers.delete(timer);
      await Promise.all(inFlight);
      const seconds = (Date.now() - started) / 1000;
      const ok = [...statuses].filter(([s]) => s >= 200 && s < 300).reduce((n, [, c]) => n + c, 0);
      return { sent, ok, seconds, statuses: Object.fromEntries(statuses) };
    },
  };
}

/** Waits until the service's only deployment is COMPLETED with `count` RUNNING tasks of `revision`. */
async function steady(count: number, revision: string) {
  return waitFor(
    `web to be steady with ${count} tasks of ${revision}`,
    async () => {
      const s = await service();
      const tasks = (await client.tasks('?serviceName=web&desiredStatus=RUNNING')) as WebTask[];
      const running = tasks.filter(
        (t) => t.lastStatus === 'RUNNING' && t.taskDefinitionArn.endsWith(revision),
      );
      return s.deployments.length === 1 &&
        s.deployments[0]!.rolloutState === 'COMPLETED' &&
        tasks.length === count &&
        running.length === count
        ? running
        : undefined;
    },
    { timeoutMs: 90_000, intervalMs: 300 },
  );
}

beforeAll(async () => {
  cluster = await startLocalCluster({
    agents: [
      { hostAddress: '127.0.0.7', cpu: 2048, memory: 2048 },
      { hostAddress: '127.0.0.8', cpu: 2048, memory: 2048 },
    ],
    loadBalancers: { loadBalancer: 'edge', count: 1 },
  });
  client = api(cluster);
  listenerPort = await freePort();
}, 60_000);

afterAll(async () => {
  for (const timer of timers) clearInterval(timer);
  watching = false;
  const runDirs = cluster?.loadBalancerApps.map((a) => a.runDir) ?? [];
  await cluster?.stop();
  // No HAProxy of this test is left behind (other HAProxys on the machine are not ours).
  for (const dir of runDirs) {
    const left = await run('pgrep', ['-f', dir]).then(
      (r) => r.stdout.trim(),
      () => '',
    );
    expect(left).toBe('');
  }
}, 30_000);

test('the listener answers from all three tasks, and target health lists them healthy', async () => {
  expect((await client.register(webRevision('v1'))).status).toBe(200);
  expect((await client.register(webRevision('v2'))).status).toBe(200);
  expect((await client.register(webRevision('v3'))).status).toBe(200);
  const tg = await client.call<{ targetGroupArn: string }>('POST', '/v1/target-groups', {
    name: 'web-tg',
    protocol: 'HTTP',
    healthCheck: {
      path: '/',
      // The API's minimum (ELB's), so a new target is healthy about 10 s after it starts.
      intervalSeconds: 5,
      timeoutSeconds: 2,
      healthyThresholdCount: 2,
      unhealthyThresholdCount: 2,
      matcher: '200',
    },
    deregistrationDelaySeconds: 5,
  });
  ok(tg);
  const targetGroupArn = tg.body.targetGroupArn;
  expect(targetGroupArn).toMatch(/targetgroup\/web-tg$/);
  const lb = await client.call('POST', '/v1/load-balancers', {
    name: 'edge',
    listeners: [{ port: listenerPort, protocol: 'HTTP', defaultTargetGroupArn: targetGroupArn }],
  });
  ok(lb);
  const created = await client.call('POST', '/v1/clusters/default/services', {
    serviceName: 'web',
    taskDefinition: 'lb-web:1',
    desiredCount: 3,
    deploymentConfiguration: { minimumHealthyPercent: 100, maximumPercent: 200 },
    loadBalancers: [{ targetGroupArn, containerName: 'web', containerPort: 8000 }],
  });
  ok(created);

  const tasks = await steady(3, 'lb-web:1');
  const healthy = await waitFor(
    'three healthy targets',
    async () => {
      const h = await targetHealth();
      return h.length === 3 && h.every((t) => t.targetHealth.state === 'healthy') ? h : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 300 },
  );
  expect(healthy.map((t) => t.taskArn).sort()).toEqual(tasks.map((t) => t.taskArn).sort());

  // Round robin over new connections: every task answers, and nothing else does.
  const hostnames = new Set(tasks.map((t) => t.containers[0]!.runtimeId!.slice(0, 12)));
  const seen = new Set<string>();
  for (let i = 0; i < 30 && seen.size < 3; i++) {
    const r = await get();
    expect(r.status).toBe(200);
    const [tag, hostname] = r.body.trim().split(' ');
    expect(tag).toBe('v1');
    expect(hostnames).toContain(hostname);
    seen.add(hostname!);
  }
  expect(seen).toEqual(hostnames);
}, 120_000);

test('a rolling deployment to a new revision under load drops no request', async () => {
  const generator = load();
  const updated = await client.call('PATCH', '/v1/clusters/default/services/web', {
    taskDefinition: 'lb-web:2',
  });
  expect(updated.status).toBe(200);
  const tasks = await steady(3, 'lb-web:2');
  const result = await generator.stop();
  console.log(
    `rolling deployment: ${result.ok}/${result.sent} requests answered 2xx in ${result.seconds.toFixed(1)} s`,
    result.statuses,
  );
  expect(result.sent).toBeGreaterThan(1000);
  expect(result.ok).toBe(result.sent);
  // The listener now serves revision 2 only.
  const hostnames = new Set(tasks.map((t) => t.containers[0]!.runtimeId!.slice(0, 12)));
  for (let i = 0; i < 6; i++) {
    const [tag, hostname] = (await get()).body.trim().split(' ');
    expect(tag).toBe('v2');
    expect(hostnames).toContain(hostname);
  }
}, 120_000);

test('a scale-in from 3 to 2 under load drains the stopped task and drops no request', async () => {
  const before = (await events()).filter((m) => m.includes('deregistered 1 targets')).length;
  const running = await steady(3, 'lb-web:2');
  const generator = load();
  const loadStarted = Date.now();
  // Every status each task goes through while the service scales in.
  const statuses = new Map<string, Set<string>>();
  watching = true;
  const watcher = (async () => {
    // The drain of a task with no open request can end within a second or two: poll often.
    while (watching) {
      await Promise.all(
        running.map(async (t) => {
          const now = await client.task(t.taskArn);
          statuses.set(t.taskArn, (statuses.get(t.taskArn) ?? new Set()).add(now.lastStatus));
        }),
      );
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  expect((await client.call('PATCH', '/v1/clusters/default/services/web', { desiredCount: 2 })).status).toBe(
    200,
  );
  const left = await steady(2, 'lb-web:2');
  const stopped = running.find((t) => !left.some((l) => l.taskArn === t.taskArn))!;
  await client.waitForTask(stopped.taskArn, 'the scaled-in task to stop', (t) => t.lastStatus === 'STOPPED');
  watching = false;
  await watcher;
  // At least 5 s of load, with some of it after the task stopped.
  await new Promise((r) => setTimeout(r, Math.max(1000, 5000 - (Date.now() - loadStarted))));
  const result = await generator.stop();
  console.log(
    `scale-in: ${result.ok}/${result.sent} requests answered 2xx in ${result.seconds.toFixed(1)} s`,
    result.statuses,
  );
  expect(result.sent).toBeGreaterThan(800);
  expect(result.ok).toBe(result.sent);
  // The stopped task was drained (DEACTIVATING) before it stopped.
  expect({ task: stopped.taskArn, statuses: [...statuses.get(stopped.taskArn)!] }).toEqual({
    task: stopped.taskArn,
    statuses: expect.arrayContaining(['RUNNING', 'DEACTIVATING', 'STOPPED']),
  });
  await waitFor('the deregistration event', async () =>
    (await events()).filter((m) => m.includes('deregistered 1 targets in (target-group web-tg)')).length >
    before
      ? true
      : undefined,
  );
  const health = await targetHealth();
  expect(health.map((t) => t.taskArn).sort()).toEqual(left.map((t) => t.taskArn).sort());
}, 120_000);

test('the load-balancer app killed mid-deployment: HAProxy serves on, the app adopts it, the deployment completes', async () => {
  const generator = load();
  expect(
    (await client.call('PATCH', '/v1/clusters/default/services/web', { taskDefinition: 'lb-web:3' })).status,
  ).toBe(200);
  // Mid-deployment: the first new task is running, not yet healthy behind the listener.
  await waitFor(
    'a task of revision 3 to run',
    async () =>
      ((await client.tasks('?serviceName=web&desiredStatus=RUNNING')) as WebTask[]).some(
        (t) => t.lastStatus === 'RUNNING' && t.taskDefinitionArn.endsWith('lb-web:3'),
      )
        ? true
        : undefined,
    { timeoutMs: 60_000, intervalMs: 200 },
  );
  await cluster.killApp('load-balancer-1');
  await new Promise((r) => setTimeout(r, 1000));
  cluster.startApp('load-balancer-1');
  await steady(2, 'lb-web:3');
  const result = await generator.stop();
  console.log(
    `load-balancer app killed mid-deployment: ${result.ok}/${result.sent} requests answered 2xx in ${result.seconds.toFixed(1)} s`,
    result.statuses,
  );
  expect(result.ok).toBe(result.sent);
  expect((await get()).body.trim().split(' ')[0]).toBe('v3');
}, 120_000);
