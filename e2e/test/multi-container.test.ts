import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { freePort, startLocalCluster, waitFor, type LocalCluster } from '@berth/testing';
import { api, type Task } from './api.js';

/**
 * Multi-container tasks as ECS runs them, with real containers: a web server and a sidecar that
 * reaches it by name on the task's own network, dependsOn HEALTHY, essential and non-essential
 * exits, a volume shared by two containers, and RunTask overrides.
 */

const run = promisify(execFile);
let cluster: LocalCluster;
let client: ReturnType<typeof api>;

beforeAll(async () => {
  cluster = await startLocalCluster({
    // Host networking, NET_ADMIN and a host path under /etc: a privileged cluster on a host that
    // allows it (docs/container-policy.md).
    agents: [{ hostAddress: '127.0.0.2', cpu: 2048, memory: 2048, allowPrivileged: true }],
    // Stopped tasks are forgotten (and their volumes removed) at the next resync.
    env: { BERTH_DESIRED_STATE_RESYNC_MS: '3000' },
  });
  client = api(cluster);
  expect((await client.call('PUT', '/v1/clusters/default/policy', { level: 'privileged' })).status).toBe(200);
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

const web = {
  name: 'web',
  image: 'berth/busybox',
  memory: 32,
  command: ['httpd', '-f', '-p', '80', '-h', '/var/www'],
  linuxParameters: { initProcessEnabled: true },
  stopTimeout: 2,
  // Healthy only after a few seconds, so that "the sidecar waited" is visible in the timestamps.
  healthCheck: {
    command: ['CMD-SHELL', 'wget -qO- http://127.0.0.1/ >/dev/null'],
    interval: 5,
    timeout: 2,
    retries: 3,
    startPeriod: 0,
  },
};

/** Fetches web's page by its container name, then does `then`. */
const sidecar = (then: string, over: Record<string, unknown> = {}) => ({
  name: 'sidecar',
  image: 'berth/busybox',
  memory: 32,
  essential: false,
  command: ['sh', '-c', `wget -qO- http://web/ && ${then}`],
  linuxParameters: { initProcessEnabled: true },
  stopTimeout: 2,
  dependsOn: [{ containerName: 'web', condition: 'HEALTHY' }],
  ...over,
});

async function runTask(body: Record<string, unknown>): Promise<Task> {
  const [task] = await client.run(body);
  expect(task).toBeDefined();
  return task!;
}

const containerOf = (t: Task, name: string) => t.containers.find((c) => c.name === name)!;

async function inspect(runtimeId: string) {
  const { stdout } = await run('docker', ['inspect', runtimeId]);
  return (
    JSON.parse(stdout) as {
      State: { StartedAt: string; Health?: { Log: { End: string; ExitCode: number }[] } };
    }[]
  )[0]!;
}

async function logsOf(runtimeId: string): Promise<string> {
  const { stdout } = await run('docker', ['logs', runtimeId]);
  return stdout;
}

test('a sidecar starts only after web is healthy, reaches it by name, and may exit without stopping the task', async () => {
  const registered = await client.register({
    family: 'e2e-pair',
    containerDefinitions: [web, sidecar('echo sidecar-done')],
  });
  expect(registered.status).toBe(200);
  const task = await runTask({ taskDefinition: 'e2e-pair' });

  // The sidecar fetched the page and exited 0; the task stays RUNNING (it is not essential).
  const settled = await client.waitForTask(
    task.taskArn,
    'the sidecar to exit and web to keep running',
    (t) => t.lastStatus === 'RUNNING' && containerOf(t, 'sidecar').lastStatus === 'STOPPED',
  );
  expect(containerOf(settled, 'sidecar').exitCode).toBe(0);
  expect(containerOf(settled, 'web').lastStatus).toBe('RUNNING');
  expect(await logsOf(containerOf(settled, 'sidecar').runtimeId!)).toContain('Hello from Berth');

  // The sidecar started after web's first passing health check ended.
  const webInfo = await inspect(containerOf(settled, 'web').runtimeId!);
  const sideInfo = await inspect(containerOf(settled, 'sidecar').runtimeId!);
  const healthyAt = Date.parse(webInfo.State.Health!.Log.find((l) => l.ExitCode === 0)!.End);
  expect(Date.parse(sideInfo.State.StartedAt)).toBeGreaterThanOrEqual(healthyAt);

  // Some seconds on, the task is still RUNNING.
  await new Promise((r) => setTimeout(r, 3000));
  expect((await client.task(task.taskArn)).lastStatus).toBe('RUNNING');
  await client.stop(task.taskArn);
}, 90_000);

test('an essential container that exits stops the task with EssentialContainerExited', async () => {
  await client.register({
    family: 'e2e-pair-essential',
    containerDefinitions: [web, sidecar('exit 4', { essential: true })],
  });
  const task = await runTask({ taskDefinition: 'e2e-pair-essential' });
  const stopped = await client.waitForTask(
    task.taskArn,
    'the task to stop',
    (t) => t.lastStatus === 'STOPPED',
  );
  expect(stopped.stopCode).toBe('EssentialContainerExited');
  expect(containerOf(stopped, 'sidecar').exitCode).toBe(4);
  expect(containerOf(stopped, 'web').lastStatus).toBe('STOPPED');
}, 90_000);

test('two containers share a task volume, and overrides change one container command', async () => {
  await client.register({
    family: 'e2e-volume',
    volumes: [{ name: 'shared', dockerVolumeConfiguration: { scope: 'task' } }],
    containerDefinitions: [
      {
        name: 'writer',
        image: 'berth/busybox',
        memory: 32,
        essential: false,
        command: ['sh', '-c', 'echo written-by-writer > /data/message'],
        mountPoints: [{ sourceVolume: 'shared', containerPath: '/data' }],
      },
      {
        name: 'reader',
        image: 'berth/busybox',
        memory: 32,
        command: ['sh', '-c', 'cat /data/message; sleep 600'],
        linuxParameters: { initProcessEnabled: true },
        stopTimeout: 2,
        mountPoints: [{ sourceVolume: 'shared', containerPath: '/data', readOnly: true }],
        dependsOn: [{ containerName: 'writer', condition: 'SUCCESS' }],
      },
    ],
  });

  const plain = await runTask({ taskDefinition: 'e2e-volume' });
  const overridden = await runTask({
    taskDefinition: 'e2e-volume',
    overrides: {
      containerOverrides: [
        { name: 'writer', command: ['sh', '-c', 'echo from-an-override > /data/message'] },
      ],
    },
  });
  for (const [task, expected] of [
    [plain, 'written-by-writer'],
    [overridden, 'from-an-override'],
  ] as const) {
    const running = await client.waitForTask(
      task.taskArn,
      'the reader to run',
      (t) => t.lastStatus === 'RUNNING' && containerOf(t, 'reader').lastStatus === 'RUNNING',
    );
    expect(containerOf(running, 'writer').exitCode).toBe(0);
    const reader = containerOf(running, 'reader').runtimeId!;
    await waitFor('the reader to print', async () =>
      (await logsOf(reader)).includes(expected) ? true : undefined,
    );
    await client.stop(task.taskArn);
  }
  // Task-scoped volumes are removed with the task once the agent forgets it.
  const id = plain.taskArn.split('/').pop()!;
  await waitFor(
    'the task volume to be removed',
    async () => {
      const { stdout } = await run('docker', ['volume', 'ls', '-q', '--filter', `label=berth.task-id=${id}`]);
      return stdout.trim() === '' ? true : undefined;
    },
    { timeoutMs: 60_000 },
  );
}, 150_000);

test('an ECS task definition registers unchanged, reads back with the same fields, and fails to run with a clear reason', async () => {
  const json = JSON.parse(
    await readFile(
      new URL('../../packages/domain/fixtures/ecs/web-with-proxy-and-logs.json', import.meta.url),
      'utf8',
    ),
  ) as Record<string, unknown>;
  const registered = await client.call<{
    taskDefinition: Record<string, unknown>;
    warnings: { field: string }[];
  }>('POST', '/v1/task-definitions', json);
  expect(registered.status).toBe(200);
  expect(registered.body.warnings.map((w) => w.field)).toContain(
    'containerDefinitions[0].logConfiguration.logDriver',
  );
  const read = await client.call<{ taskDefinition: Record<string, unknown> }>(
    'GET',
    '/v1/task-definitions/storefront',
  );
  expect(read.body.taskDefinition).toMatchObject(json);

  // Its Secrets Manager ARN names a Berth secret of the cluster; with it stored, what fails is the
  // pull: its images live in ECR, which this machine cannot reach, and the task says so.
  const secret = await client.call(
    'PUT',
    `/v1/clusters/default/secrets/${encodeURIComponent('storefront/db')}`,
    {
      value: 'postgres://storefront@db/storefront',
    },
  );
  expect(secret.status).toBe(200);
  const task = await runTask({ taskDefinition: 'storefront' });
  const stopped = await client.waitForTask(
    task.taskArn,
    'the task to fail',
    (t) => t.lastStatus === 'STOPPED',
  );
  // Both together, so that a failure shows why the task stopped.
  expect({ stopCode: stopped.stopCode, stoppedReason: stopped.stoppedReason }).toEqual({
    stopCode: 'TaskFailedToStart',
    stoppedReason: expect.stringMatching(/^CannotPullContainerError: pull of \S+ failed: /),
  });
}, 90_000);

test('networkMode host serves on the host itself, and none leaves a task without a network', async () => {
  const port = await freePort();
  await client.register({
    family: 'e2e-hostnet',
    networkMode: 'host',
    containerDefinitions: [
      {
        name: 'web',
        image: 'berth/busybox',
        memory: 32,
        command: ['httpd', '-f', '-p', `127.0.0.1:${port}`, '-h', '/var/www'],
        portMappings: [{ containerPort: port }],
        linuxParameters: { initProcessEnabled: true },
        stopTimeout: 2,
      },
    ],
  });
  await client.register({
    family: 'e2e-nonet',
    networkMode: 'none',
    containerDefinitions: [
      {
        name: 'job',
        image: 'berth/busybox',
        memory: 32,
        command: ['sh', '-c', 'ls /sys/class/net; sleep 600'],
        linuxParameters: { initProcessEnabled: true },
        stopTimeout: 2,
      },
    ],
  });
  const hostTask = await runTask({ taskDefinition: 'e2e-hostnet' });
  const noneTask = await runTask({ taskDefinition: 'e2e-nonet' });
  for (const t of [hostTask, noneTask])
    await client.waitForTask(t.taskArn, 'the task to run', (x) => x.lastStatus === 'RUNNING');

  const res = await fetch(`http://127.0.0.1:${port}/`);
  expect(await res.text()).toContain('Hello from Berth');
  const job = containerOf(await client.task(noneTask.taskArn), 'job').runtimeId!;
  await waitFor('the job to list its interfaces', async () =>
    (await logsOf(job)).trim() ? true : undefined,
  );
  expect((await logsOf(job)).trim()).toBe('lo');
  for (const t of [hostTask, noneTask]) await client.stop(t.taskArn);
}, 90_000);

test('the container options of the definition reach Docker', async () => {
  await client.register({
    family: 'e2e-options',
    containerDefinitions: [
      {
        name: 'app',
        image: 'berth/busybox',
        memory: 32,
        command: ['sh', '-c', 'id -u; pwd; hostname; grep db.internal /etc/hosts; touch /x 2>&1; sleep 600'],
        user: '65534',
        workingDirectory: '/tmp',
        hostname: 'options-test',
        extraHosts: [{ hostname: 'db.internal', ipAddress: '10.1.2.3' }],
        readonlyRootFilesystem: true,
        ulimits: [{ name: 'nofile', softLimit: 1024, hardLimit: 2048 }],
        linuxParameters: { initProcessEnabled: true, capabilities: { add: ['NET_ADMIN'], drop: ['MKNOD'] } },
        dockerLabels: { 'com.example.team': 'search' },
        logConfiguration: { logDriver: 'json-file', options: { 'max-size': '1m' } },
        stopTimeout: 2,
      },
    ],
  });
  const task = await runTask({ taskDefinition: 'e2e-options' });
  const running = await client.waitForTask(
    task.taskArn,
    'the task to run',
    (t) => t.lastStatus === 'RUNNING',
  );
  const id = containerOf(running, 'app').runtimeId!;
  await waitFor('the app to print', async () => ((await logsOf(id)).includes('10.1.2.3') ? true : undefined));
  const lines = await logsOf(id);
  expect(lines).toContain('65534');
  expect(lines).toContain('/tmp');
  expect(lines).toContain('options-test');
  expect(lines).toMatch(/Read-only file system/);
  const { stdout } = await run('docker', ['inspect', id]);
  const info = (
    JSON.parse(stdout) as {
      Config: { Labels: Record<string, string> };
      HostConfig: {
        LogConfig: { Type: string; Config: Record<string, string> };
        Ulimits: { Name: string; Soft: number; Hard: number }[];
        CapAdd: string[];
        CapDrop: string[];
      };
    }[]
  )[0]!;
  expect(info.Config.Labels['com.example.team']).toBe('search');
  expect(info.HostConfig.LogConfig).toEqual({ Type: 'json-file', Config: { 'max-size': '1m' } });
  expect(info.HostConfig.Ulimits).toEqual([{ Name: 'nofile', Soft: 1024, Hard: 2048 }]);
  expect(info.HostConfig.CapAdd).toEqual(['NET_ADMIN']);
  expect(info.HostConfig.CapDrop).toEqual(['MKNOD']);
  await client.stop(task.taskArn);
}, 90_000);
