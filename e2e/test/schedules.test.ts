import { startLocalCluster, waitFor, type LocalCluster } from '@berth/testing';
import { api, idOf, type Task } from './api.js';

/**
 * A scheduled task with two deployment-controllers running: `rate(1 minute)` fires at creation,
 * then once a minute, each firing running its one task exactly once, whichever controller took
 * the sweep. Over two minutes: the rate's minimum is a minute.
 */

let cluster: LocalCluster;
let client: ReturnType<typeof api>;

interface Run {
  scheduledTime: string;
  status: string;
  taskArns: string[];
  reason?: string;
}

beforeAll(async () => {
  cluster = await startLocalCluster({
    agents: [{ hostAddress: '127.0.0.2', cpu: 1024, memory: 1024 }],
    controllers: 2,
  });
  client = api(cluster);
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

test('a rate(1 minute) schedule with two controllers fires once per minute, twice in a row', async () => {
  const registered = await client.register({
    family: 'e2e-tick',
    containerDefinitions: [{ name: 'tick', image: 'berth/busybox', memory: 16, command: ['echo', 'tick'] }],
  });
  expect(registered.status).toBe(200);
  const created = await client.call<{ schedule: { nextFireTime: string } }>(
    'POST',
    '/v1/clusters/default/schedules',
    { name: 'tick', scheduleExpression: 'rate(1 minute)', taskDefinition: 'e2e-tick' },
  );
  expect(created.status).toBe(200);
  const t0 = Date.parse(created.body.schedule.nextFireTime);

  const runs = async () =>
    (await client.call<{ runs: Run[] }>('GET', '/v1/clusters/default/schedules/tick/runs')).body.runs;
  // The firing at creation, then two a minute apart; then a few seconds more, in which a second
  // controller's duplicate of the third would have shown.
  const fired = await waitFor(
    'three firings of the schedule',
    async () => {
      const r = await runs();
      return r.length >= 3 ? r : undefined;
    },
    { timeoutMs: 150_000, intervalMs: 1000 },
  );
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, t0 + 125_000 - Date.now())));
  const final = await runs();
  expect(final).toEqual(fired);
  expect(final.map((r) => [r.scheduledTime, r.status, r.taskArns.length])).toEqual(
    [2, 1, 0].map((k) => [new Date(t0 + k * 60_000).toISOString(), 'SUCCEEDED', 1]),
  );

  // Each firing's one task ran to the end, and no other task was started by the schedule.
  const arns = final.flatMap((r) => r.taskArns);
  const stopped = await client.tasks('?desiredStatus=STOPPED&startedBy=schedule%2Ftick');
  const running = await client.tasks('?startedBy=schedule%2Ftick');
  expect(new Set([...stopped, ...running].map((t: Task) => t.taskArn))).toEqual(new Set(arns));
  for (const arn of arns) {
    const task = await client.waitForTask(
      arn,
      `task ${idOf(arn)} to stop`,
      (t) => t.lastStatus === 'STOPPED',
    );
    expect(task.containers[0]).toMatchObject({ name: 'tick', exitCode: 0 });
  }

  // Both controllers ran the sweeps; between them, each firing was logged once.
  expect(cluster.isRunning('deployment-controller') && cluster.isRunning('deployment-controller-2')).toBe(
    true,
  );
  const firedLines = ['deployment-controller', 'deployment-controller-2'].flatMap((app) =>
    (cluster.logs.get(app) ?? []).filter((line) => line.includes('schedule fired')),
  );
  expect(firedLines).toHaveLength(3);
}, 240_000);
