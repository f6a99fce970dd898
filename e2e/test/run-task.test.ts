import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import { startLocalCluster, waitFor, type LocalCluster } from '@berth/testing';
import { api, remaining, type Task } from './api.js';

/**
 * The first path through every app, with real Postgres, Redis, Docker and containers: RunTask
 * of a busybox httpd task with a dynamic host port on two agents, HTTP to each published port,
 * StopTask, and the reservations given back.
 */

const run = promisify(execFile);
let cluster: LocalCluster;
let client: ReturnType<typeof api>;
const call = <T>(method: string, path: string, body?: unknown) => client.call<T>(method, path, body);
const tasksOf = (query = '') => client.tasks(query);
const instances = () => client.instances();

beforeAll(async () => {
  // Each host offers 1024 CPU units, each task takes 512: exactly two tasks fit per host.
  cluster = await startLocalCluster({
    agents: [
      { hostAddress: '127.0.0.2', cpu: 1024, memory: 1024 },
      { hostAddress: '127.0.0.3', cpu: 1024, memory: 1024 },
    ],
  });
  client = api(cluster);
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

test('RunTask starts real containers on both hosts, they answer, and StopTask stops them', async () => {
  const registered = await call<{ taskDefinition: { taskDefinitionArn: string; revision: number } }>(
    'POST',
    '/v1/task-definitions',
    {
      family: 'e2e-httpd',
      containerDefinitions: [
        {
          name: 'web',
          image: 'berth/busybox',
          cpu: 512,
          memory: 64,
          command: ['httpd', '-f', '-p', '8000', '-h', '/var/www'],
          portMappings: [{ containerPort: 8000, hostPort: 0 }],
          linuxParameters: { initProcessEnabled: true },
          stopTimeout: 5,
        },
      ],
    },
  );
  expect(registered.status).toBe(200);
  expect(registered.body.taskDefinition.taskDefinitionArn).toMatch(
    /^arn:berth:ecs:[^:]+:\d+:task-definition\/e2e-httpd:1$/,
  );

  const run = await call<{ tasks: Task[] }>('POST', '/v1/clusters/default/tasks', {
    taskDefinition: 'e2e-httpd',
    count: 4,
  });
  expect(run.status).toBe(200);
  expect(run.body.tasks).toHaveLength(4);
  const ids = run.body.tasks.map((t) => t.taskArn);

  const running = await waitFor(
    'four RUNNING tasks',
    async () => {
      const tasks = (await tasksOf()).filter((t) => ids.includes(t.taskArn));
      return tasks.every((t) => t.lastStatus === 'RUNNING') ? tasks : undefined;
    },
    { timeoutMs: 60_000 },
  );

  // Both hosts are used, two tasks each, and every container publishes on its host's address.
  const hosts = await instances();
  const byInstance = new Map<string, number>();
  for (const t of running)
    byInstance.set(t.containerInstanceArn!, (byInstance.get(t.containerInstanceArn!) ?? 0) + 1);
  expect([...byInstance.values()].sort()).toEqual([2, 2]);
  for (const h of hosts) {
    expect(remaining(h, 'CPU')).toBe(0);
    expect(remaining(h, 'MEMORY')).toBe(1024 - 128);
    expect(h.runningTasksCount).toBe(2);
  }

  for (const t of running) {
    const host = hosts.find((h) => h.containerInstanceArn === t.containerInstanceArn)!;
    const [binding] = t.containers[0]!.networkBindings;
    expect(binding!.bindIP).toBe(host.hostAddress);
    expect(binding!.containerPort).toBe(8000);
    expect(binding!.hostPort).toBeGreaterThan(0);
    const res = await fetch(`http://${binding!.bindIP}:${binding!.hostPort}/`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('Hello from Berth');
  }

  // A fifth task does not fit: it waits in PROVISIONING with the reason, and is placed when room appears.
  const fifth = (
    await call<{ tasks: Task[] }>('POST', '/v1/clusters/default/tasks', { taskDefinition: 'e2e-httpd' })
  ).body.tasks[0]!;
  const waiting = await waitFor('the fifth task to explain why it waits', async () => {
    const t = (
      await call<{ task: Task }>('GET', `/v1/clusters/default/tasks/${encodeURIComponent(fifth.taskArn)}`)
    ).body.task;
    return t.provisioningReason ? t : undefined;
  });
  expect(waiting.lastStatus).toBe('PROVISIONING');
  expect(waiting.provisioningReason).toBe(
    'No container instance met all of its requirements: 2 had insufficient CPU.',
  );

  const first = running[0]!;
  const stop = await call<{ task: Task }>(
    'POST',
    `/v1/clusters/default/tasks/${first.taskArn.split('/').pop()}/stop`,
    { reason: 'e2e' },
  );
  expect(stop.status).toBe(200);
  expect(stop.body.task.desiredStatus).toBe('STOPPED');
  await waitFor(
    'the fifth task to run in the freed room',
    async () => {
      const t = (
        await call<{ task: Task }>('GET', `/v1/clusters/default/tasks/${fifth.taskArn.split('/').pop()}`)
      ).body.task;
      return t.lastStatus === 'RUNNING' ? t : undefined;
    },
    { timeoutMs: 60_000 },
  );

  // Stop everything: each task ends STOPPED, with the exit code of SIGTERM, and gives its room back.
  const live = (await tasksOf('?desiredStatus=RUNNING')).map((t) => t.taskArn.split('/').pop()!);
  for (const id of live)
    expect((await call('POST', `/v1/clusters/default/tasks/${id}/stop`, {})).status).toBe(200);
  const stopped = await waitFor(
    'every task STOPPED',
    async () => {
      const tasks = await tasksOf('?desiredStatus=STOPPED');
      return tasks.length === 5 && tasks.every((t) => t.lastStatus === 'STOPPED') ? tasks : undefined;
    },
    { timeoutMs: 60_000 },
  );
  for (const t of stopped) {
    expect(t.stopCode).toBe('UserInitiated');
    expect(t.containers[0]!.lastStatus).toBe('STOPPED');
    expect(t.containers[0]!.exitCode).toBe(143);
  }
  for (const h of await instances()) {
    expect(remaining(h, 'CPU')).toBe(1024);
    expect(remaining(h, 'MEMORY')).toBe(1024);
    expect(h.runningTasksCount).toBe(0);
  }
});

test('a task whose essential container exits stops with EssentialContainerExited and frees its room', async () => {
  await call('POST', '/v1/task-definitions', {
    family: 'e2e-exit',
    containerDefinitions: [
      { name: 'job', image: 'berth/busybox', cpu: 128, memory: 32, command: ['sh', '-c', 'sleep 1; exit 3'] },
    ],
  });
  const [task] = (
    await call<{ tasks: Task[] }>('POST', '/v1/clusters/default/tasks', { taskDefinition: 'e2e-exit' })
  ).body.tasks;
  const id = task!.taskArn.split('/').pop()!;
  const stopped = await waitFor(
    'the task to stop by itself',
    async () => {
      const t = (await call<{ task: Task }>('GET', `/v1/clusters/default/tasks/${id}`)).body.task;
      return t.lastStatus === 'STOPPED' && t.stopCode ? t : undefined;
    },
    { timeoutMs: 60_000 },
  );
  expect(stopped.desiredStatus).toBe('STOPPED');
  expect(stopped.stopCode).toBe('EssentialContainerExited');
  expect(stopped.containers[0]!.exitCode).toBe(3);
  for (const h of await instances()) expect(remaining(h, 'CPU')).toBe(1024);
});

test('an image that cannot be pulled fails the task with CannotPullContainerError', async () => {
  await call('POST', '/v1/task-definitions', {
    family: 'e2e-nopull',
    containerDefinitions: [{ name: 'app', image: '127.0.0.1:1/berth/missing:1', memory: 32 }],
  });
  const [task] = (
    await call<{ tasks: Task[] }>('POST', '/v1/clusters/default/tasks', { taskDefinition: 'e2e-nopull' })
  ).body.tasks;
  const id = task!.taskArn.split('/').pop()!;
  const stopped = await waitFor(
    'the task to fail',
    async () => {
      const t = (
        await call<{ task: Task & { stoppedReason?: string } }>('GET', `/v1/clusters/default/tasks/${id}`)
      ).body.task;
      return t.lastStatus === 'STOPPED' && t.stopCode ? t : undefined;
    },
    { timeoutMs: 60_000 },
  );
  expect(stopped.stopCode).toBe('TaskFailedToStart');
  expect((stopped as { stoppedReason?: string }).stoppedReason).toMatch(/^CannotPullContainerError: /);
});

describe('a private registry with htpasswd auth (started by deploy/local/test.sh)', () => {
  const registry = process.env.BERTH_TEST_REGISTRY;
  const user = process.env.BERTH_TEST_REGISTRY_USER;
  const password = process.env.BERTH_TEST_REGISTRY_PASSWORD;
  const image = `${registry}/berth/private-busybox:1`;
  const credentialsPath = `/v1/clusters/default/registry-credentials/${registry}`;

  beforeAll(async () => {
    if (!registry || !user || !password)
      throw new Error('BERTH_TEST_REGISTRY* are not set: run the tests through deploy/local/test.sh');
    // The agent uses a cached image without pulling: make sure every run really pulls.
    await run('docker', ['rmi', '-f', image]).catch(() => undefined);
    await call('POST', '/v1/task-definitions', {
      family: 'e2e-private',
      containerDefinitions: [
        {
          name: 'app',
          image,
          cpu: 128,
          memory: 32,
          command: ['sleep', '600'],
          linuxParameters: { initProcessEnabled: true },
          stopTimeout: 2,
        },
      ],
    });
  });

  afterAll(async () => {
    await run('docker', ['rmi', '-f', image]).catch(() => undefined);
  });

  const runPrivate = async () => {
    const [task] = (
      await call<{ tasks: Task[] }>('POST', '/v1/clusters/default/tasks', { taskDefinition: 'e2e-private' })
    ).body.tasks;
    return task!.taskArn;
  };
  const settled = (arn: string) =>
    client.waitForTask(
      arn,
      'the private task to run or fail',
      (t) => t.lastStatus === 'RUNNING' || (t.lastStatus === 'STOPPED' && !!t.stopCode),
    );

  test('wrong credentials fail the task with CannotPullContainerError', async () => {
    const put = await call<{ registryCredential: Record<string, unknown> }>('PUT', credentialsPath, {
      username: user,
      password: 'not-the-password',
    });
    expect(put.status).toBe(200);
    expect(JSON.stringify(put.body)).not.toContain('not-the-password');

    const t = await settled(await runPrivate());
    expect(t.lastStatus).toBe('STOPPED');
    expect(t.stopCode).toBe('TaskFailedToStart');
    expect(t.stoppedReason).toMatch(
      /^CannotPullContainerError: pull of .*private-busybox:1 failed: .*unauthorized/,
    );
  });

  test('the credentials the cluster holds pull the image; the password never comes back', async () => {
    expect((await call('PUT', credentialsPath, { username: user, password })).status).toBe(200);

    const t = await settled(await runPrivate());
    expect(t.lastStatus).toBe('RUNNING');
    await client.stop(t.taskArn);

    const list = await call<{ registryCredentials: Record<string, unknown>[] }>(
      'GET',
      '/v1/clusters/default/registry-credentials',
    );
    expect(list.body.registryCredentials).toEqual([expect.objectContaining({ registry, username: user })]);
    expect(JSON.stringify(list.body)).not.toContain(password);
    // At rest too: the database holds the password sealed, not in the clear.
    const sql = new pg.Client({ connectionString: cluster.db.url });
    await sql.connect();
    try {
      const rows = await sql.query<{ sealed: Buffer }>(
        'SELECT sealed_password AS sealed FROM registry_credential',
      );
      expect(rows.rows).toHaveLength(1);
      expect(rows.rows[0]!.sealed.toString('latin1')).not.toContain(password);
    } finally {
      await sql.end();
    }

    expect((await call('DELETE', credentialsPath)).status).toBe(200);
    expect((await call('DELETE', credentialsPath)).status).toBe(404);
  });

  test('bad input names the field', async () => {
    const bad = await call<{ error: string; field: string }>('PUT', credentialsPath, { username: user });
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe('password');
    const badRegistry = await call<{ field: string }>(
      'PUT',
      '/v1/clusters/default/registry-credentials/not%20a%20host',
      { username: 'u', password: 'p' },
    );
    expect(badRegistry.status).toBe(400);
    expect(badRegistry.body.field).toBe('registry');
  });
});
