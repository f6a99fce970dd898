import {
  startLocalCluster,
  startTestHosts,
  waitFor,
  type LocalCluster,
  type TestHosts,
} from '@berth/testing';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { api, httpdTaskDefinition, httpGet, idOf, type Instance, type Task } from './api.js';

const runFile = promisify(execFile);

/**
 * Hosts on a real network: three test hosts, each a network namespace with its own address,
 * dockerd and agent, reaching the gateway only across a bridge. A host partitioned past the
 * liveness grace is marked disconnected and its service task replaced on another host; healed, it
 * removes the old container, and no task runs twice. Every host cut at once is the control plane's
 * fault, not the hosts': nothing is replaced. A lossy link is not a lost host.
 *
 * BERTH_E2E_CUT_MS (default 60 s) and BERTH_E2E_FLAKY_MS (default 2 min) set how long those last.
 */

const CUT_MS = Number(process.env.BERTH_E2E_CUT_MS ?? 60_000);
const FLAKY_MS = Number(process.env.BERTH_E2E_FLAKY_MS ?? 120_000);

let hosts: TestHosts | undefined;
let cluster: LocalCluster | undefined;
let client: ReturnType<typeof api>;

beforeAll(async () => {
  hosts = await startTestHosts(3);
  cluster = await startLocalCluster({
    hosts,
    agents: Array.from({ length: 3 }, () => ({ cpu: 1024, memory: 512 })),
  });
  client = api(cluster);
}, 60_000);

afterAll(async () => {
  if (process.env.BERTH_E2E_LOGS)
    for (const [name, lines] of cluster?.logs ?? [])
      await writeFile(join(process.env.BERTH_E2E_LOGS, `${name}.log`), lines.join('\n'));
  try {
    await cluster?.stop();
  } finally {
    await hosts?.remove();
  }
}, 60_000);

const running = (tasks: Task[]) =>
  tasks.filter((t) => t.lastStatus === 'RUNNING' && t.desiredStatus === 'RUNNING');
const hostIndexOf = (instances: Instance[], task: Task) => {
  const instance = instances.find((i) => i.containerInstanceArn === task.containerInstanceArn)!;
  return hosts!.hosts.findIndex((h) => h.address === instance.hostAddress);
};
/** The berth.task-id of every container running on every test host. */
const runningTaskIdsOnHosts = async () =>
  (
    await Promise.all(
      hosts!.hosts.map((_, i) =>
        hosts!.docker(i, ['ps', '--filter', 'label=berth.task-id', '--format', '{{.Label "berth.task-id"}}']),
      ),
    )
  )
    .flatMap((out) => out.split('\n'))
    .filter(Boolean);

test('agents on test hosts connect across the bridge, and a task answers on its own host’s address', async () => {
  const instances = await client.instances();
  expect(
    instances
      .filter((i) => i.agentConnected)
      .map((i) => i.hostAddress)
      .sort(),
  ).toEqual(hosts!.hosts.map((h) => h.address).sort());
  expect(cluster!.grpcAddress.startsWith(`${hosts!.bridgeAddress}:`)).toBe(true);

  await client.register(httpdTaskDefinition('netns-web', { cpu: 256 }));
  const created = await client.call('POST', '/v1/clusters/default/services', {
    serviceName: 'netns',
    taskDefinition: 'netns-web',
    desiredCount: 2,
    placementStrategy: [{ type: 'spread', field: 'instanceId' }],
  });
  expect(created.status).toBe(200);
  const tasks = await waitFor(
    'two running tasks on two hosts',
    async () => {
      const tasks = running(await client.tasks('?serviceName=netns'));
      return tasks.length === 2 && new Set(tasks.map((t) => t.containerInstanceArn)).size === 2
        ? tasks
        : undefined;
    },
    { timeoutMs: 30_000 },
  );
  for (const task of tasks) {
    const binding = task.containers[0]!.networkBindings[0]!;
    expect(binding.bindIP).toBe(hosts!.hosts[hostIndexOf(instances, task)]!.address);
    await expect(httpGet(binding)).resolves.toBeDefined();
  }
});

test('a partitioned host is marked disconnected, its task replaced elsewhere, and healed it removes the old container', async () => {
  const instances = await client.instances();
  const [doomed] = running(await client.tasks('?serviceName=netns'));
  const cut = hostIndexOf(instances, doomed!);
  const cutArn = doomed!.containerInstanceArn!;
  const instance = async () => (await client.instances()).find((i) => i.containerInstanceArn === cutArn)!;

  await hosts!.partition(cut, true);
  try {
    await waitFor('the cut host to be marked disconnected', async () =>
      (await instance()).agentConnected ? undefined : true,
    );
    const lost = await client.waitForTask(
      doomed!.taskArn,
      'the task to be lost',
      (t) => t.lastStatus === 'STOPPED',
    );
    expect(lost.stopCode).toBe('InstanceLost');
    const replaced = await waitFor('a replacement running on another host', async () => {
      const tasks = running(await client.tasks('?serviceName=netns'));
      return tasks.length === 2 && tasks.every((t) => t.containerInstanceArn !== cutArn) ? tasks : undefined;
    });
    for (const task of replaced)
      await expect(httpGet(task.containers[0]!.networkBindings[0]!)).resolves.toBeDefined();
    // Cut off, the host cannot be told: its container still runs.
    expect(await runningTaskIdsOnHosts()).toContain(idOf(doomed!.taskArn));
  } finally {
    await hosts!.partition(cut, false);
  }

  await waitFor(
    'the healed host to reconnect',
    async () => ((await instance()).agentConnected ? true : undefined),
    {
      timeoutMs: 45_000,
    },
  );
  await waitFor('the old container to be removed', async () =>
    (await hosts!.docker(cut, ['ps', '-aq', '--filter', `label=berth.task-id=${idOf(doomed!.taskArn)}`])) ===
    ''
      ? true
      : undefined,
  );
  const ids = await runningTaskIdsOnHosts();
  expect(new Set(ids).size).toBe(ids.length);
  expect(ids.sort()).toEqual(
    running(await client.tasks('?serviceName=netns'))
      .map((t) => idOf(t.taskArn))
      .sort(),
  );
});

/** Each task's container, asked every 2 s from inside its own host (the links may be cut). */
function probeFromHosts(instances: Instance[], tasks: Task[]) {
  const failures: string[] = [];
  let probes = 0;
  let on = true;
  const started = Date.now();
  const loop = (async () => {
    while (on) {
      for (const t of tasks) {
        const { bindIP, hostPort } = t.containers[0]!.networkBindings[0]!;
        const launcher = hosts!.launcher(hostIndexOf(instances, t));
        probes++;
        await runFile(launcher[0]!, [
          ...launcher.slice(1),
          'curl',
          '-sSf',
          '--max-time',
          '2',
          `http://${bindIP}:${hostPort}/`,
        ]).catch((err: Error & { code?: number }) =>
          failures.push(
            `${new Date().toISOString()} (+${Date.now() - started} ms) ${t.taskArn}: exit ${err.code}: ${err.message}`,
          ),
        );
      }
      await new Promise((r) => setTimeout(r, 2_000));
    }
  })();
  return async () => {
    on = false;
    await loop;
    return { failures, probes };
  };
}

/**
 * Every task of the service, stopped ones included (asked for explicitly: ListTasks answers those
 * desired RUNNING unless asked for STOPPED), as `arn lastStatus desiredStatus`.
 */
const serviceTaskStates = async () =>
  [
    ...(await client.tasks('?serviceName=netns&desiredStatus=RUNNING')),
    ...(await client.tasks('?serviceName=netns&desiredStatus=STOPPED')),
  ]
    .map((t) => `${t.taskArn} ${t.lastStatus} ${t.desiredStatus}`)
    .sort();

const everyAgentConnected = () =>
  waitFor(
    'every agent to be back',
    async () => ((await client.instances()).every((i) => i.agentConnected) ? true : undefined),
    { timeoutMs: 60_000 },
  );

test(
  'every host cut from the control plane: the brake holds, containers answer, and nothing changes after the heal',
  async () => {
    const instances = await client.instances();
    const tasks = running(await client.tasks('?serviceName=netns'));
    expect(tasks).toHaveLength(2);
    const before = await serviceTaskStates();
    const stopProbe = probeFromHosts(instances, tasks);

    // When each step happened, to read a probe failure against.
    const marks: string[] = [];
    const mark = (what: string) => marks.push(`${new Date().toISOString()} ${what}`);
    await hosts!.partitionAll(true);
    mark('cut');
    try {
      await waitFor('every host to be marked disconnected', async () =>
        (await client.instances()).every((i) => !i.agentConnected) ? true : undefined,
      );
      mark('every host marked disconnected');
      await new Promise((r) => setTimeout(r, CUT_MS));
    } finally {
      await hosts!.partitionAll(false);
      mark('healed');
    }
    await everyAgentConnected();
    mark('every agent connected');
    // Past the grace again, with every sweep that could still declare a loss.
    await new Promise((r) => setTimeout(r, 10_000));

    const { failures, probes } = await stopProbe();
    expect({ failures, marks }).toEqual({ failures: [], marks });
    expect(probes).toBeGreaterThan(CUT_MS / 2_000);
    expect(await serviceTaskStates()).toEqual(before);
    const ids = await runningTaskIdsOnHosts();
    expect(ids.sort()).toEqual(tasks.map((t) => idOf(t.taskArn)).sort());
    const events = await client.call<{ events: { message: string }[] }>(
      'GET',
      '/v1/clusters/default/services/netns/events',
    );
    expect(events.body.events.map((e) => e.message)).toContainEqual(
      expect.stringMatching(
        /^\(service netns\) kept its tasks on [12] silent container instance\(s\): [23] of 3/,
      ),
    );
  },
  CUT_MS + 150_000,
);

test(
  'a lossy (and, where the kernel can, slow) link is not a lost host: no flapping, no task replaced',
  async () => {
    const instances = await client.instances();
    const [task] = running(await client.tasks('?serviceName=netns'));
    const flaky = hostIndexOf(instances, task!);
    const flakyArn = task!.containerInstanceArn!;
    const before = await serviceTaskStates();

    // 10 % each way. At 20 %, TCP's retransmission backoff now and then holds the stream past
    // 3 s (four drops of one segment in a row): with 2 s heartbeats, past the 5 s timeout, which
    // is how long a silence Berth is meant to notice (docs/operations.md).
    await hosts!.netem(flaky, { lossPercent: 10, delayMs: hosts!.canDelay ? 200 : 0 });
    let disconnectedSeen = 0;
    try {
      const until = Date.now() + FLAKY_MS;
      while (Date.now() < until) {
        const instance = (await client.instances()).find((i) => i.containerInstanceArn === flakyArn)!;
        if (!instance.agentConnected) disconnectedSeen++;
        await new Promise((r) => setTimeout(r, 1_000));
      }
    } finally {
      await hosts!.netem(flaky, {});
    }
    expect(disconnectedSeen).toBe(0);
    expect(await serviceTaskStates()).toEqual(before);
    await expect(httpGet(task!.containers[0]!.networkBindings[0]!)).resolves.toBeDefined();
  },
  FLAKY_MS + 60_000,
);
