import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { freePort, startLocalCluster, waitFor, type LocalCluster } from '@berth/testing';
import { api, httpdTaskDefinition } from './api.js';

/**
 * Service auto scaling end to end: one busy-loop task with a CPU target of 50 % grows, then
 * shrinks to minCapacity once the load stops, never outside its bounds and with
 * its cooldowns between scalings; a service behind a load balancer grows on its requests per
 * target (ALBRequestCountPerTarget) while requests are sent, and shrinks when they stop. The
 * windows and the sampling intervals are shortened for the test.
 */

const run = promisify(execFile);
let cluster: LocalCluster;
let client: ReturnType<typeof api>;
const SCALE_OUT_COOLDOWN = 5;
const SCALE_IN_COOLDOWN = 5;

beforeAll(async () => {
  cluster = await startLocalCluster({
    agents: [{ hostAddress: '127.0.0.2', cpu: 2048, memory: 1024 }],
    loadBalancers: { loadBalancer: 'scaling-edge', count: 1 },
    env: {
      BERTH_STATS_INTERVAL_MS: '1000',
      BERTH_LB_REQUEST_SAMPLE_MS: '1000',
      BERTH_AUTOSCALING_SCALE_OUT_WINDOW_SECONDS: '5',
      BERTH_AUTOSCALING_SCALE_IN_WINDOW_SECONDS: '10',
    },
  });
  client = api(cluster);
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

interface ServiceView {
  desiredCount: number;
  runningCount: number;
}

test('a busy service grows within maxCapacity, then shrinks to minCapacity when the load stops', async () => {
  await client.register({
    family: 'spin',
    containerDefinitions: [
      {
        name: 'spin',
        image: 'berth/busybox',
        cpu: 256,
        memory: 32,
        // Busy (about one whole CPU, four times what it reserves) until /tmp/busy is removed.
        command: ['sh', '-c', 'touch /tmp/busy; while [ -e /tmp/busy ]; do :; done; exec sleep 3600'],
        linuxParameters: { initProcessEnabled: true },
        stopTimeout: 2,
      },
    ],
  });
  expect(
    (
      await client.call('POST', '/v1/clusters/default/services', {
        serviceName: 'spin',
        taskDefinition: 'spin',
        desiredCount: 1,
      })
    ).status,
  ).toBe(200);
  const scaling = await client.call('PUT', '/v1/clusters/default/services/spin/scaling', {
    minCapacity: 1,
    maxCapacity: 3,
    targetTrackingPolicies: [
      {
        predefinedMetric: 'ECSServiceAverageCPUUtilization',
        targetValue: 50,
        scaleOutCooldown: SCALE_OUT_COOLDOWN,
        scaleInCooldown: SCALE_IN_COOLDOWN,
      },
    ],
  });
  expect(scaling.status).toBe(200);

  const counts: number[] = [];
  const service = async () => {
    const s = (await client.call<{ service: ServiceView }>('GET', '/v1/clusters/default/services/spin')).body
      .service;
    counts.push(s.desiredCount);
    return s;
  };
  // The busy loop's share of a CPU depends on what else the machine runs: the service grows by
  // at least one task, perhaps up to maxCapacity.
  await waitFor(
    'the service to grow',
    async () => {
      const s = await service();
      return s.desiredCount >= 2 && s.runningCount === s.desiredCount ? s : undefined;
    },
    { timeoutMs: 120_000, intervalMs: 1000 },
  );

  // The load stops in every running task, including one a last scale-out may still start.
  await waitFor(
    'back to one task',
    async () => {
      for (const t of await client.tasks('?serviceName=spin'))
        if (t.lastStatus === 'RUNNING')
          await run('docker', ['exec', t.containers[0]!.runtimeId!, 'rm', '-f', '/tmp/busy']).catch(() => {});
      const s = await service();
      return s.desiredCount === 1 && s.runningCount === 1 ? s : undefined;
    },
    { timeoutMs: 120_000, intervalMs: 1000 },
  );
  expect(Math.max(...counts)).toBeGreaterThanOrEqual(2);
  expect(Math.max(...counts)).toBeLessThanOrEqual(3);
  expect(Math.min(...counts)).toBe(1);

  const { events } = (
    await client.call<{ events: { createdAt: string; message: string }[] }>(
      'GET',
      '/v1/clusters/default/services/spin/events?maxResults=100',
    )
  ).body;
  const scalings = events
    .filter((e) => / scaled (out|in) /.test(e.message))
    .reverse()
    .map((e) => ({ at: Date.parse(e.createdAt), message: e.message }));
  expect(scalings[0]!.message).toMatch(
    /^\(service spin\) scaled out from 1 to [23] tasks: average CPU utilization [0-9.]+ % over 5 s, target 50 %/,
  );
  expect(scalings.at(-1)!.message).toMatch(/^\(service spin\) scaled in from [23] to 1 tasks: /);
  for (const { message } of scalings) {
    const to = Number(/ to ([0-9]+) tasks/.exec(message)![1]);
    expect(to >= 1 && to <= 3).toBe(true);
  }
  // Two scalings the same way are a cooldown apart (an event carries the time of its decision,
  // which the cooldown counts from).
  for (const [i, s] of scalings.entries()) {
    const previous = scalings
      .slice(0, i)
      .findLast((p) => p.message.includes(s.message.includes(' out ') ? ' out ' : ' in '));
    if (previous)
      expect(s.at - previous.at).toBeGreaterThanOrEqual(
        (s.message.includes(' out ') ? SCALE_OUT_COOLDOWN : SCALE_IN_COOLDOWN) * 1000,
      );
  }
}, 240_000);

test('a service behind a load balancer grows on its requests per target, and shrinks when they stop', async () => {
  const ok = <T>(res: { status: number; body: T }) => {
    if (res.status !== 200) throw new Error(`${res.status} ${JSON.stringify(res.body)}`);
    return res;
  };
  const td = httpdTaskDefinition('hits', { cpu: 128, memory: 32 });
  td.containerDefinitions[0]!.command = [
    'sh',
    '-c',
    'mkdir -p /var/www && echo ok > /var/www/index.html && exec httpd -f -p 8000 -h /var/www',
  ];
  ok(await client.register(td));
  const tg = ok(
    await client.call<{ targetGroupArn: string }>('POST', '/v1/target-groups', {
      name: 'hits-tg',
      protocol: 'HTTP',
      healthCheck: { path: '/', intervalSeconds: 5, timeoutSeconds: 2, healthyThresholdCount: 2 },
      deregistrationDelaySeconds: 0,
    }),
  ).body.targetGroupArn;
  const port = await freePort();
  ok(
    await client.call('POST', '/v1/load-balancers', {
      name: 'scaling-edge',
      listeners: [{ port, protocol: 'HTTP', defaultTargetGroupArn: tg }],
    }),
  );
  ok(
    await client.call('POST', '/v1/clusters/default/services', {
      serviceName: 'hits',
      taskDefinition: 'hits',
      desiredCount: 1,
      loadBalancers: [{ targetGroupArn: tg, containerName: 'web', containerPort: 8000 }],
    }),
  );
  // 60 requests per target per minute: the 20 per second sent below want far more than 3 tasks.
  const scaling = ok(
    await client.call<{ targetTrackingPolicies: { policyName: string }[] }>(
      'PUT',
      '/v1/clusters/default/services/hits/scaling',
      {
        minCapacity: 1,
        maxCapacity: 3,
        targetTrackingPolicies: [
          { predefinedMetric: 'ALBRequestCountPerTarget', targetValue: 60, scaleInCooldown: 5 },
        ],
      },
    ),
  );
  expect(scaling.body.targetTrackingPolicies[0]!.policyName).toBe('ALBRequestCountPerTarget-60');

  const get = () =>
    fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(5000) }).then(
      (r) => r.status,
      () => 0,
    );
  await waitFor('the listener to answer', async () => ((await get()) === 200 ? true : undefined), {
    timeoutMs: 60_000,
    intervalMs: 500,
  });
  let sending = true;
  const sender = (async () => {
    while (sending) {
      await Promise.all([get(), new Promise((r) => setTimeout(r, 50))]);
    }
  })();
  const desired = async () =>
    (await client.call<{ service: { desiredCount: number } }>('GET', '/v1/clusters/default/services/hits'))
      .body.service.desiredCount;
  try {
    await waitFor('the service to grow', async () => ((await desired()) >= 2 ? true : undefined), {
      timeoutMs: 60_000,
      intervalMs: 1000,
    });
  } finally {
    sending = false;
    await sender;
  }
  await waitFor('back to one task', async () => ((await desired()) === 1 ? true : undefined), {
    timeoutMs: 90_000,
    intervalMs: 1000,
  });
  const { events } = (
    await client.call<{ events: { message: string }[] }>(
      'GET',
      '/v1/clusters/default/services/hits/events?maxResults=100',
    )
  ).body;
  const scalings = events
    .map((e) => e.message)
    .filter((m) => / scaled (out|in) /.test(m))
    .reverse();
  expect(scalings[0]).toMatch(
    /^\(service hits\) scaled out from 1 to [23] tasks: [0-9.]+ requests per target per minute over 5 s, target 60 \(policy ALBRequestCountPerTarget-60\)$/,
  );
  expect(scalings.at(-1)).toMatch(/^\(service hits\) scaled in from [23] to 1 tasks: /);
}, 180_000);
