import os from 'node:os';
import path from 'node:path';
import { commonEnv, loadConfig, millis, z } from '@berth/config';
import { metricsEnv } from '@berth/metrics';

export const loadBalancerEnv = {
  ...commonEnv,
  ...metricsEnv('load-balancer'),
  /** The load balancer (its `name`) whose listeners this process serves. */
  BERTH_LOAD_BALANCER: z
    .string({ error: 'is required (the load balancer name, or --load-balancer NAME)' })
    .regex(/^[A-Za-z0-9-]{1,32}$/, { error: 'must be a load balancer name: letters, digits, -' }),
  /** This process's id as a health reporter; by default the host name and the load balancer. */
  BERTH_LB_ID: z.string().min(1).max(200).optional(),
  /** The address every listener binds (0.0.0.0 on an edge machine, 127.0.0.1 locally). */
  BERTH_LB_BIND: z.string().min(1).default('127.0.0.1'),
  /** Where HAProxy's config, sockets and pid file live; by default under the temp directory. */
  BERTH_LB_RUN_DIR: z.string().min(1).optional(),
  /** How often the desired state is read and HAProxy reconciled. */
  BERTH_LB_INTERVAL_MS: millis(1000),
  /** How often each target group's request count is sampled into Postgres (ALBRequestCountPerTarget). */
  BERTH_LB_REQUEST_SAMPLE_MS: millis(5000),
  BERTH_HAPROXY_BIN: z.string().min(1).default('haproxy'),
};

const FLAGS: Record<string, string> = {
  '--load-balancer': 'BERTH_LOAD_BALANCER',
  '--id': 'BERTH_LB_ID',
  '--bind': 'BERTH_LB_BIND',
  '--run-dir': 'BERTH_LB_RUN_DIR',
  '--metrics-host': 'BERTH_METRICS_HOST',
  '--metrics-port': 'BERTH_METRICS_PORT',
};

/** Command-line flags (`--load-balancer web`, `--bind=0.0.0.0`) over the environment. */
export function withFlags(argv: string[], env: Record<string, string | undefined>) {
  const out = { ...env };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split(/=(.*)/s, 2) as [string, string | undefined];
    const name = FLAGS[flag];
    if (!name) throw new Error(`unknown flag ${flag} (known: ${Object.keys(FLAGS).join(', ')})`);
    out[name] = inline ?? argv[++i];
  }
  return out;
}

export type LoadBalancerConfig = ReturnType<typeof loadLoadBalancerConfig>;

export function loadLoadBalancerConfig(
  env: Record<string, string | undefined> = process.env,
  argv: string[] = process.argv.slice(2),
) {
  const config = loadConfig(loadBalancerEnv, withFlags(argv, env));
  return {
    ...config,
    id: config.BERTH_LB_ID ?? `${os.hostname()}:${config.BERTH_LOAD_BALANCER}`,
    runDir:
      config.BERTH_LB_RUN_DIR ?? path.join(os.tmpdir(), 'berth-load-balancer', config.BERTH_LOAD_BALANCER),
  };
}
