import { startLocalCluster, waitFor, type LocalCluster } from '@berth/testing';
import { api, httpdTaskDefinition, httpGet, type Task } from './api.js';

/**
 * The brake on mass eviction, with real containers: the control plane goes away while every
 * host is fine. No task may be stopped or replaced, and the containers answer throughout.
 *
 * Each outage lasts 60 s (ten times the 6 s grace); BERTH_E2E_OUTAGE_MS changes it.
 */

const OUTAGE_MS = Number(process.env.BERTH_E2E_OUTAGE_MS ?? 60_000);
let cluster: LocalCluster;
let client: ReturnType<typeof api>;

beforeAll(async () => {
  cluster = await startLocalCluster({
    agents: ['127.0.0.20', '127.0.0.21', '127.0.0.22'].map((hostAddress) => ({
      hostAddress,
      cpu: 2048,
      memory: 1024,
    })),
  });
  client = api(cluster);
  await client.register(httpdTaskDefinition('outage-web', { cpu: 256 }));
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

const running = (tasks: Task[]) =>
  tasks.filter((t) => t.lastStatus === 'RUNNING' && t.desiredStatus === 'RUNNING');
const arns = (tasks: Task[]) => tasks.map((t) => t.taskArn).sort();

async function serviceOnEveryHost(serviceName: string): Promise<Task[]> {
  const created = await client.call('POST', '/v1/clusters/default/services', {
    serviceName,
    taskDefinition: 'outage-web',
    desiredCount: 3,
    placementStrategy: [{ type: 'spread', field: 'instanceId' }],
  });
  expect(created.status).toBe(200);
  return waitFor(
    'three running tasks, one per host',
    async () => {
      const tasks = running(await client.tasks(`?serviceName=${serviceName}`));
      return tasks.length === 3 && new Set(tasks.map((t) => t.containerInstanceArn)).size === 3
        ? tasks
        : undefined;
    },
    { timeoutMs: 60_000 },
  );
}

/** Asks every task's container every 250 ms; returns the failures when stopped. */
function probe(tasks: Task[]) {
  const failures: string[] = [];
  let probes = 0;
  let on = true;
  const loop = (async () => {
    while (on) {
      for (const t of tasks) {
        probes++;
        await httpGet(t.containers[0]!.networkBindings[0]!).catch((err: Error) =>
          failures.push(`${t.taskArn}: ${err.message}`),
        );
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  return async () => {
    on = false;
    await loop;
    return { failures, probes };
  };
}

async function outage(apps: string[]) {
  for (const app of apps) await cluster.killApp(app);
  await new Promise((r) => setTimeout(r, OUTAGE_MS));
  for (const app of apps) cluster.startApp(app);
  await waitFor(
    'the gateway to answer and every agent to be back',
    async () => {
      const health = await fetch(`${cluster.api}/healthz`).catch(() => null);
      if (!health?.ok) return undefined;
      const instances = await client.instances();
      return instances.length === 3 && instances.every((i) => i.agentConnected) ? true : undefined;
    },
    { timeoutMs: 60_000 },
  );
  // Past the grace again, with every sweep that could still declare a loss.
  await new Promise((r) => setTimeout(r, 10_000));
}

async function expectNothingChanged(
  serviceName: string,
  before: Task[],
  stopProbe: ReturnType<typeof probe>,
) {
  const { failures, probes } = await stopProbe();
  expect(failures).toEqual([]);
  expect(probes).toBeGreaterThan(OUTAGE_MS / 250);
  expect(arns(running(await client.tasks(`?serviceName=${serviceName}`)))).toEqual(arns(before));
  expect(await client.tasks(`?serviceName=${serviceName}&desiredStatus=STOPPED`)).toEqual([]);
}

test('the only gateway down for the outage: the brake holds, no task is stopped or replaced', async () => {
  const before = await serviceOnEveryHost('outage');
  const stopProbe = probe(before);
  await outage(['api-gateway']);
  await expectNothingChanged('outage', before, stopProbe);
  const events = await client.call<{ events: { message: string }[] }>(
    'GET',
    '/v1/clusters/default/services/outage/events',
  );
  expect(events.body.events.map((e) => e.message)).toContainEqual(
    expect.stringMatching(
      /^\(service outage\) kept its tasks on [1-3] silent container instance\(s\): [23] of 3/,
    ),
  );
}, 180_000);

test('the gateway and the deployment-controller down together: no task is stopped or replaced', async () => {
  const before = await serviceOnEveryHost('outage-2');
  const stopProbe = probe(before);
  await outage(['api-gateway', 'deployment-controller']);
  await expectNothingChanged('outage-2', before, stopProbe);
}, 180_000);
