import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { promisify } from 'node:util';
import { freePort, startLocalCluster, waitFor, type LocalCluster } from '@berth/testing';
import { api, httpdTaskDefinition, type Task } from './api.js';

/**
 * Load balancing with real containers, two load-balancer apps each with a real HAProxy (issue 13):
 * a service of httpd tasks behind a target group and an HTTP listener. Under about 200 requests
 * per second, each on a new connection, no request drops during a rolling deployment, a scale-in
 * from 4 to 2 (with a slow request finishing on its drain), a host drain, a circuit-breaker
 * rollback of a revision that fails its health checks, and a load-balancer app killed with
 * SIGKILL mid-deployment. A task that fails its health check leaves the rotation and is
 * replaced, and the task sees the client's address.
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
/** Stops the status watchers, called in afterAll if a test failed first. */
const stopWatchers = new Set<() => void>();

/** A CGI script in the task's web root: the body after the header is `lines` (sh). */
const cgi = (name: string, lines: string) =>
  `printf '#!/bin/sh\\necho Content-Type: text/plain\\necho\\n${lines}\\n' > /var/www/cgi-bin/${name} && chmod +x /var/www/cgi-bin/${name}`;

/**
 * Each task's page is its tag and its container's hostname (the container id's first 12
 * characters); /health is what the target group checks; /cgi-bin/slow answers after 3 s and
 * /cgi-bin/client shows the client address headers the load balancer added. A `bad` revision
 * refuses every request (403): its targets never pass the health check.
 */
const webRevision = (tag: string, { bad = false } = {}) => {
  const td = httpdTaskDefinition('lb-web', { cpu: 256 });
  const setup = [
    'mkdir -p /var/www/cgi-bin',
    `echo "${tag} $(hostname)" > /var/www/index.html`,
    'echo ok > /var/www/health',
    cgi('slow', 'sleep 3\\necho slow $(hostname)'),
    cgi('client', 'echo $HTTP_X_FORWARDED_FOR $HTTP_X_FORWARDED_PROTO $(hostname)'),
    bad ? 'echo "D:*" > /tmp/httpd.conf' : 'touch /tmp/httpd.conf',
    'exec httpd -f -p 8000 -h /var/www -c /tmp/httpd.conf',
  ];
  td.containerDefinitions[0]!.command = ['sh', '-c', setup.join(' && ')];
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
/** How many targets the service's events say were deregistered from web-tg, in all. */
const deregistered = (messages: string[]) =>
  messages
    .map((m) => /deregistered (\d+) targets in \(target-group web-tg\)/.exec(m)?.[1])
    .reduce((n, count) => n + Number(count ?? 0), 0);
const hostnameOf = (t: Task) => t.containers[0]!.runtimeId!.slice(0, 12);
const patchService = async (body: unknown) =>
  ok(await client.call('PATCH', '/v1/clusters/default/services/web', body));

/**
 * One GET through the listener on a new connection (from `localAddress` when given): its status
 * (0 on a network error) and body.
 */
const get = (path = '/', localAddress?: string, port = listenerPort) =>
  new Promise<{ status: number; body: string }>((res) => {
    const req = request(
      { host: '127.0.0.1', port, path, agent: false, timeout: 10_000, localAddress },
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
    /** Stops the load, and checks that every request it sent answered 2xx. */
    async stop(what: string) {
      clearInterval(timer);
      timers.delete(timer);
      await Promise.all(inFlight);
      const seconds = (Date.now() - started) / 1000;
      const ok = [...statuses].filter(([s]) => s >= 200 && s < 300).reduce((n, [, c]) => n + c, 0);
      console.log(
        `${what}: ${ok}/${sent} requests answered 2xx in ${seconds.toFixed(1)} s`,
        Object.fromEntries(statuses),
      );
      expect({ what, sent, ok, statuses: Object.fromEntries(statuses) }).toEqual({
        what,
        sent,
        ok: sent,
        statuses: { 200: sent },
      });
      return { sent, seconds };
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
    { timeoutMs: 120_000, intervalMs: 300 },
  );
}

/** Waits until the target group holds exactly `tasks`, each healthy (by every load balancer). */
async function allHealthy(tasks: readonly Task[]) {
  const want = tasks.map((t) => t.taskArn).sort();
  return waitFor(
    `${tasks.length} healthy targets`,
    async () => {
      const h = await targetHealth();
      return h.every((t) => t.targetHealth.state === 'healthy') &&
        JSON.stringify(h.map((t) => t.taskArn).sort()) === JSON.stringify(want)
        ? h
        : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 300 },
  );
}

/** Records every lastStatus each of `tasks` shows until stop() is called. */
function watchStatuses(tasks: readonly Task[]) {
  const seen = new Map<string, Set<string>>(tasks.map((t) => [t.taskArn, new Set<string>()]));
  let watching = true;
  stopWatchers.add(() => (watching = false));
  const poll = () =>
    Promise.all(tasks.map(async (t) => seen.get(t.taskArn)!.add((await client.task(t.taskArn)).lastStatus)));
  const loop = (async () => {
    // The drain of a task with no open request can end within a second or two: poll often.
    while (watching) {
      await poll();
      await new Promise((r) => setTimeout(r, 50));
    }
    await poll();
  })();
  return {
    async stop() {
      watching = false;
      await loop;
      return seen;
    },
  };
}

const running = async () => (await client.tasks('?serviceName=web&desiredStatus=RUNNING')) as WebTask[];

beforeAll(async () => {
  cluster = await startLocalCluster({
    agents: [
      { hostAddress: '127.0.0.7', cpu: 2048, memory: 2048 },
      { hostAddress: '127.0.0.8', cpu: 2048, memory: 2048 },
    ],
    // Two load-balancer apps for the same load balancer, each with its own HAProxy: both bind the
    // listener's port (SO_REUSEPORT) and both must see a target healthy, or drained, for it to count.
    loadBalancers: { loadBalancer: 'edge', count: 2 },
  });
  client = api(cluster);
  listenerPort = await freePort();
}, 60_000);

afterAll(async () => {
  for (const timer of timers) clearInterval(timer);
  for (const stop of stopWatchers) stop();
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
  for (const revision of [
    webRevision('v1'),
    webRevision('v2'),
    webRevision('v3'),
    webRevision('bad', { bad: true }),
  ])
    ok(await client.register(revision));
  const tg = await client.call<{ targetGroupArn: string }>('POST', '/v1/target-groups', {
    name: 'web-tg',
    protocol: 'HTTP',
    healthCheck: {
      path: '/health',
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
  ok(
    await client.call('POST', '/v1/load-balancers', {
      name: 'edge',
      listeners: [{ port: listenerPort, protocol: 'HTTP', defaultTargetGroupArn: targetGroupArn }],
    }),
  );
  ok(
    await client.call('POST', '/v1/clusters/default/services', {
      serviceName: 'web',
      taskDefinition: 'lb-web:1',
      desiredCount: 3,
      deploymentConfiguration: {
        minimumHealthyPercent: 100,
        maximumPercent: 200,
        deploymentCircuitBreaker: { enable: true, rollback: true },
      },
      loadBalancers: [{ targetGroupArn, containerName: 'web', containerPort: 8000 }],
    }),
  );

  const tasks = await steady(3, 'lb-web:1');
  await allHealthy(tasks);

  // Round robin over new connections: every task answers, and nothing else does.
  const hostnames = new Set(tasks.map(hostnameOf));
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
}, 150_000);

test("the client's address reaches the task", async () => {
  // From 127.0.0.9, so the address the task sees is the client's and not the load balancer's.
  const r = await get('/cgi-bin/client', '127.0.0.9');
  expect(r.status).toBe(200);
  const [forwardedFor, forwardedProto, hostname] = r.body.trim().split(' ');
  expect({ forwardedFor, forwardedProto }).toEqual({ forwardedFor: '127.0.0.9', forwardedProto: 'http' });
  expect((await running()).map(hostnameOf)).toContain(hostname);
});

test("a listener added under load serves at once, with no request dropped; another load balancer's listener is not served by these apps", async () => {
  const secondPort = await freePort();
  const otherPort = await freePort();
  const generator = load();
  ok(
    await client.call('PATCH', '/v1/load-balancers/edge', {
      listeners: [
        { port: listenerPort, protocol: 'HTTP', defaultTargetGroupArn: 'web-tg' },
        { port: secondPort, protocol: 'HTTP', defaultTargetGroupArn: 'web-tg' },
      ],
    }),
  );
  ok(
    await client.call('POST', '/v1/load-balancers', {
      name: 'other',
      listeners: [{ port: otherPort, protocol: 'HTTP', defaultTargetGroupArn: 'web-tg' }],
    }),
  );
  // Both apps reload (seamlessly) onto the new listener; the first listener drops nothing meanwhile.
  await waitFor(
    'the second listener to answer',
    async () => ((await get('/', undefined, secondPort)).status === 200 ? true : undefined),
    { timeoutMs: 30_000 },
  );
  await new Promise((r) => setTimeout(r, 3000));
  await generator.stop('a listener added');
  const tags = await Promise.all(Array.from({ length: 6 }, () => get('/', undefined, secondPort)));
  expect(tags.map((t) => t.body.split(' ')[0])).toEqual(tags.map(() => 'v1'));
  expect((await get('/', undefined, otherPort)).status).toBe(0);
  ok(await client.call('DELETE', '/v1/load-balancers/other'));
}, 60_000);

test('a rolling deployment to a new revision under load drops no request', async () => {
  const generator = load();
  await patchService({ taskDefinition: 'lb-web:2' });
  const tasks = await steady(3, 'lb-web:2');
  const { sent } = await generator.stop('rolling deployment');
  expect(sent).toBeGreaterThan(1000);
  // The listener now serves revision 2 only.
  const hostnames = new Set(tasks.map(hostnameOf));
  for (let i = 0; i < 6; i++) {
    const [tag, hostname] = (await get()).body.trim().split(' ');
    expect(tag).toBe('v2');
    expect(hostnames).toContain(hostname);
  }
}, 150_000);

test('a task that fails its health check leaves the rotation within its thresholds and is replaced', async () => {
  const tasks = await steady(3, 'lb-web:2');
  await allHealthy(tasks);
  const sick = tasks[0]!;
  await run('docker', ['exec', sick.containers[0]!.runtimeId!, 'rm', '/var/www/health']);
  const failedAt = Date.now();
  // Unhealthy, or already draining: the controller stops a task as soon as its target shows
  // unhealthy (no grace period here), so that state may last less than one poll. Nothing else
  // stops this task; its stoppedReason below says the health checks did.
  await waitFor(
    'the sick task to be unhealthy',
    async () => {
      const state = (await targetHealth()).find((t) => t.taskArn === sick.taskArn)?.targetHealth.state;
      if (state === 'unhealthy' || state === 'draining') return true;
      // A drain with no request open ends at the next sweep and the target goes: then the task's
      // stop (asked for by the health checks, as stoppedReason shows below) is what remains.
      return state === undefined && (await client.task(sick.taskArn)).desiredStatus === 'STOPPED'
        ? true
        : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 200 },
  );
  // unhealthyThresholdCount × intervalSeconds, with a check's timeout and a report's interval to spare.
  expect(Date.now() - failedAt).toBeLessThan(2 * 5_000 + 2_000 + 5_000);
  // Out of rotation on both load-balancer apps. Each HAProxy runs its own checks (as each ELB node
  // does), so the second may mark it down up to a check interval after the first one reported:
  // within the same bound, the listener answers only from the others, 30 times in a row.
  const statuses: number[] = [];
  let inRow = 0;
  let rowFrom = 0;
  await waitFor(
    'the listener to answer only from the healthy tasks',
    async () => {
      const asked = Date.now();
      const r = await get();
      statuses.push(r.status);
      inRow = r.status === 200 && !r.body.includes(hostnameOf(sick)) ? inRow + 1 : 0;
      if (inRow === 1) rowFrom = asked;
      return inRow >= 30 ? true : undefined;
    },
    { timeoutMs: 20_000, intervalMs: 20 },
  );
  // Out of rotation from the first of those 30 answers on.
  expect(rowFrom - failedAt).toBeLessThan(2 * 5_000 + 2_000 + 5_000);
  expect(statuses.filter((s) => s !== 200)).toEqual([]);
  const stopped = await client.waitForTask(
    sick.taskArn,
    'the sick task to stop',
    (t) => t.lastStatus === 'STOPPED',
  );
  expect(stopped.stoppedReason).toMatch(/ELB health checks/);
  const replaced = await steady(3, 'lb-web:2');
  expect(replaced.map((t) => t.taskArn)).not.toContain(sick.taskArn);
  await allHealthy(replaced);
  expect((await events()).some((m) => m.includes('failed ELB health checks'))).toBe(true);
}, 150_000);

test('a scale-in from 4 to 2 under load drains the stopped tasks: a slow request finishes, and no request drops', async () => {
  await patchService({ desiredCount: 4 });
  const before = await steady(4, 'lb-web:2');
  await allHealthy(before);
  const deregisteredBefore = deregistered(await events());
  const generator = load();
  const watcher = watchStatuses(before);
  // Slow requests (3 s each, on new connections) spread by round robin over the four tasks, in
  // flight when the scale-in begins: those on the tasks that go must finish on their drain.
  const slow = Array.from({ length: 8 }, () => get('/cgi-bin/slow'));
  await new Promise((r) => setTimeout(r, 500));
  await patchService({ desiredCount: 2 });
  const left = await steady(2, 'lb-web:2');
  const gone = before.filter((t) => !left.some((l) => l.taskArn === t.taskArn));
  for (const t of gone)
    await client.waitForTask(t.taskArn, 'a scaled-in task to stop', (x) => x.lastStatus === 'STOPPED');
  const statuses = await watcher.stop();
  const slowAnswers = await Promise.all(slow);
  expect(slowAnswers.map((a) => a.status)).toEqual(slow.map(() => 200));
  const slowFrom = new Set(slowAnswers.map((a) => a.body.trim().split(' ')[1]));
  expect(gone.some((t) => slowFrom.has(hostnameOf(t)))).toBe(true);
  await new Promise((r) => setTimeout(r, 1000));
  const { sent } = await generator.stop('scale-in from 4 to 2');
  expect(sent).toBeGreaterThan(800);
  // Each stopped task was drained (DEACTIVATING) before it stopped.
  for (const t of gone)
    expect({ task: t.taskArn, statuses: [...statuses.get(t.taskArn)!] }).toEqual({
      task: t.taskArn,
      statuses: expect.arrayContaining(['RUNNING', 'DEACTIVATING', 'STOPPED']),
    });
  await waitFor('the deregistration events', async () =>
    deregistered(await events()) >= deregisteredBefore + 2 ? true : undefined,
  );
  expect((await targetHealth()).map((t) => t.taskArn).sort()).toEqual(left.map((t) => t.taskArn).sort());
}, 150_000);

test('a drain of a host under load moves its tasks to the other host and drops no request', async () => {
  const tasks = await steady(2, 'lb-web:2');
  const drainedArn = tasks[0]!.containerInstanceArn!;
  const generator = load();
  ok(
    await client.call('PATCH', `/v1/clusters/default/container-instances/${drainedArn.split('/').pop()}`, {
      status: 'DRAINING',
    }),
  );
  const moved = await waitFor(
    'both tasks on the other host',
    async () => {
      const now = await steady(2, 'lb-web:2');
      return now.every((t) => t.containerInstanceArn !== drainedArn) ? now : undefined;
    },
    { timeoutMs: 120_000, intervalMs: 500 },
  );
  await allHealthy(moved);
  await generator.stop('drain of a host');
  ok(
    await client.call('PATCH', `/v1/clusters/default/container-instances/${drainedArn.split('/').pop()}`, {
      status: 'ACTIVE',
    }),
  );
}, 150_000);

test('a bad revision trips the circuit breaker on failed health checks and rolls back, with no request dropped', async () => {
  const generator = load();
  await patchService({ taskDefinition: 'lb-web:4' });
  await waitFor(
    'the rollback event',
    async () => ((await events()).some((m) => m.includes('rolling back')) ? true : undefined),
    { timeoutMs: 120_000, intervalMs: 500 },
  );
  const tasks = await steady(2, 'lb-web:2');
  await generator.stop('circuit-breaker rollback');
  await allHealthy(tasks);
  const messages = await events();
  expect(messages.some((m) => m.includes('failed ELB health checks'))).toBe(true);
  expect(messages.some((m) => /deployment failed: \d+ tasks failed/.test(m))).toBe(true);
}, 180_000);

test('the load-balancer app killed mid-deployment: HAProxy serves on, the app adopts it, the deployment completes', async () => {
  const generator = load();
  await patchService({ taskDefinition: 'lb-web:3' });
  // Mid-deployment: the first new task is running, not yet healthy behind the listener.
  await waitFor(
    'a task of revision 3 to run',
    async () =>
      (await running()).some((t) => t.lastStatus === 'RUNNING' && t.taskDefinitionArn.endsWith('lb-web:3'))
        ? true
        : undefined,
    { timeoutMs: 60_000, intervalMs: 200 },
  );
  await cluster.killApp('load-balancer-1');
  await new Promise((r) => setTimeout(r, 1000));
  cluster.startApp('load-balancer-1');
  await steady(2, 'lb-web:3');
  await generator.stop('load-balancer app killed mid-deployment');
  expect((await get()).body.trim().split(' ')[0]).toBe('v3');
}, 150_000);
