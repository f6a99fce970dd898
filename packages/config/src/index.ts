import { pino, type Logger } from 'pino';
import { z } from 'zod';

export { z };
export type { Logger };

const SENTINEL = String.raw`(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::\d{1,5})?`;
const SENTINEL_LIST = new RegExp(`^\\s*${SENTINEL}\\s*(?:,\\s*${SENTINEL}\\s*)*$`);

/** Settings every control-plane app shares. Every default is documented in docs/configuration.md. */
export const commonEnv = {
  DATABASE_URL: z.string({ error: 'is required (postgresql://user:password@host:5432/db)' }).url({
    error: 'must be a URL such as postgresql://user:password@host:5432/db',
  }),
  REDIS_URL: z
    .string()
    .url({ error: 'must be a URL such as redis://127.0.0.1:6379' })
    .default('redis://127.0.0.1:6379'),
  /**
   * Redis through Sentinel: `host:port,host:port` of the Sentinels and the master group's name.
   * With them, REDIS_URL gives only the master's password, user, db and `rediss:` (see
   * redisTarget in @berth/queues).
   */
  REDIS_SENTINELS: z
    .string()
    .regex(SENTINEL_LIST, {
      error: 'must be host:port pairs separated by commas, such as 10.0.0.7:26379,10.0.0.8:26379',
    })
    .optional(),
  REDIS_SENTINEL_NAME: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,128}$/, { error: 'must be the master group name, such as mymaster' })
    .optional(),
  REDIS_SENTINEL_USERNAME: z.string().min(1).optional(),
  REDIS_SENTINEL_PASSWORD: z.string().min(1).optional(),
  REDIS_SENTINEL_TLS: z
    .enum(['true', 'false'], { error: 'must be true or false' })
    .default('false')
    .transform((v) => v === 'true'),
  /** Prefix of every Redis key and channel, so several clusters (or test runs) can share one Redis. */
  BERTH_REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_-]+$/)
    .default('berth'),
  BERTH_REGION: z
    .string()
    .regex(/^[a-z0-9-]+$/)
    .default('local'),
  BERTH_ACCOUNT: z
    .string()
    .regex(/^[0-9]{1,12}$/)
    .default('000000000000'),
  BERTH_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
};

/** A duration in milliseconds from an integer environment variable. */
export const millis = (defaultMs: number) => z.coerce.number().int().positive().default(defaultMs);

export class ConfigError extends Error {}

/**
 * Parses the environment once at boot. Every bad or missing variable is listed with its rule, so
 * an operator fixes them all in one go.
 */
export function loadConfig<S extends z.ZodRawShape>(
  shape: S,
  env: Record<string, string | undefined> = process.env,
): z.output<z.ZodObject<S>> {
  const result = z
    .object(shape)
    .superRefine((value, ctx) => {
      // Rules across variables of commonEnv, for the apps whose shape includes them.
      const v = value as Record<string, unknown>;
      if (v.REDIS_SENTINELS && !v.REDIS_SENTINEL_NAME)
        ctx.addIssue({
          code: 'custom',
          path: ['REDIS_SENTINEL_NAME'],
          message: 'is required with REDIS_SENTINELS (the master group name, such as mymaster)',
        });
    })
    .safeParse(env);
  if (result.success) return result.data;
  const lines = result.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
  throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
}

/** Structured JSON logs, one line per event; callers add cluster, task, service and instance fields. */
export function createLogger(app: string, level: string = process.env.BERTH_LOG_LEVEL ?? 'info'): Logger {
  return pino({ name: app, level, base: { app }, timestamp: pino.stdTimeFunctions.isoTime });
}

/** Runs `main`, printing configuration errors plainly and exiting non-zero on any start-up failure. */
export function runMain(app: string, main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    if (error instanceof ConfigError) {
      process.stderr.write(`${app}: ${error.message}\n`);
    } else {
      createLogger(app).fatal({ err: error }, 'failed to start');
    }
    process.exit(1);
  });
}
