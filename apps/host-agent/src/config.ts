import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError } from '@berth/config';
import { METRICS_PORTS } from '@berth/metrics';
import { hostPathPrefixProblem, normalizeHostPath, parseJoinToken, type JoinToken } from '@berth/domain';
import { parseSubnetPool, type SubnetPool } from './runtime/subnets.js';
import { AGENT_VERSION } from './version.js';

export interface AgentConfig {
  gateway: string;
  cluster: string;
  hostAddress: string;
  dataDir: string;
  /** Needed only until the agent holds a certificate (kept in dataDir); never logged. */
  joinToken?: JoinToken;
  /** Where bridge-mode task networks get their /28 subnets from. */
  taskNetworkPool: SubnetPool;
  cpu: number;
  memory: number;
  attributes: Record<string, string>;
  logLevel: string;
  runtime: 'docker' | 'hollow';
  /** Hollow runtime only: how many simulated agents this process runs. */
  count: number;
  hollow: { startLatencyMs: number; failureRate: number; zones: number };
  /** What this host lets containers do, whatever the cluster's container policy says. */
  hostPolicy: HostPolicyConfig;
  /** Where Prometheus metrics are served (`/metrics`); port 0 picks a free one. */
  metricsHost: string;
  metricsPort: number;
  /** How often running containers' Docker stats are read, exported and reported up. */
  statsIntervalMs: number;
  /** How long a stopped task's containers (and so their logs) stay on the host; 0: removed at once. */
  taskCleanupWaitSeconds: number;
}

export interface HostPolicyConfig {
  allowPrivileged: boolean;
  allowHostNetwork: boolean;
  /** Normalized host paths that tasks may bind-mount, with everything under them. */
  allowedHostPaths: string[];
  /** Docker's PidsLimit for every container this host confines. */
  pidsLimit: number;
}

const HELP = `berth host-agent: joins this host to a Berth cluster and runs its tasks with Docker.

  --gateway ADDR        the gateway's agent gRPC address (BERTH_GATEWAY, default 127.0.0.1:8443);
                        several replicas: 10.0.0.5:8443,10.0.0.6:8443 or a DNS name of them all
  --cluster NAME        cluster to join (BERTH_CLUSTER, default "default")
  --host-address IP     address container ports are published on (BERTH_HOST_ADDRESS, default 127.0.0.1)
  --data-dir DIR        where the instance id, the agent's key and its certificate are kept
                        (BERTH_DATA_DIR, default /var/lib/berth-agent)
  --join-token TOKEN    berth1.<id>.<secret>.<CA hash> from CreateJoinToken (BERTH_JOIN_TOKEN):
                        used once, to get the first certificate; later starts use the certificate
  --cpu UNITS           CPU units to offer, 1024 per vCPU (BERTH_CPU, default: the host's)
  --memory MIB          memory to offer in MiB (BERTH_MEMORY, default: the host's)
  --task-network-pool CIDR
                        subnets for bridge-mode task networks, a /28 each
                        (BERTH_TASK_NETWORK_POOL, default 10.234.0.0/16)
  --attribute K=V       a custom attribute, repeatable (BERTH_ATTRIBUTES="zone=a,rack=1")
  --metrics-host ADDR   address of the Prometheus metrics listener, /metrics, unauthenticated
                        (BERTH_METRICS_HOST, default 127.0.0.1)
  --metrics-port PORT   its port; 0 picks a free one (BERTH_METRICS_PORT, default 9404)
  --stats-interval-ms MS
                        how often containers' Docker stats are read, exported and reported
                        (BERTH_STATS_INTERVAL_MS, default 10000)
  --task-cleanup-wait SECONDS
                        how long a stopped task's containers stay on the host, so that their logs
                        can be read; 0 removes them at once (BERTH_TASK_CLEANUP_WAIT, default 86400)
  --config FILE         a JSON file with any of: gateway, cluster, hostAddress, dataDir, cpu,
                        memory, attributes {K: V}, allowPrivileged, allowHostNetwork,
                        allowedHostPaths [...], pidsLimit, metricsHost, metricsPort,
                        statsIntervalMs, taskCleanupWait (BERTH_AGENT_CONFIG); flags and
                        variables win

What this host allows, whatever the cluster's container policy says (docs/container-policy.md):
  --allow-privileged    privileged containers, any capability and host path but the forbidden
                        ones, and no confinement added (BERTH_ALLOW_PRIVILEGED=true; default: refused)
  --allow-host-network  networkMode host (BERTH_ALLOW_HOST_NETWORK=true; default: refused)
  --allowed-host-path DIR
                        a host path tasks may bind-mount, with everything under it, repeatable
                        (BERTH_ALLOWED_HOST_PATHS="/srv/data,/mnt/cache"; default: none)
  --pids-limit N        the most processes one container may run, unless --allow-privileged
                        (BERTH_PIDS_LIMIT, default 4096)

Scale testing only (never for real hosts):
  --runtime hollow      simulate containers instead of running them (default: docker)
  --count N             run N hollow agents in this process, each its own instance
  --start-latency-ms MS simulated container start time (default 50)
  --failure-rate P      probability 0..1 that a simulated container fails to start (default 0)
  --zones N             hollow agent i gets attribute zone=zone-(i mod N) (default 3)

  --version             print the agent's version and exit
  --help                print this and exit
`;

function positive(name: string, value: string | number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new ConfigError(`${name}: must be a positive integer, got "${value}"`);
  return n;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function logLevel(value: string | undefined): string {
  if (value === undefined) return 'info';
  if (!LOG_LEVELS.includes(value))
    throw new ConfigError(`BERTH_LOG_LEVEL: must be one of ${LOG_LEVELS.join(', ')}`);
  return value;
}

interface FileConfig {
  gateway?: string;
  cluster?: string;
  hostAddress?: string;
  dataDir?: string;
  cpu?: number;
  memory?: number;
  attributes?: Record<string, string>;
  allowPrivileged?: boolean;
  allowHostNetwork?: boolean;
  allowedHostPaths?: string[];
  pidsLimit?: number;
  metricsHost?: string;
  metricsPort?: number;
  statsIntervalMs?: number;
  taskCleanupWait?: number;
}

function readConfigFile(path: string | undefined): FileConfig {
  if (!path) return {};
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new Error('not a JSON object');
    return parsed as FileConfig;
  } catch (e) {
    throw new ConfigError(`--config ${path}: ${(e as Error).message}`);
  }
}

const ATTRIBUTE_TEXT = /^[A-Za-z0-9_.-]{1,128}$/;

/** parseArgs, with its errors (an unknown flag, a missing value) told as configuration errors. */
function parseFlags<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (e) {
    throw new ConfigError(`${(e as Error).message} (see --help)`);
  }
}

const IPV4_HOST_PORT = /^\d{1,3}(\.\d{1,3}){3}:\d{1,5}$/;

/**
 * The gRPC target of the gateway replicas. A comma-separated list of IPv4 host:port pairs becomes
 * grpc-js's `ipv4:` target, whose pick_first policy connects to the first replica that answers; a
 * single host name is left to the DNS resolver, which tries every address the name resolves to.
 */
export function gatewayTarget(value: string): string {
  const parts = value.split(',').map((p) => p.trim());
  if (parts.length === 1) return parts[0]!;
  if (!parts.every((p) => IPV4_HOST_PORT.test(p)))
    throw new ConfigError(
      `--gateway: a list of replicas must be IPv4 host:port pairs, got "${value}"; for host names, use one DNS name that resolves to every replica`,
    );
  return `ipv4:${parts.join(',')}`;
}

/** Flags win over environment variables, which win over the config file, then the host itself. */
export function loadAgentConfig(argv = process.argv.slice(2), env = process.env): AgentConfig {
  const { values } = parseFlags({
    args: argv,
    options: {
      gateway: { type: 'string' },
      cluster: { type: 'string' },
      'host-address': { type: 'string' },
      'data-dir': { type: 'string' },
      'join-token': { type: 'string' },
      'task-network-pool': { type: 'string' },
      cpu: { type: 'string' },
      memory: { type: 'string' },
      attribute: { type: 'string', multiple: true },
      config: { type: 'string' },
      runtime: { type: 'string' },
      count: { type: 'string' },
      'start-latency-ms': { type: 'string' },
      'failure-rate': { type: 'string' },
      zones: { type: 'string' },
      'allow-privileged': { type: 'boolean' },
      'allow-host-network': { type: 'boolean' },
      'allowed-host-path': { type: 'string', multiple: true },
      'pids-limit': { type: 'string' },
      'metrics-host': { type: 'string' },
      'metrics-port': { type: 'string' },
      'stats-interval-ms': { type: 'string' },
      'task-cleanup-wait': { type: 'string' },
      help: { type: 'boolean' },
      version: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  if (values.version) {
    process.stdout.write(`berth-agent ${AGENT_VERSION}\n`);
    process.exit(0);
  }
  const file = readConfigFile(values.config ?? env.BERTH_AGENT_CONFIG);
  const attributes: Record<string, string> = {
    os: process.platform,
    arch: process.arch === 'x64' ? 'x86_64' : process.arch,
    ...(file.attributes ?? {}),
  };
  const pairs = [...(env.BERTH_ATTRIBUTES?.split(',').filter(Boolean) ?? []), ...(values.attribute ?? [])];
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new ConfigError(`--attribute: expected KEY=VALUE, got "${pair}"`);
    attributes[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  for (const [k, v] of Object.entries(attributes)) {
    if (!ATTRIBUTE_TEXT.test(k) || !ATTRIBUTE_TEXT.test(v)) {
      throw new ConfigError(`attribute ${k}=${v}: names and values are 1-128 letters, digits, _ . or -`);
    }
  }
  const hostAddress = values['host-address'] ?? env.BERTH_HOST_ADDRESS ?? file.hostAddress ?? '127.0.0.1';
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(hostAddress)) {
    throw new ConfigError(`--host-address: expected an IPv4 address, got "${hostAddress}"`);
  }
  const poolText = values['task-network-pool'] ?? env.BERTH_TASK_NETWORK_POOL ?? '10.234.0.0/16';
  const taskNetworkPool = parseSubnetPool(poolText);
  if (!taskNetworkPool)
    throw new ConfigError(
      `--task-network-pool: expected an IPv4 CIDR from /8 to /28 on its own boundary, such as 10.234.0.0/16, got "${poolText}"`,
    );
  const joinTokenText = values['join-token'] ?? env.BERTH_JOIN_TOKEN;
  let joinToken: JoinToken | undefined;
  try {
    joinToken = joinTokenText ? parseJoinToken(joinTokenText) : undefined;
  } catch (e) {
    throw new ConfigError(`--join-token: ${(e as Error).message.replace(/^joinToken: /, '')}`);
  }
  const runtime = values.runtime ?? 'docker';
  if (runtime !== 'docker' && runtime !== 'hollow')
    throw new ConfigError(`--runtime: "docker" or "hollow", got "${runtime}"`);
  const count = positive('--count', values.count, 1);
  if (count > 1 && runtime !== 'hollow')
    throw new ConfigError('--count: only hollow agents run several to a process');
  const failureRate = Number(values['failure-rate'] ?? 0);
  if (!(failureRate >= 0 && failureRate <= 1))
    throw new ConfigError('--failure-rate: a probability from 0 to 1');
  const cleanupText = values['task-cleanup-wait'] ?? env.BERTH_TASK_CLEANUP_WAIT ?? file.taskCleanupWait;
  const taskCleanupWaitSeconds = cleanupText === undefined ? 86_400 : Number(cleanupText);
  if (!Number.isInteger(taskCleanupWaitSeconds) || taskCleanupWaitSeconds < 0)
    throw new ConfigError(`--task-cleanup-wait: whole seconds, 0 or more, got "${cleanupText}"`);
  const startLatencyMs = Number(values['start-latency-ms'] ?? 50);
  if (!Number.isInteger(startLatencyMs) || startLatencyMs < 0)
    throw new ConfigError('--start-latency-ms: an integer, 0 or more');
  const metricsPortText = values['metrics-port'] ?? env.BERTH_METRICS_PORT ?? file.metricsPort;
  const metricsPort = Number(metricsPortText ?? METRICS_PORTS['host-agent']);
  if (!Number.isInteger(metricsPort) || metricsPort < 0 || metricsPort > 65535)
    throw new ConfigError(`--metrics-port: must be an integer from 0 to 65535, got "${metricsPortText}"`);
  const statsIntervalMs = positive(
    '--stats-interval-ms',
    values['stats-interval-ms'] ?? env.BERTH_STATS_INTERVAL_MS ?? file.statsIntervalMs,
    10_000,
  );
  if (statsIntervalMs < 1000)
    throw new ConfigError(`--stats-interval-ms: must be at least 1000, got "${statsIntervalMs}"`);
  return {
    metricsHost: values['metrics-host'] ?? env.BERTH_METRICS_HOST ?? file.metricsHost ?? '127.0.0.1',
    metricsPort,
    statsIntervalMs,
    gateway: gatewayTarget(values.gateway ?? env.BERTH_GATEWAY ?? file.gateway ?? '127.0.0.1:8443'),
    cluster: values.cluster ?? env.BERTH_CLUSTER ?? file.cluster ?? 'default',
    hostAddress,
    dataDir: values['data-dir'] ?? env.BERTH_DATA_DIR ?? file.dataDir ?? '/var/lib/berth-agent',
    joinToken,
    taskNetworkPool,
    cpu: positive('--cpu', values.cpu ?? env.BERTH_CPU ?? file.cpu, cpus().length * 1024),
    memory: positive(
      '--memory',
      values.memory ?? env.BERTH_MEMORY ?? file.memory,
      Math.floor(totalmem() / 1024 / 1024),
    ),
    attributes,
    logLevel: logLevel(env.BERTH_LOG_LEVEL),
    runtime,
    count,
    hollow: { startLatencyMs, failureRate, zones: positive('--zones', values.zones, 3) },
    taskCleanupWaitSeconds,
    hostPolicy: {
      allowPrivileged: flag(
        '--allow-privileged',
        values['allow-privileged'],
        env.BERTH_ALLOW_PRIVILEGED,
        file.allowPrivileged,
      ),
      allowHostNetwork: flag(
        '--allow-host-network',
        values['allow-host-network'],
        env.BERTH_ALLOW_HOST_NETWORK,
        file.allowHostNetwork,
      ),
      allowedHostPaths: allowedHostPaths(
        values['allowed-host-path'] ??
          env.BERTH_ALLOWED_HOST_PATHS?.split(',').filter(Boolean) ??
          file.allowedHostPaths ??
          [],
      ),
      pidsLimit: positive(
        '--pids-limit',
        values['pids-limit'] ?? env.BERTH_PIDS_LIMIT ?? file.pidsLimit,
        4096,
      ),
    },
  };
}

/** A flag that is on when given, else from its variable ("true" or "false"), else the file. */
function flag(
  name: string,
  value: boolean | undefined,
  variable: string | undefined,
  fromFile: boolean | undefined,
): boolean {
  if (value !== undefined) return value;
  if (variable !== undefined) {
    if (variable !== 'true' && variable !== 'false')
      throw new ConfigError(`${name}: its variable must be "true" or "false", got "${variable}"`);
    return variable === 'true';
  }
  if (fromFile !== undefined && typeof fromFile !== 'boolean')
    throw new ConfigError(`${name}: the config file's value must be true or false`);
  return fromFile ?? false;
}

/** The same rules as a cluster's allowed host path prefixes: absolute, and able to allow something. */
function allowedHostPaths(paths: unknown): string[] {
  if (!Array.isArray(paths))
    throw new ConfigError(
      "--allowed-host-path: the config file's allowedHostPaths must be an array of paths",
    );
  const out: string[] = [];
  for (const path of paths) {
    const problem = typeof path === 'string' ? hostPathPrefixProblem(path.trim()) : 'must be a string';
    if (problem) throw new ConfigError(`--allowed-host-path ${String(path)}: ${problem}`);
    const normalized = normalizeHostPath((path as string).trim());
    if (!out.includes(normalized)) out.push(normalized);
  }
  return out;
}
