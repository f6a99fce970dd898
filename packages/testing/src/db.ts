import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * Helpers for integration and end-to-end tests against the machine's real Postgres and Redis.
 * Each test file gets its own database, cloned from a migrated template, and its own Redis key
 * prefix, so test files never see each other's rows, queues or channels.
 */
export const TEST_TEMPLATE_URL =
  process.env.BERTH_TEST_TEMPLATE_URL ?? 'postgresql://postgres:postgres@127.0.0.1:5432/berth_template';
export const TEST_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const template = new URL(TEST_TEMPLATE_URL).pathname.slice(1);
  const name = `berth_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: withDatabase(TEST_TEMPLATE_URL, 'postgres') });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`);
  } finally {
    await admin.end();
  }
  return {
    url: withDatabase(TEST_TEMPLATE_URL, name),
    async drop() {
      const c = new pg.Client({ connectionString: withDatabase(TEST_TEMPLATE_URL, 'postgres') });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

export function uniquePrefix(label = 'test'): string {
  return `berth-${label}-${randomBytes(4).toString('hex')}`;
}

/** Polls `probe` until it returns a value other than undefined, or fails with what it last saw. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  opts: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 200));
  }
}
