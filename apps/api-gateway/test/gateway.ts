import request from 'supertest';
import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { createTestDatabase, TEST_REDIS_URL, uniquePrefix } from '@berth/testing';
import { startGateway } from '../src/app.js';
import { loadGatewayConfig } from '../src/config.js';

export interface TestGateway {
  http: ReturnType<typeof request>;
  /** A plain connection to the test database, to check what was (not) written. */
  sql: pg.Client;
  count(table: string): Promise<number>;
  close(): Promise<void>;
}

/** A gateway on its own fresh database and Redis prefix, on free ports, for one test file. */
export async function startTestGateway(
  label: string,
  env: Record<string, string> = {},
): Promise<TestGateway> {
  const db = await createTestDatabase();
  const config = loadGatewayConfig({
    DATABASE_URL: db.url,
    REDIS_URL: TEST_REDIS_URL,
    BERTH_REDIS_PREFIX: uniquePrefix(label),
    BERTH_HTTP_PORT: '0',
    BERTH_GRPC_PORT: '0',
    BERTH_LOG_LEVEL: 'silent',
    BERTH_MASTER_KEYS: `test:${randomBytes(32).toString('base64')}`,
    ...env,
  });
  const { app } = await startGateway(config);
  const sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
  return {
    http: request(app.getHttpServer()),
    sql,
    count: async (table) => Number((await sql.query(`SELECT count(*) FROM ${table}`)).rows[0].count),
    close: async () => {
      await sql.end();
      await app.close();
      await db.drop();
    },
  };
}
