import { commonEnv, loadConfig, millis, z } from '@berth/config';

export const gatewayEnv = {
  ...commonEnv,
  BERTH_HTTP_HOST: z.string().default('127.0.0.1'),
  BERTH_HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  BERTH_GRPC_HOST: z.string().default('127.0.0.1'),
  BERTH_GRPC_PORT: z.coerce.number().int().min(0).max(65535).default(8443),
  /** How often agents send heartbeats (told to each agent when it registers). */
  BERTH_HEARTBEAT_INTERVAL_MS: millis(2000),
  /** How often each connected agent is sent its full desired state again, healing lost commands. */
  BERTH_DESIRED_STATE_RESYNC_MS: millis(30_000),
  /**
   * 32 random bytes in base64 that seal registry passwords at rest. Every gateway replica needs
   * the same key. Unset: registry credentials cannot be stored, and stored ones are not used.
   */
  BERTH_CREDENTIALS_KEY: z
    .string()
    .refine((v) => Buffer.from(v, 'base64').length === 32, {
      error: 'must be 32 bytes in base64 (openssl rand -base64 32)',
    })
    .optional(),
};

export type GatewayConfig = ReturnType<typeof loadGatewayConfig>;

export function loadGatewayConfig(env: Record<string, string | undefined> = process.env) {
  return loadConfig(gatewayEnv, env);
}

export const CONFIG = Symbol('GatewayConfig');
