import { fileURLToPath } from 'node:url';
import { commonEnv, loadConfig, millis, z } from '@berth/config';
import { metricsEnv } from '@berth/metrics';
import { KeyRing } from './crypto/key-ring.js';

export const gatewayEnv = {
  ...commonEnv,
  BERTH_HTTP_HOST: z.string().default('127.0.0.1'),
  BERTH_HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  /** The web console's built files (apps/console/dist), served at /console/. */
  BERTH_CONSOLE_DIR: z.string().default(fileURLToPath(new URL('../../console/dist', import.meta.url))),
  ...metricsEnv('api-gateway'),
  /**
   * How long the task stats samples that agents report are kept: the longest window a service's
   * utilisation can be averaged over.
   */
  BERTH_TASK_STATS_RETENTION_MS: millis(15 * 60_000),
  BERTH_GRPC_HOST: z.string().default('127.0.0.1'),
  BERTH_GRPC_PORT: z.coerce.number().int().min(0).max(65535).default(8443),
  /**
   * The names and addresses agents reach the gRPC listener at, comma-separated: its TLS certificate
   * (issued by the cluster CA at each start) names exactly these, and agents check them.
   */
  BERTH_GRPC_TLS_NAMES: z
    .string()
    .default('127.0.0.1,localhost')
    .transform((v) =>
      v
        .split(',')
        .map((n) => n.trim())
        .filter(Boolean),
    )
    .refine((names) => names.length > 0, { error: 'must list at least one name or address' })
    .refine((names) => names.every((n) => /^[A-Za-z0-9.:-]{1,253}$/.test(n)), {
      error: 'each entry must be a DNS name or an IP address',
    }),
  /** How long agent certificates live; agents renew them at two thirds of that. */
  BERTH_AGENT_CERT_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(10, { error: 'must be at least 10 seconds' })
    .default(30 * 24 * 3600),
  /** How often agents send heartbeats (told to each agent when it registers). */
  BERTH_HEARTBEAT_INTERVAL_MS: millis(2000),
  /** How often each connected agent is sent its full desired state again, healing lost commands. */
  BERTH_DESIRED_STATE_RESYNC_MS: millis(30_000),
  /** How long live events are kept (GET /v1/events): older ones are pruned by a sweep every 5 minutes. */
  BERTH_EVENTS_RETENTION_HOURS: z.coerce
    .number()
    .positive({ error: 'must be a positive number of hours' })
    .default(24),
  /**
   * How often an event stream looks for new events when no commit woke it (an event is readable
   * only once every transaction older than it has ended, which no notification announces).
   */
  BERTH_EVENTS_POLL_MS: millis(1000),
  /** How long a request waits for Redis to answer one command before it goes on without it. */
  BERTH_REDIS_COMMAND_TIMEOUT_MS: millis(500),
  /**
   * The master keys that seal access-key secrets, cluster secrets and registry passwords at rest,
   * newest first: `k2:<base64 32 bytes>,k1:<base64 32 bytes>`. Every gateway replica needs the
   * same list. New values are sealed with the first; any listed key opens what it sealed.
   */
  BERTH_MASTER_KEYS: z
    .string({
      error: 'is required: <key id>:<32 random bytes in base64>, newest first (openssl rand -base64 32)',
    })
    .transform((spec, ctx) => {
      try {
        return KeyRing.parse(spec);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message.replace(/^BERTH_MASTER_KEYS: /, '') });
        return z.NEVER;
      }
    }),
};

export type GatewayConfig = ReturnType<typeof loadGatewayConfig>;

export function loadGatewayConfig(env: Record<string, string | undefined> = process.env) {
  return loadConfig(gatewayEnv, env);
}

export const CONFIG = Symbol('GatewayConfig');
