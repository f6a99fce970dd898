import request from 'supertest';
import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { createTestDatabase, TEST_REDIS_URL, uniquePrefix } from '@berth/testing';
import { startGateway } from '../src/app.js';
import { loadGatewayConfig } from '../src/config.js';
import { AccessKeysRepository } from '../src/auth/access-keys.repository.js';

export interface TestGateway {
  /** Requests carrying an administrator key. */
  http: ReturnType<typeof request.agent>;
  /** Requests carrying no key at all. */
  anonymous: ReturnType<typeof request>;
  /** `<accessKeyId>:<secret>` of the administrator key `http` uses. */
  adminToken: string;
  /** Requests carrying another key's token. */
  as(token: string): ReturnType<typeof request.agent>;
  /** `http://127.0.0.1:<port>`: the HTTP port, for clients other than supertest (the AWS SDK). */
  url: string;
  /** A plain connection to the test database, to check what was (not) written. */
  sql: pg.Client;
  databaseUrl: string;
  /** `127.0.0.1:<port>` of the agent gRPC server (TLS). */
  grpcAddress: string;
  /** `http://127.0.0.1:<port>/metrics`: the gateway's Prometheus metrics. */
  metricsUrl: string;
  count(table: string): Promise<number>;
  /** A provider of the running app (a repository, to reach what no route shows). */
  get<T>(type: abstract new (...args: never[]) => T): T;
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
    BERTH_METRICS_PORT: '0',
    BERTH_LOG_LEVEL: 'silent',
    BERTH_MASTER_KEYS: `test:${randomBytes(32).toString('base64')}`,
    ...env,
  });
  const { app, grpcPort, metricsPort } = await startGateway(config);
  const admin = await app.get(AccessKeysRepository).create({
    name: 'test-admin',
    managedPolicies: ['BerthAdministratorAccess'],
  });
  const adminToken = `${admin.accessKeyId}:${admin.secretAccessKey}`;
  const as = (token: string) => request.agent(app.getHttpServer()).set('authorization', `Bearer ${token}`);
  const sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
  return {
    http: as(adminToken),
    anonymous: request(app.getHttpServer()),
    adminToken,
    as,
    url: `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`,
    sql,
    databaseUrl: db.url,
    grpcAddress: `127.0.0.1:${grpcPort}`,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    get: (type) => app.get(type),
    count: async (table) => Number((await sql.query(`SELECT count(*) FROM ${table}`)).rows[0].count),
    close: async () => {
      await sql.end();
      await app.close();
      await db.drop();
    },
  };
}
