import { pino, type Logger } from 'pino';
import { z } from 'zod';

export { z };
export type { Logger };

/** Settings every control-plane app shares. Every default is documented in docs/configuration.md. */
export const commonEnv = {
  DATABASE_URL: z.string({ error: 'is required (postgresql://user:password@host:5432/db)' }).url({
    error: 'must be a URL such as postgresql://user:password@host:5432/db',
  }),
  REDIS_URL: z
    .string()
    .url({ error: 'must be a URL such as redis://127.0.0.1:6379' })
    .default('redis://127.0.0.1:6379'),
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
  const result = z.object(shape).safeParse(env);
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
