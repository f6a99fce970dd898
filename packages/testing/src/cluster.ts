import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestDatabase, TEST_REDIS_URL, uniquePrefix, waitFor, type TestDatabase } from './db.js';
import type { TestHosts } from './netns.js';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const server = createServer();
    server.once('error', rej);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => res(port));
    });
  });
}

export interface AgentOptions {
  /** Required unless the agent runs on a test host: then it is that host's own address. */
  hostAddress?: string;
  cpu?: number;
  memory?: number;
  attributes?: Record<string, string>;
  /** The agent's host policy flags (all off by default, as on a real host). */
  allowPrivileged?: boolean;
  allowHostNetwork?: boolean;
  allowedHostPaths?: string[];
  /**
   * `--task-cleanup-wait` in seconds: how long a stopped task's containers stay on the host. Test
   * agents remove them at once (0) unless told otherwise, so that tests that watch for removal
   * need not wait the default day.
   */
  taskCleanupWait?: number;
}

export interface LocalCluster {
  /** `<accessKeyId>:<secret>` of an administrator key, for `Authorization: Bearer …`. */
  adminToken: string;
  /** The REST address of the first gateway replica. */
  api: string;
  /** One REST address per gateway replica: `api-gateway`, then `api-gateway-2`, ... */
  apis: string[];
  grpcAddress: string;
  db: TestDatabase;
  /** The join token the agents were started with (no use limit, a day long). */
  joinToken: string;
  prefix: string;
  agents: { hostAddress: string; dataDir: string; process: ChildProcess }[];
  /**
   * The load-balancer apps (`load-balancer-1`, ...) with the HAProxy run directory of each; they
   * are control-plane apps for killApp, isRunning and startApp.
   */
  loadBalancerApps: { name: string; runDir: string }[];
  /** Every line each app printed, by app name, across restarts. */
  logs: Map<string, string[]>;
  /**
   * The Prometheus metrics URL (`http://<address>:<port>/metrics`) of every app, by its name:
   * `api-gateway`, `scheduler`, `deployment-controller`, `load-balancer-<i>`, `agent-<i>`.
   */
  metrics: Map<string, string>;
  /**
   * Kills a control-plane app (`api-gateway`, `api-gateway-2`, `scheduler`,
   * `deployment-controller`, `deployment-controller-2`, `load-balancer-<i>`) with SIGKILL. A
   * load-balancer app's HAProxy keeps running, and its next start adopts it.
   */
  killApp(name: string): Promise<void>;
  /** Whether a control-plane app's process is still alive. */
  isRunning(name: string): boolean;
  /** Starts a control-plane app; `env`, when given, applies to this start and every later one. */
  startApp(name: string, env?: Record<string, string>): void;
  /** Kills agent `index` with `signal` (its containers keep running) and starts it again. */
  killAgent(index: number, signal?: NodeJS.Signals): Promise<void>;
  startAgent(index: number): void;
  /**
   * Starts one more agent (a host joining the cluster) and waits until it is connected; returns
   * its index in `agents`. Not on test hosts: those are fixed when the cluster starts.
   */
  addAgent(options: AgentOptions): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Starts a whole Berth control plane (built apps, as separate processes) and agents against a
 * fresh database and Redis prefix. End-to-end tests share one per file, with real containers.
 */
export async function startLocalCluster(opts: {
  agents: AgentOptions[];
  /** Gateway replicas; agent i lists them starting from replica i, so agents spread over them. */
  gateways?: number;
  /** Deployment-controller replicas: `deployment-controller`, then `deployment-controller-2`, ... */
  controllers?: number;
  /** Extra settings for every app, such as a shorter BERTH_DESIRED_STATE_RESYNC_MS. */
  env?: Record<string, string>;
  /**
   * Test hosts in network namespaces (startTestHosts): agent i runs on host i with its dockerd,
   * and the gateways' gRPC listens only on the hosts' bridge, so agents reach it across that link.
   * The caller removes the hosts after stop().
   */
  hosts?: TestHosts;
  /**
   * Load-balancer apps (apps/load-balancer, each with its own HAProxy) serving the load balancer
   * `loadBalancer` on `bind` (127.0.0.1 unless given): `count` of them, as `load-balancer-1`, ...
   * stop() stops them and their HAProxy.
   */
  loadBalancers?: { loadBalancer: string; count: number; bind?: string };
}): Promise<LocalCluster> {
  const hosts = opts.hosts;
  const db = await createTestDatabase();
  const prefix = uniquePrefix('e2e');
  const gateways: { httpPort: number; grpcPort: number }[] = [];
  for (let i = 0; i < (opts.gateways ?? 1); i++)
    gateways.push({ httpPort: await freePort(), grpcPort: await freePort() });
  const env = {
    ...process.env,
    DATABASE_URL: db.url,
    REDIS_URL: TEST_REDIS_URL,
    BERTH_REDIS_PREFIX: prefix,
    BERTH_MASTER_KEYS: `test:${randomBytes(32).toString('base64')}`,
    BERTH_LOG_LEVEL: process.env.BERTH_LOG_LEVEL ?? 'info',
    BERTH_PLACEMENT_SWEEP_MS: '1000',
    BERTH_CONTROLLER_SWEEP_MS: '1000',
    ...opts.env,
  };
  const logs = new Map<string, string[]>();
  const children = new Set<ChildProcess>();
  const start = (
    name: string,
    script: string,
    args: string[] = [],
    extraEnv: Record<string, string> = {},
    launcher: string[] = [],
  ) => {
    const childEnv: Record<string, string | undefined> = { ...env, ...extraEnv };
    // Agents hold no database, Redis or master-key credentials: they speak only gRPC.
    if (script.startsWith('apps/host-agent/'))
      for (const name of ['DATABASE_URL', 'REDIS_URL', 'REDIS_SENTINEL_PASSWORD', 'BERTH_MASTER_KEYS'])
        delete childEnv[name];
    const [command, ...commandArgs] = [...launcher, process.execPath, join(ROOT, script), ...args];
    const child = spawn(command!, commandArgs, {
      env: childEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // A restarted app's lines follow those of its earlier runs.
    const lines = logs.get(name) ?? [];
    logs.set(name, lines);
    child.stdout!.on('data', (d: Buffer) => lines.push(...d.toString().split('\n').filter(Boolean)));
    child.stderr!.on('data', (d: Buffer) => lines.push(...d.toString().split('\n').filter(Boolean)));
    children.add(child);
    child.once('exit', () => children.delete(child));
    return child;
  };
  const apis = gateways.map((g) => `http://127.0.0.1:${g.httpPort}`);
  const api = apis[0]!;
  const grpcHost = hosts?.bridgeAddress ?? '127.0.0.1';
  const grpcAddresses = gateways.map((g) => `${grpcHost}:${g.grpcPort}`);
  const grpcAddress = grpcAddresses[0]!;
  // Every app gets a metrics port of its own: the defaults would collide on one machine.
  const metrics = new Map<string, string>();
  const metricsEnv = async (name: string) => {
    const port = await freePort();
    metrics.set(name, `http://127.0.0.1:${port}/metrics`);
    return { BERTH_METRICS_PORT: String(port) };
  };
  const APPS: Record<string, { script: string; args?: string[]; env?: Record<string, string> }> = {
    scheduler: { script: 'apps/scheduler/dist/main.js', env: await metricsEnv('scheduler') },
    'deployment-controller': {
      script: 'apps/deployment-controller/dist/main.js',
      env: await metricsEnv('deployment-controller'),
    },
  };
  for (let i = 2; i <= (opts.controllers ?? 1); i++)
    APPS[`deployment-controller-${i}`] = { script: 'apps/deployment-controller/dist/main.js' };
  for (const [i, g] of gateways.entries()) {
    const name = i === 0 ? 'api-gateway' : `api-gateway-${i + 1}`;
    APPS[name] = {
      script: 'apps/api-gateway/dist/main.js',
      env: {
        ...(await metricsEnv(name)),
        BERTH_HTTP_PORT: String(g.httpPort),
        BERTH_GRPC_HOST: grpcHost,
        BERTH_GRPC_PORT: String(g.grpcPort),
        // The names the gateway's TLS certificate carries: agents check the one they dial.
        BERTH_GRPC_TLS_NAMES: `${grpcHost},localhost`,
      },
    };
  }
  const loadBalancerApps: LocalCluster['loadBalancerApps'] = [];
  for (let i = 0; i < (opts.loadBalancers?.count ?? 0); i++) {
    const name = `load-balancer-${i + 1}`;
    const runDir = await mkdtemp(join(tmpdir(), 'berth-lb-'));
    loadBalancerApps.push({ name, runDir });
    APPS[name] = {
      script: 'apps/load-balancer/dist/main.js',
      args: [
        '--load-balancer',
        opts.loadBalancers!.loadBalancer,
        '--bind',
        opts.loadBalancers!.bind ?? '127.0.0.1',
        '--id',
        `lb-${i + 1}`,
        '--run-dir',
        runDir,
      ],
      env: await metricsEnv(name),
    };
  }
  const startApp = (name: string) => start(name, APPS[name]!.script, APPS[name]!.args, APPS[name]!.env);
  const apps = new Map(Object.keys(APPS).map((name) => [name, startApp(name)]));
  for (const url of apis) {
    await waitFor(
      `the api-gateway at ${url} to answer`,
      async () => ((await fetch(`${url}/healthz`).catch(() => null))?.ok ? true : undefined),
      { timeoutMs: 30_000 },
    );
  }

  const adminToken = (
    await promisify(execFile)(
      process.execPath,
      [join(ROOT, 'apps/api-gateway/dist/admin.js'), 'create-admin-key'],
      {
        env,
      },
    )
  ).stdout.trim();
  const auth = { authorization: `Bearer ${adminToken}` };
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${api}${path}`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as { joinToken?: { token: string } };
  };
  await post('/v1/clusters', { clusterName: 'default' });
  // Agents join as an operator's hosts do: with a join token, then their certificates.
  const joinToken = (await post('/v1/clusters/default/join-tokens', { ttlSeconds: 24 * 3600 })).joinToken!
    .token;

  const agents: LocalCluster['agents'] = [];
  const agentArgs: string[][] = [];
  /** Starts agent `index` with `argv`: on its test host, in its namespace with its dockerd, if any. */
  const startAgentProcess = (index: number, argv: string[]) => {
    const host = hosts?.hosts[index];
    return start(
      `agent-${index + 1}`,
      'apps/host-agent/dist/main.js',
      argv,
      host ? { DOCKER_SOCKET: host.dockerSocket } : {},
      host ? hosts!.launcher(index) : [],
    );
  };
  const launchAgent = async (i: number, a: AgentOptions) => {
    const hostAddress = hosts?.hosts[i]?.address ?? a.hostAddress;
    if (!hostAddress) throw new Error(`agent ${i + 1}: a hostAddress, or a test host`);
    const dataDir = await mkdtemp(join(tmpdir(), 'berth-agent-'));
    const rotated = [
      ...grpcAddresses.slice(i % gateways.length),
      ...grpcAddresses.slice(0, i % gateways.length),
    ];
    const args = [
      '--gateway',
      rotated.join(','),
      '--cluster',
      'default',
      '--host-address',
      hostAddress,
      '--data-dir',
      dataDir,
      '--join-token',
      joinToken,
    ];
    // The agent's metrics listen on its host address, which the tests reach on a test host too.
    const metricsPort = await freePort();
    metrics.set(`agent-${i + 1}`, `http://${hostAddress}:${metricsPort}/metrics`);
    args.push('--metrics-host', hostAddress, '--metrics-port', String(metricsPort));
    // Each test host's task networks are its own, inside its namespace: any 10.231 range will do.
    if (hosts) args.push('--task-network-pool', '10.231.128.0/17');
    if (a.cpu) args.push('--cpu', String(a.cpu));
    if (a.memory) args.push('--memory', String(a.memory));
    for (const [k, v] of Object.entries(a.attributes ?? {})) args.push('--attribute', `${k}=${v}`);
    if (a.allowPrivileged) args.push('--allow-privileged');
    if (a.allowHostNetwork) args.push('--allow-host-network');
    for (const path of a.allowedHostPaths ?? []) args.push('--allowed-host-path', path);
    args.push('--task-cleanup-wait', String(a.taskCleanupWait ?? 0));
    agentArgs.push(args);
    agents.push({ hostAddress, dataDir, process: startAgentProcess(i, args) });
  };
  const agentsConnected = () =>
    waitFor(`${agents.length} agents to connect`, async () => {
      const res = await fetch(`${api}/v1/clusters/default/container-instances`, { headers: auth });
      if (!res.ok) return undefined;
      const body = (await res.json()) as { containerInstances: { agentConnected: boolean }[] };
      return body.containerInstances.filter((i) => i.agentConnected).length === agents.length
        ? true
        : undefined;
    });
  for (const [i, a] of opts.agents.entries()) await launchAgent(i, a);
  await agentsConnected();

  return {
    adminToken,
    joinToken,
    api,
    apis,
    grpcAddress,
    db,
    prefix,
    agents,
    loadBalancerApps,
    logs,
    metrics,
    async killApp(name) {
      const child = apps.get(name)!;
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGKILL');
        await exited;
      }
    },
    isRunning(name) {
      const child = apps.get(name)!;
      return child.exitCode === null && child.signalCode === null;
    },
    startApp(name, env) {
      if (env) APPS[name]!.env = { ...APPS[name]!.env, ...env };
      apps.set(name, startApp(name));
    },
    async killAgent(index, signal = 'SIGKILL') {
      const child = agents[index]!.process;
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill(signal);
        await exited;
      }
    },
    startAgent(index) {
      agents[index]!.process = startAgentProcess(index, agentArgs[index]!);
    },
    async addAgent(options) {
      if (hosts) throw new Error('addAgent: agents on test hosts are fixed when the cluster starts');
      const index = agents.length;
      await launchAgent(index, options);
      await agentsConnected();
      return index;
    },
    async stop() {
      const running = [...children];
      for (const child of running) child.kill('SIGTERM');
      await Promise.all(
        running.map((c) =>
          c.exitCode !== null || c.signalCode !== null
            ? Promise.resolve()
            : new Promise((r) => c.once('exit', r)),
        ),
      );
      // SIGTERM stopped each load-balancer app's HAProxy softly; one whose app was killed (and
      // not started again) is still running: it goes now.
      for (const { runDir } of loadBalancerApps) {
        await stopHaproxy(runDir);
        await rm(runDir, { recursive: true, force: true });
      }
      await db.drop();
      for (const a of agents) {
        // The agents are gone; remove what they made in Docker so test runs leave nothing behind.
        // Test hosts' dockerds go with the hosts.
        const id = (await readFile(join(a.dataDir, 'instance-id'), 'utf8').catch(() => '')).trim();
        if (id && !hosts) await removeDockerObjects(id);
        await rm(a.dataDir, { recursive: true, force: true });
      }
    },
  };
}

/** Stops the HAProxy master whose pid file is in `runDir`, if it still runs (SIGTERM, then SIGKILL). */
async function stopHaproxy(runDir: string): Promise<void> {
  const pid = Number((await readFile(join(runDir, 'haproxy.pid'), 'utf8').catch(() => '')).trim());
  if (!pid) return;
  const comm = (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')).trim();
  if (comm !== 'haproxy') return;
  const alive = () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    if (!alive()) return;
    process.kill(pid, signal);
    for (let i = 0; i < 50 && alive(); i++) await new Promise((r) => setTimeout(r, 100));
  }
}

async function removeDockerObjects(instanceId: string): Promise<void> {
  const run = promisify(execFile);
  const filter = ['--filter', `label=berth.container-instance-id=${instanceId}`];
  // Containers first, then the task networks and volumes they held: the host's address pools and
  // disk are shared by every run.
  for (const [list, remove] of [
    [
      ['ps', '-aq'],
      ['rm', '-f'],
    ],
    [
      ['network', 'ls', '-q'],
      ['network', 'rm'],
    ],
    [
      ['volume', 'ls', '-q'],
      ['volume', 'rm', '-f'],
    ],
  ]) {
    const ids = (await run('docker', [...list!, ...filter])).stdout.split('\n').filter(Boolean);
    if (ids.length) await run('docker', [...remove!, ...ids]);
  }
}
