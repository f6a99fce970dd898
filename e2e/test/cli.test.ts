import { execFile, spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLocalCluster, waitFor, type LocalCluster } from '@berth/testing';
import { api, httpdTaskDefinition } from './api.js';

/**
 * The `berth` CLI (apps/cli), run as a user runs it: the bundled file, against a real cluster.
 * `berth deploy` of a good revision exits 0 once the deployment completes; of a bad one, exits 2
 * with the circuit breaker's reason and the rollback event printed.
 */

const BERTH = fileURLToPath(new URL('../../apps/cli/dist/berth.mjs', import.meta.url));
let cluster: LocalCluster;
let dir: string;

/** Runs berth with `args`; resolves with its exit code and output (never rejects). */
const berth = (...args: string[]) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [BERTH, '--endpoint', cluster.api, ...args],
      { env: { ...process.env, BERTH_TOKEN: cluster.adminToken }, timeout: 170_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });

beforeAll(async () => {
  cluster = await startLocalCluster({ agents: [{ hostAddress: '127.0.0.10', cpu: 2048, memory: 2048 }] });
  dir = await mkdtemp(join(tmpdir(), 'berth-cli-'));
  const client = api(cluster);
  expect((await client.register(httpdTaskDefinition('cli-web', { cpu: 128 }))).status).toBe(200);
  const created = await client.call('POST', '/v1/clusters/default/services', {
    serviceName: 'web',
    taskDefinition: 'cli-web:1',
    desiredCount: 2,
    deploymentConfiguration: {
      minimumHealthyPercent: 100,
      maximumPercent: 200,
      deploymentCircuitBreaker: { enable: true, rollback: true },
    },
  });
  expect(created.status).toBe(200);
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

test('berth deploy of a good revision shows progress and exits 0 when the deployment completes', async () => {
  const file = join(dir, 'good.json');
  await writeFile(file, JSON.stringify(httpdTaskDefinition('cli-web', { cpu: 128 })));
  const r = await berth('deploy', 'web', file);
  expect({ code: r.code, stderr: r.stderr }).toEqual({
    code: 0,
    stderr: expect.stringContaining('registered cli-web:2'),
  });
  expect(r.stderr).toMatch(/cli-web:2 COMPLETED: 2\/2 running, 0 pending, 0 failed \(circuit breaker at 3\)/);
  expect(r.stdout).toBe('web: cli-web:2 deployed\n');

  const services = await berth('services', '-o', 'json');
  expect(services.code).toBe(0);
  const [web] = (
    JSON.parse(services.stdout) as {
      services: { serviceName: string; runningCount: number; taskDefinition: string }[];
    }
  ).services;
  expect(web).toMatchObject({
    serviceName: 'web',
    runningCount: 2,
    taskDefinition: expect.stringMatching(/cli-web:2$/),
  });
  const tasks = await berth('tasks', '--service', 'web');
  expect(tasks.code).toBe(0);
  const lines = tasks.stdout.trim().split('\n');
  expect(lines[0]).toMatch(/^TASK\s+GROUP\s+LAST/);
  expect(
    lines.slice(1).filter((l) => /service:web\s+RUNNING\s+RUNNING/.test(l) && l.includes('cli-web:2')),
  ).toHaveLength(2);
}, 180_000);

test('berth deploy of a revision whose tasks exit trips the breaker: exit 2, with the reason and the rollback', async () => {
  const bad = httpdTaskDefinition('cli-web', { cpu: 128 });
  bad.containerDefinitions[0]!.command = ['sh', '-c', 'exit 1'];
  const file = join(dir, 'bad.json');
  await writeFile(file, JSON.stringify({ taskDefinition: bad }));
  const r = await berth('deploy', 'web', file);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('rolling back to the task definition of deployment');
  expect(r.stderr).toMatch(
    /web: cli-web:3 failed: ECS deployment circuit breaker: \d+ tasks failed .* Rolled back to cli-web:2/,
  );
}, 180_000);

test('errors are the API’s message as it is, and a bad token exits 1', async () => {
  const missing = await berth('deploy', 'nope', join(dir, 'good.json'));
  expect(missing.code).toBe(1);
  expect(missing.stderr).toMatch(/^berth: .*nope.* \(ServiceNotFoundException, HTTP 404\)\n$/);
  const denied = await new Promise<{ code: number; stderr: string }>((resolve) =>
    execFile(
      process.execPath,
      [BERTH, '--endpoint', cluster.api, '--token', 'BKIA0000000000000000:wrong', 'services'],
      (err, _stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
    ),
  );
  expect(denied.code).toBe(1);
  expect(denied.stderr).toMatch(/HTTP 401/);
});

test('berth events lists the changes, and -w follows new ones as they happen', async () => {
  const page = await berth('events');
  expect(page.code).toBe(0);
  expect(page.stdout).toMatch(/service web {2}SERVICE_DEPLOYMENT_COMPLETED/);
  expect(page.stdout).toMatch(/task \S+ \(cli-web:2\) {2}RUNNING, desired RUNNING/);

  // Follow from the newest event now, so the change below is seen however long the CLI takes to start.
  const latest = await api(cluster).call<{ lastEventId: string }>('GET', '/v1/events');
  const follower = spawn(
    process.execPath,
    [BERTH, '--endpoint', cluster.api, 'events', '-w', '--after', latest.body.lastEventId],
    { env: { ...process.env, BERTH_TOKEN: cluster.adminToken } },
  );
  let out = '';
  follower.stdout.on('data', (d: Buffer) => (out += d.toString()));
  try {
    const [task] = await api(cluster).run({ taskDefinition: 'cli-web:2' });
    const id = task!.taskArn.split('/').pop()!;
    await waitFor(
      'the follower to print the new task RUNNING',
      async () => (out.includes(`task ${id} (cli-web:2)  RUNNING`) ? true : undefined),
      { timeoutMs: 30_000 },
    );
    expect(out).toContain(`task ${id} (cli-web:2)  PROVISIONING`);
  } finally {
    follower.kill();
  }
}, 60_000);

test('berth top shows each running task against what it reserves', async () => {
  const rows = await waitFor(
    'stats of the service tasks',
    async () => {
      const r = await berth('top', '--service', 'web', '--once', '-o', 'json');
      const tasks = (
        JSON.parse(r.stdout) as {
          tasks: { cpuUnits: number | null; memoryBytes: number | null; cpu: number }[];
        }
      ).tasks;
      return tasks.length === 2 && tasks.every((t) => t.cpuUnits !== null && t.memoryBytes! > 0)
        ? tasks
        : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 1000 },
  );
  expect(rows.map((t) => t.cpu)).toEqual([128, 128]);
  const table = await berth('top', '--service', 'web', '--once');
  expect(table.stdout.split('\n')[0]).toMatch(
    /^TASK\s+GROUP\s+TASK DEFINITION\s+CPU UNITS\s+CPU %\s+MEMORY\s+MEMORY %/,
  );
  expect(table.stdout).toMatch(/service:web\s+cli-web:2\s+\d+\/128\s+[\d.]+%\s+[\d.]+MiB\/\d+MiB/);
}, 90_000);

test('berth logs prints and follows a task; berth exec runs a command, with stdin, and exits with its code', async () => {
  const client = api(cluster);
  const chatty = httpdTaskDefinition('cli-chatty', { cpu: 128 });
  chatty.containerDefinitions[0]!.command = [
    'sh',
    '-c',
    'echo hello from berth; i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.2; done',
  ];
  expect((await client.register(chatty)).status).toBe(200);
  const [task] = await client.run({ taskDefinition: 'cli-chatty', enableExecuteCommand: true });
  const id = task!.taskArn.split('/').pop()!;
  await client.waitForTask(task!.taskArn, 'the chatty task to run', (t) => t.lastStatus === 'RUNNING');

  const first = await waitFor('the first lines', async () => {
    const r = await berth('logs', id);
    return r.code === 0 && r.stdout.includes('tick 2') ? r.stdout : undefined;
  });
  expect(first.split('\n')[0]).toBe('hello from berth');
  expect((await berth('logs', id, '--tail', '1')).stdout.trim().split('\n')).toHaveLength(1);

  const follower = spawn(process.execPath, [BERTH, '--endpoint', cluster.api, 'logs', '-f', id], {
    env: { ...process.env, BERTH_TOKEN: cluster.adminToken },
  });
  let out = '';
  follower.stdout.on('data', (d: Buffer) => (out += d.toString()));
  try {
    const seen = Math.max(...[...first.matchAll(/tick (\d+)/g)].map((m) => Number(m[1])));
    await waitFor(
      'a line written after the follow began',
      async () => ([...out.matchAll(/tick (\d+)/g)].some((m) => Number(m[1]) > seen + 5) ? true : undefined),
      { timeoutMs: 15_000 },
    );
  } finally {
    follower.kill();
  }

  const exec = await berth('exec', id, '--', 'sh', '-c', 'echo hi; exit 3');
  expect({ code: exec.code, stdout: exec.stdout }).toEqual({ code: 3, stdout: 'hi\n' });
  const piped = await new Promise<{ code: number; stdout: string }>((resolve) => {
    const child = execFile(
      process.execPath,
      [BERTH, '--endpoint', cluster.api, 'exec', '-i', id, '--', 'sh', '-c', 'read x; echo got $x'],
      { env: { ...process.env, BERTH_TOKEN: cluster.adminToken }, timeout: 30_000 },
      (err, stdout) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout }),
    );
    child.stdin!.write('piped\n');
  });
  expect(piped).toEqual({ code: 0, stdout: 'got piped\n' });

  // A task run without enableExecuteCommand: the API's refusal, as it is.
  const [plain] = await client.run({ taskDefinition: 'cli-chatty' });
  await client.waitForTask(plain!.taskArn, 'the plain task to run', (t) => t.lastStatus === 'RUNNING');
  const refused = await berth('exec', plain!.taskArn, '--', 'true');
  expect(refused.code).toBe(1);
  expect(refused.stderr).toMatch(
    /execute command is not enabled for this task.*InvalidParameterException, HTTP 400/,
  );
}, 120_000);
