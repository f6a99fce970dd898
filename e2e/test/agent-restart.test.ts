import { startLocalCluster, waitFor, type LocalCluster } from '@berth/testing';
import { api, httpdTaskDefinition, httpGet, type Task } from './api.js';

/**
 * An agent killed with SIGKILL leaves its containers running; the new agent process adopts them by
 * label, the control plane sees the same task ids, and the agent converges to whatever was
 * decided while it was away.
 */

let cluster: LocalCluster;
let client: ReturnType<typeof api>;

beforeAll(async () => {
  cluster = await startLocalCluster({
    agents: [{ hostAddress: '127.0.0.4', cpu: 2048, memory: 1024 }],
    // One host, so no brake: the restart must not race the 6 s host-loss grace on a loaded machine.
    // Host loss has its own tests (instance-loss.test.ts).
    env: { BERTH_INSTANCE_LOST_AFTER_MS: '120000' },
  });
  client = api(cluster);
}, 60_000);

afterAll(async () => {
  if (process.env.BERTH_E2E_LOGS)
    for (const [name, lines] of cluster.logs) console.log(name, lines.join('\n'));
  await cluster?.stop();
});

const connected = async (want: boolean) =>
  waitFor(`the agent to be ${want ? 'connected' : 'disconnected'}`, async () =>
    (await client.instances())[0]?.agentConnected === want ? true : undefined,
  );

test('a restarted agent adopts its containers and applies a stop decided while it was down', async () => {
  await client.register(httpdTaskDefinition('e2e-adopt', { cpu: 256 }));
  const started = await client.run({ taskDefinition: 'e2e-adopt', count: 2 });
  const running = await waitFor(
    'both tasks RUNNING',
    async () => {
      const tasks = await Promise.all(started.map((t) => client.task(t.taskArn)));
      return tasks.every((t) => t.lastStatus === 'RUNNING') ? tasks : undefined;
    },
    { timeoutMs: 60_000 },
  );
  const [keep, drop] = running as [Task, Task];

  await cluster.killAgent(0, 'SIGKILL');
  await connected(false);
  // The containers outlive their agent.
  expect(await httpGet(keep.containers[0]!.networkBindings[0]!)).toContain('Hello from Berth');
  // A stop asked while the agent is away waits for it.
  expect((await client.stop(drop.taskArn, 'while the agent was away')).status).toBe(200);
  expect((await client.task(drop.taskArn)).lastStatus).toBe('RUNNING');

  cluster.startAgent(0);
  await connected(true);
  const stopped = await waitFor(
    'the stop to be applied',
    async () => {
      const t = await client.task(drop.taskArn);
      return t.lastStatus === 'STOPPED' ? t : undefined;
    },
    { timeoutMs: 30_000 },
  );
  expect(stopped.stopCode).toBe('UserInitiated');
  expect(stopped.containers[0]!.exitCode).toBe(143);

  // The other task carries on: same task, same container, same port, nothing started twice.
  const after = await client.task(keep.taskArn);
  expect(after.lastStatus).toBe('RUNNING');
  expect(after.containers[0]!.runtimeId).toBe(keep.containers[0]!.runtimeId);
  expect(after.containers[0]!.networkBindings).toEqual(keep.containers[0]!.networkBindings);
  expect(await httpGet(after.containers[0]!.networkBindings[0]!)).toContain('Hello from Berth');
  // ListTasks answers the tasks desired RUNNING unless asked for STOPPED ones, as in ECS.
  expect(await client.tasks()).toHaveLength(1);
  expect(await client.tasks('?desiredStatus=STOPPED')).toHaveLength(1);

  // And the adopted task is under the new agent's control.
  await client.stop(keep.taskArn);
  await waitFor('the adopted task to stop', async () =>
    (await client.task(keep.taskArn)).lastStatus === 'STOPPED' ? true : undefined,
  );
});
