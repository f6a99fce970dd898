import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startLocalCluster, waitFor, type LocalCluster } from '@berth/testing';
import { api, idOf, type Instance } from './api.js';

/**
 * Secrets with real containers: a value reaches the container's environment and nowhere else (no
 * API answer, log line or plaintext column), a missing secret stops the task before anything
 * runs, a container's repositoryCredentials win for its pull, and a master key rotation keeps
 * every secret readable.
 */

const run = promisify(execFile);
const ADMIN = fileURLToPath(new URL('../../apps/api-gateway/dist/admin.js', import.meta.url));
const key = (id: string) => `${id}:${randomBytes(32).toString('base64')}`;
const k1 = key('k1');
const k2 = key('k2');
// Random, so that finding one anywhere can only mean it leaked.
const DB_PASSWORD = `db-${randomBytes(12).toString('hex')}`;
const API_KEY = `api-${randomBytes(12).toString('hex')}`;

let cluster: LocalCluster;
let client: ReturnType<typeof api>;

beforeAll(async () => {
  cluster = await startLocalCluster({
    agents: [{ hostAddress: '127.0.0.2', cpu: 2048, memory: 2048 }],
    env: { BERTH_MASTER_KEYS: k1, BERTH_DESIRED_STATE_RESYNC_MS: '3000' },
  });
  client = api(cluster);
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

const app = (over: Record<string, unknown>) => ({
  name: 'app',
  image: 'berth/busybox',
  memory: 32,
  command: ['sh', '-c', 'echo "DB_PASSWORD=$DB_PASSWORD API_KEY=$API_KEY"; exec sleep 600'],
  linuxParameters: { initProcessEnabled: true },
  stopTimeout: 2,
  ...over,
});

async function runTask(family: string): Promise<string> {
  const [task] = await client.run({ taskDefinition: family });
  expect(task).toBeDefined();
  return task!.taskArn;
}

const settled = (arn: string) =>
  client.waitForTask(
    arn,
    'the task to run or fail',
    (t) => t.lastStatus === 'RUNNING' || (t.lastStatus === 'STOPPED' && !!t.stopCode),
  );

/** The task's containers, found by Berth's label, running or not. */
async function containersOf(arn: string): Promise<string[]> {
  const { stdout } = await run('docker', ['ps', '-aq', '--filter', `label=berth.task-id=${idOf(arn)}`]);
  return stdout.split('\n').filter(Boolean);
}

async function printed(arn: string): Promise<string> {
  const [id] = await containersOf(arn);
  return waitFor('the container to print its environment', async () => {
    const { stdout } = await run('docker', ['logs', id!]);
    return stdout.includes('DB_PASSWORD=') ? stdout : undefined;
  });
}

async function stop(arn: string): Promise<void> {
  await client.stop(arn);
  await client.waitForTask(arn, 'the task to stop', (t) => t.lastStatus === 'STOPPED');
}

/** Restarts the gateway with another key list, and waits until the agent is back on it. */
async function restartGateway(masterKeys: string): Promise<void> {
  await cluster.killApp('api-gateway');
  const killedAt = Date.now();
  cluster.startApp('api-gateway', { BERTH_MASTER_KEYS: masterKeys });
  // agentConnected still says true from before the kill: wait for a heartbeat the new gateway took.
  await waitFor(
    'the agent to reconnect to the restarted gateway',
    async () => {
      const instances = (await client.instances()) as (Instance & { lastHeartbeatAt?: string })[];
      return instances.every(
        (i) => i.agentConnected && i.lastHeartbeatAt && Date.parse(i.lastHeartbeatAt) > killedAt,
      )
        ? true
        : undefined;
    },
    { timeoutMs: 60_000 },
  );
}

const admin = (masterKeys: string, ...args: string[]) =>
  run(process.execPath, [ADMIN, ...args], {
    env: { ...process.env, DATABASE_URL: cluster.db.url, BERTH_MASTER_KEYS: masterKeys },
  });

test('a secret reaches the container environment, and no API answer, log line or plaintext column', async () => {
  for (const [name, value] of [
    ['db-password', DB_PASSWORD],
    ['app-config', JSON.stringify({ apiKey: API_KEY, region: 'eu' })],
  ]) {
    const put = await client.call('PUT', `/v1/clusters/default/secrets/${name}`, { value });
    expect(put.status).toBe(200);
  }
  const registered = await client.register({
    family: 'e2e-secrets',
    containerDefinitions: [
      app({
        // As an ECS definition names them: an SSM parameter, and a JSON key of a Secrets Manager secret.
        secrets: [
          { name: 'DB_PASSWORD', valueFrom: 'arn:aws:ssm:eu-west-1:123456789012:parameter/db-password' },
          {
            name: 'API_KEY',
            valueFrom: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:app-config-AbCdEf:apiKey::',
          },
        ],
      }),
    ],
  });
  expect(registered.status).toBe(200);

  const arn = await runTask('e2e-secrets');
  expect((await settled(arn)).lastStatus).toBe('RUNNING');
  expect(await printed(arn)).toContain(`DB_PASSWORD=${DB_PASSWORD} API_KEY=${API_KEY}`);

  const answers = await Promise.all(
    [
      `/v1/clusters/default/tasks/${idOf(arn)}`,
      '/v1/clusters/default/tasks',
      '/v1/task-definitions/e2e-secrets',
      '/v1/clusters/default/secrets',
      '/v1/clusters/default/secrets/db-password',
      '/v1/clusters/default/secrets/app-config',
    ].map(async (path) => JSON.stringify((await client.call('GET', path)).body)),
  );
  const dump = (await run('pg_dump', [cluster.db.url], { maxBuffer: 64 * 1024 * 1024 })).stdout;
  expect(dump).toContain('db-password');
  const logLines = [...cluster.logs.values()].flat();
  expect(logLines.length).toBeGreaterThan(0);
  for (const value of [DB_PASSWORD, API_KEY]) {
    for (const answer of answers) expect(answer).not.toContain(value);
    expect(logLines.filter((line) => line.includes(value))).toEqual([]);
    expect(dump).not.toContain(value);
  }
  await stop(arn);
});

test('a task whose secret is missing stops before anything runs, and says which secret', async () => {
  await client.register({
    family: 'e2e-missing-secret',
    containerDefinitions: [app({ secrets: [{ name: 'DB_PASSWORD', valueFrom: 'nowhere-password' }] })],
  });
  const arn = await runTask('e2e-missing-secret');
  const t = await settled(arn);
  expect(t.lastStatus).toBe('STOPPED');
  expect(t.stopCode).toBe('TaskFailedToStart');
  expect(t.stoppedReason).toBe(
    'ResourceInitializationError: unable to pull secrets: secret "nowhere-password" not found in cluster default',
  );
  expect(await containersOf(arn)).toEqual([]);
});

describe('repositoryCredentials (the private registry that deploy/local/test.sh starts)', () => {
  const registry = process.env.BERTH_TEST_REGISTRY;
  const user = process.env.BERTH_TEST_REGISTRY_USER;
  const password = process.env.BERTH_TEST_REGISTRY_PASSWORD;

  test("a container's own credentials win over the cluster's for its pull", async () => {
    if (!registry || !user || !password)
      throw new Error('BERTH_TEST_REGISTRY* are not set: run the tests through deploy/local/test.sh');
    const image = `${registry}/berth/private-busybox:1`;
    // The agent uses a cached image without pulling: make sure this one really pulls.
    await run('docker', ['rmi', '-f', image]).catch(() => undefined);
    await client.call('PUT', `/v1/clusters/default/registry-credentials/${registry}`, {
      username: user,
      password: 'not-the-password',
    });
    await client.call('PUT', '/v1/clusters/default/secrets/registry-login', {
      value: JSON.stringify({ username: user, password }),
    });
    await client.register({
      family: 'e2e-private-own-credentials',
      containerDefinitions: [
        app({
          image,
          repositoryCredentials: {
            credentialsParameter: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:registry-login',
          },
        }),
      ],
    });
    const arn = await runTask('e2e-private-own-credentials');
    expect((await settled(arn)).lastStatus).toBe('RUNNING');
    await stop(arn);
    await run('docker', ['rmi', '-f', image]).catch(() => undefined);
  });
});

test('a master key rotation keeps every secret readable', async () => {
  // 1. Every gateway lists the new key first: new values are sealed with it, old ones still open.
  await restartGateway(`${k2},${k1}`);
  // 2. Reseal what the old key sealed: the access key the tests use, the secrets, the registry password.
  const first = await admin(`${k2},${k1}`, 'reseal');
  expect(first.stdout).toMatch(/^access keys: 1 resealed, 0 already under k2$/m);
  expect(first.stdout).toMatch(/^secrets: [1-9]\d* resealed, 0 already under k2$/m);
  expect(first.stdout).toMatch(/every value is sealed under k2: older keys can be dropped/);
  expect((await admin(`${k2},${k1}`, 'reseal')).stdout).toMatch(
    /^secrets: 0 resealed, [1-9]\d* already under k2$/m,
  );
  // 3. Drop the old key: the administrator key still works, and a new task still gets its secrets.
  await restartGateway(k2);
  const arn = await runTask('e2e-secrets');
  const task = await settled(arn);
  expect({ lastStatus: task.lastStatus, stoppedReason: task.stoppedReason }).toEqual({
    lastStatus: 'RUNNING',
    stoppedReason: undefined,
  });
  expect(await printed(arn)).toContain(`DB_PASSWORD=${DB_PASSWORD} API_KEY=${API_KEY}`);
  await stop(arn);
});
