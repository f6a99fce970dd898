import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { ConfigError } from '@berth/config';

export interface AgentConfig {
  gateway: string;
  cluster: string;
  hostAddress: string;
  dataDir: string;
  cpu: number;
  memory: number;
  attributes: Record<string, string>;
  logLevel: string;
}

const HELP = `berth host-agent: joins this host to a Berth cluster and runs its tasks with Docker.

  --gateway ADDR        the gateway's agent gRPC address (BERTH_GATEWAY, default 127.0.0.1:8443)
  --cluster NAME        cluster to join (BERTH_CLUSTER, default "default")
  --host-address IP     address container ports are published on (BERTH_HOST_ADDRESS, default 127.0.0.1)
  --data-dir DIR        where the instance id is kept (BERTH_DATA_DIR, default /var/lib/berth-agent)
  --cpu UNITS           CPU units to offer, 1024 per vCPU (BERTH_CPU, default: the host's)
  --memory MIB          memory to offer in MiB (BERTH_MEMORY, default: the host's)
  --attribute K=V       a custom attribute, repeatable (BERTH_ATTRIBUTES="zone=a,rack=1")
`;

function positive(name: string, value: string | undefined, fallback: number): number {
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

/** Flags win over environment variables, which win over what the host reports. */
export function loadAgentConfig(argv = process.argv.slice(2), env = process.env): AgentConfig {
  const { values } = parseArgs({
    args: argv,
    options: {
      gateway: { type: 'string' },
      cluster: { type: 'string' },
      'host-address': { type: 'string' },
      'data-dir': { type: 'string' },
      cpu: { type: 'string' },
      memory: { type: 'string' },
      attribute: { type: 'string', multiple: true },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  const attributes: Record<string, string> = {
    os: process.platform,
    arch: process.arch === 'x64' ? 'x86_64' : process.arch,
  };
  const pairs = [...(env.BERTH_ATTRIBUTES?.split(',').filter(Boolean) ?? []), ...(values.attribute ?? [])];
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new ConfigError(`--attribute: expected KEY=VALUE, got "${pair}"`);
    attributes[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  const hostAddress = values['host-address'] ?? env.BERTH_HOST_ADDRESS ?? '127.0.0.1';
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(hostAddress))
    throw new ConfigError(`--host-address: expected an IPv4 address, got "${hostAddress}"`);
  return {
    gateway: values.gateway ?? env.BERTH_GATEWAY ?? '127.0.0.1:8443',
    cluster: values.cluster ?? env.BERTH_CLUSTER ?? 'default',
    hostAddress,
    dataDir: values['data-dir'] ?? env.BERTH_DATA_DIR ?? '/var/lib/berth-agent',
    cpu: positive('--cpu', values.cpu ?? env.BERTH_CPU, cpus().length * 1024),
    memory: positive('--memory', values.memory ?? env.BERTH_MEMORY, Math.floor(totalmem() / 1024 / 1024)),
    attributes,
    logLevel: logLevel(env.BERTH_LOG_LEVEL),
  };
}
