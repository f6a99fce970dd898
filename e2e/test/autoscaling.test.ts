import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startLocalCluster, waitFor, type LocalCluster } from '@berth/testing';
import { api } from './api.js';

/**
 * Service auto scaling end to end: one busy-loop task with a CPU target of 50 % grows, then
 * shrinks to minCapacity once the load stops, never outside its bounds and with
 * its cooldowns between scalings. The windows and the sampling interval are shortened for the test.
 */

const run = promisify(execFile);
let cluster: LocalCluster;
let client: ReturnType<typeof api>;
const SCALE_OUT_COOLDOWN = 5;
const SCALE_IN_COOLDOWN = 5;

beforeAll(async () => {
  cluster = await startLocalCluster({
    agents: [{ hostAddress: '127.0.0.2', cpu: 2048, memory: 1024 }],
    env: {
      BERTH_STATS_INTERVAL_MS: '1000',
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
  // Two scalings the same way are a cooldown apart (an event is written a moment after the
  // decision the cooldown counts from, hence the 500 ms).
  for (const [i, s] of scalings.entries()) {
    const previous = scalings
      .slice(0, i)
      .findLast((p) => p.message.includes(s.message.includes(' out ') ? ' out ' : ' in '));
    if (previous)
      expect(s.at - previous.at).toBeGreaterThanOrEqual(
        (s.message.includes(' out ') ? SCALE_OUT_COOLDOWN : SCALE_IN_COOLDOWN) * 1000 - 500,
      );
  }
}, 240_000);
