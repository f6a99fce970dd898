import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startLocalCluster, waitFor, type LocalCluster } from '@berth/testing';
import { api, idOf, type Task } from './api.js';

/**
 * The container policy with real containers (docs/container-policy.md): under baseline, what
 * would reach the host is refused with 400 and a plain container runs confined; under privileged
 * it runs, on a host whose agent allows it; a host that does not refuses the task at launch.
 */

const run = promisify(execFile);
let cluster: LocalCluster;
let client: ReturnType<typeof api>;

beforeAll(async () => {
  cluster = await startLocalCluster({
    agents: [
      { hostAddress: '127.0.0.2', attributes: { host: 'open' }, allowPrivileged: true },
      { hostAddress: '127.0.0.3', attributes: { host: 'strict' } },
    ],
  });
  client = api(cluster);
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

const sleeper = (over: Record<string, unknown> = {}) => ({
  name: 'app',
  image: 'berth/busybox',
  memory: 32,
  command: ['sh', '-c', 'grep NoNewPrivs /proc/self/status; sleep 600'],
  linuxParameters: { initProcessEnabled: true },
  stopTimeout: 2,
  ...over,
});

/** Each reaches the host another way; `field` is what a refusal names. */
const escapes = [
  {
    field: 'volumes[0].host.sourcePath',
    td: {
      family: 'e2e-docker-sock',
      volumes: [{ name: 'sock', host: { sourcePath: '/var/run/docker.sock' } }],
      containerDefinitions: [
        sleeper({ mountPoints: [{ sourceVolume: 'sock', containerPath: '/var/run/docker.sock' }] }),
      ],
    },
  },
  {
    field: 'volumes[0].host.sourcePath',
    td: {
      family: 'e2e-host-root',
      volumes: [{ name: 'root', host: { sourcePath: '/' } }],
      containerDefinitions: [
        sleeper({ mountPoints: [{ sourceVolume: 'root', containerPath: '/host', readOnly: true }] }),
      ],
    },
  },
  {
    field: 'networkMode',
    td: { family: 'e2e-host-network', networkMode: 'host', containerDefinitions: [sleeper()] },
  },
  {
    field: 'containerDefinitions[0].linuxParameters.capabilities.add[0]',
    td: {
      family: 'e2e-sys-admin',
      containerDefinitions: [
        sleeper({ linuxParameters: { initProcessEnabled: true, capabilities: { add: ['SYS_ADMIN'] } } }),
      ],
    },
  },
  {
    field: 'containerDefinitions[0].privileged',
    td: { family: 'e2e-privileged', containerDefinitions: [sleeper({ privileged: true })] },
  },
];

beforeAll(async () => {
  for (const td of [...escapes.map((e) => e.td), { family: 'e2e-plain', containerDefinitions: [sleeper()] }])
    expect((await client.register(td)).status).toBe(200);
});

const on = (host: 'open' | 'strict') => [{ type: 'memberOf', expression: `attribute:host == ${host}` }];
const setLevel = async (level: string) =>
  expect((await client.call('PUT', '/v1/clusters/default/policy', { level })).status).toBe(200);

interface Inspected {
  HostConfig: {
    SecurityOpt: string[] | null;
    PidsLimit: number | null;
    NetworkMode: string;
    CapAdd: string[] | null;
    Privileged: boolean;
  };
  Mounts: { Source: string; Destination: string }[];
}
async function inspect(task: Task): Promise<Inspected> {
  const { stdout } = await run('docker', ['inspect', task.containers[0]!.runtimeId!]);
  return (JSON.parse(stdout) as Inspected[])[0]!;
}

/** Waits for the task to run; one that stops instead fails the test with its reason. */
async function running(task: Task): Promise<Task> {
  const settled = await client.waitForTask(task.taskArn, `${task.taskArn} to run`, (t) =>
    ['RUNNING', 'STOPPED'].includes(t.lastStatus),
  );
  expect({ lastStatus: settled.lastStatus, stoppedReason: settled.stoppedReason }).toEqual({
    lastStatus: 'RUNNING',
    stoppedReason: undefined,
  });
  return settled;
}

test('baseline refuses every way onto the host with a 400 naming the field, and confines what it runs', async () => {
  for (const { td, field } of escapes) {
    const res = await client.call<{ error: string; message: string; field: string }>(
      'POST',
      '/v1/clusters/default/tasks',
      { taskDefinition: td.family },
    );
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'InvalidParameterException', field: 'taskDefinition' });
    expect(res.body.message).toContain(
      `container policy baseline of cluster default refuses ${td.family}:1: ${field}: `,
    );
  }
  expect(await client.tasks()).toEqual([]);

  // On either host, even the one that allows privileged containers: the cluster is baseline.
  for (const host of ['open', 'strict'] as const) {
    const [task] = await client.run({ taskDefinition: 'e2e-plain', placementConstraints: on(host) });
    const info = await inspect(await running(task!));
    expect(info.HostConfig.SecurityOpt).toEqual(['no-new-privileges']);
    expect(info.HostConfig.PidsLimit).toBe(4096);
    const id = (await client.task(task!.taskArn)).containers[0]!.runtimeId!;
    await waitFor('the container to print', async () =>
      (await run('docker', ['logs', id])).stdout.includes('NoNewPrivs') ? true : undefined,
    );
    expect((await run('docker', ['logs', id])).stdout).toMatch(/NoNewPrivs:\s+1/);
    await client.stop(task!.taskArn);
  }
}, 120_000);

test('privileged runs all of it, unconfined, on a host that allows it', async () => {
  await setLevel('privileged');
  try {
    const tasks: Record<string, Task> = {};
    // Not e2e-privileged: this machine's dockerd cannot grant every capability (it runs without
    // CAP_SYS_RESOURCE), so no privileged container starts here whatever Berth allows.
    for (const { td } of escapes.filter((e) => e.td.family !== 'e2e-privileged')) {
      const [task] = await client.run({ taskDefinition: td.family, placementConstraints: on('open') });
      tasks[td.family] = await running(task!);
    }
    const sock = await inspect(tasks['e2e-docker-sock']!);
    expect(sock.Mounts).toContainEqual(
      expect.objectContaining({ Source: '/var/run/docker.sock', Destination: '/var/run/docker.sock' }),
    );
    expect((await inspect(tasks['e2e-host-root']!)).Mounts).toContainEqual(
      expect.objectContaining({ Source: '/', Destination: '/host' }),
    );
    expect((await inspect(tasks['e2e-host-network']!)).HostConfig.NetworkMode).toBe('host');
    const sysAdmin = await inspect(tasks['e2e-sys-admin']!);
    expect(sysAdmin.HostConfig.CapAdd).toEqual(['SYS_ADMIN']);
    expect(sysAdmin.HostConfig.SecurityOpt).toBeNull();
    expect(sysAdmin.HostConfig.PidsLimit ?? 0).toBe(0);
    for (const task of Object.values(tasks)) await client.stop(task.taskArn);
  } finally {
    await setLevel('baseline');
  }
}, 120_000);

test('a host that does not allow it refuses the task at launch, runs nothing, and says which flag would', async () => {
  await setLevel('privileged');
  try {
    const [task] = await client.run({ taskDefinition: 'e2e-privileged', placementConstraints: on('strict') });
    const stopped = await client.waitForTask(
      task!.taskArn,
      'the task to fail',
      (t) => t.lastStatus === 'STOPPED' && !!t.stopCode,
    );
    expect(stopped.stopCode).toBe('TaskFailedToStart');
    expect(stopped.stoppedReason).toBe(
      'ContainerPolicyError: the policy of this host refuses e2e-privileged:1: containerDefinitions[0].privileged: privileged containers are refused: they own their host (allowed here with --allow-privileged)',
    );
    const { stdout } = await run('docker', [
      'ps',
      '-aq',
      '--filter',
      `label=berth.task-id=${idOf(task!.taskArn)}`,
    ]);
    expect(stdout.trim()).toBe('');
  } finally {
    await setLevel('baseline');
  }
}, 90_000);
