import { startLocalCluster, waitFor, type LocalCluster } from '@berth/testing';
import { api, httpdTaskDefinition, httpGet, type Task } from './api.js';

/**
 * Two gateway replicas behind one Redis and one Postgres. Each agent lists both, in a different
 * order, so each replica holds one agent's stream. A request taken by either replica must reach
 * the agent whichever replica holds it; when a replica dies its agents fail over to the other.
 */

let cluster: LocalCluster;
let viaFirst: ReturnType<typeof api>;
let viaSecond: ReturnType<typeof api>;

beforeAll(async () => {
  cluster = await startLocalCluster({
    gateways: 2,
    agents: [
      { hostAddress: '127.0.0.2', cpu: 1024, memory: 1024 },
      { hostAddress: '127.0.0.3', cpu: 1024, memory: 1024 },
    ],
  });
  viaFirst = api(cluster);
  viaSecond = api({ ...cluster, api: cluster.apis[1]! });
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

/** The gateway replicas that logged a registration of the agent on this host address. */
const registrations = (gateway: string, hostAddress: string) =>
  (cluster.logs.get(gateway) ?? []).filter(
    (line) => line.includes('"agent registered"') && line.includes(`"hostAddress":"${hostAddress}"`),
  ).length;

/** Runs one task on each host through `client` and waits for both to answer over HTTP. */
async function runOnBothHosts(client: ReturnType<typeof api>): Promise<Task[]> {
  const started = await client.run({
    taskDefinition: 'e2e-replicas',
    count: 2,
    placementConstraints: [{ type: 'distinctInstance' }],
  });
  expect(started).toHaveLength(2);
  const arns = started.map((t) => t.taskArn);
  const running = await waitFor(
    'both tasks RUNNING',
    async () => {
      const tasks = await Promise.all(arns.map((arn) => client.task(arn)));
      return tasks.every((t) => t.lastStatus === 'RUNNING') ? tasks : undefined;
    },
    { timeoutMs: 60_000 },
  );
  expect(new Set(running.map((t) => t.containerInstanceArn)).size).toBe(2);
  for (const t of running) expect(await httpGet(t.containers[0]!.networkBindings[0]!)).toContain('Hello');
  return running;
}

async function stopAll(client: ReturnType<typeof api>, tasks: Task[]): Promise<void> {
  for (const t of tasks) expect((await client.stop(t.taskArn)).status).toBe(200);
  await waitFor(
    'the tasks to stop',
    async () => {
      const now = await Promise.all(tasks.map((t) => client.task(t.taskArn)));
      return now.every((t) => t.lastStatus === 'STOPPED') ? true : undefined;
    },
    { timeoutMs: 60_000 },
  );
}

test('each replica holds one agent, and requests through either reach both agents', async () => {
  expect(registrations('api-gateway', '127.0.0.2')).toBe(1);
  expect(registrations('api-gateway-2', '127.0.0.3')).toBe(1);
  expect((await viaFirst.register(httpdTaskDefinition('e2e-replicas', { cpu: 256 }))).status).toBe(200);

  // Started through the second replica: the command for the agent on the first crosses over.
  const tasks = await runOnBothHosts(viaSecond);
  // Stopped through the first: the command for the agent on the second crosses back.
  await stopAll(viaFirst, tasks);
});

test('when a replica dies, its agent fails over to the other and keeps taking work', async () => {
  await cluster.killApp('api-gateway');
  await waitFor('the agent on 127.0.0.2 to register with the second replica', async () =>
    registrations('api-gateway-2', '127.0.0.2') > 0 ? true : undefined,
  );
  await waitFor('both agents connected', async () => {
    const instances = await viaSecond.instances();
    return instances.every((i) => i.agentConnected) ? true : undefined;
  });
  const tasks = await runOnBothHosts(viaSecond);

  // The first replica comes back holding no agents: its requests still reach them.
  cluster.startApp('api-gateway');
  await waitFor('the first replica to answer again', async () =>
    (await fetch(`${cluster.apis[0]}/healthz`).catch(() => null))?.ok ? true : undefined,
  );
  await stopAll(viaFirst, tasks);
  const more = await runOnBothHosts(viaFirst);
  await stopAll(viaSecond, more);

  // Nothing was lost or started twice: six tasks in all (two per round), each STOPPED once.
  expect(await viaFirst.tasks()).toEqual([]);
  const all = await viaFirst.tasks('?desiredStatus=STOPPED');
  expect(all).toHaveLength(6);
  expect(all.every((t) => t.lastStatus === 'STOPPED' && t.stopCode === 'UserInitiated')).toBe(true);
});
