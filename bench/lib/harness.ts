import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';

import { freePort } from '@berth/testing';

export { freePort };

/** Process control for benchmarks: a fresh database, the built apps as processes, timing helpers. */

export const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const PG_BASE = process.env.BERTH_PG_URL_BASE ?? 'postgresql://postgres:postgres@127.0.0.1:5432';

/** A new database with every migration applied, through the project's own migrate command. */
export async function freshDatabase(name: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const admin = new pg.Client({ connectionString: `${PG_BASE}/postgres` });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await admin.end();
  const url = `${PG_BASE}/${name}`;
  await promisify(execFile)('pnpm', ['--dir', ROOT, '--filter', '@berth/db', 'migrate:deploy'], {
    env: { ...process.env, DATABASE_URL: url },
  });
  return {
    url,
    drop: async () => {
      const c = new pg.Client({ connectionString: `${PG_BASE}/postgres` });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await c.end();
    },
  };
}

export class Processes {
  private readonly children: { name: string; child: ChildProcess; output: string[] }[] = [];

  /** `launcher` prefixes the command, e.g. nsenter into a test host's network namespace. */
  start(
    name: string,
    script: string,
    args: string[],
    env: Record<string, string>,
    launcher: string[] = [],
  ): ChildProcess {
    // BENCH_PROFILE=api-gateway writes a CPU profile of that process to bench/profiles/. Node
    // writes it only on a normal exit, and Nest's shutdown hook re-raises SIGTERM, which kills:
    // the profiled process exits on SIGTERM instead.
    const profile =
      process.env.BENCH_PROFILE === name
        ? [
            '--cpu-prof',
            `--cpu-prof-dir=${join(ROOT, 'bench/profiles')}`,
            `--import=data:text/javascript,process.once('SIGTERM',()=>process.exit(0))`,
          ]
        : [];
    const command = [...launcher, process.execPath, ...profile, join(ROOT, script), ...args];
    const child = spawn(command[0]!, command.slice(1), {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output: string[] = [];
    const keep = (d: Buffer) => {
      output.push(d.toString());
      if (output.length > 200) output.shift();
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    this.children.push({ name, child, output });
    return child;
  }

  /** The last output of every process, for a benchmark that failed. */
  tails(): string {
    return this.children.map((c) => `--- ${c.name}\n${c.output.join('').slice(-3000)}`).join('\n');
  }

  async stopAll(): Promise<void> {
    await Promise.all(
      this.children.map(
        ({ child }) =>
          new Promise<void>((res) => {
            if (child.exitCode !== null || child.signalCode !== null) return res();
            child.once('exit', () => res());
            child.kill('SIGTERM');
            setTimeout(() => child.kill('SIGKILL'), 5000).unref();
          }),
      ),
    );
  }
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export async function tempDir(prefix: string): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Benchmark flags; a leading `--` (as `pnpm bench:x -- --flag` passes it) is ignored. */
/** `--name value` flags; a flag whose default is a string takes any text, others a positive number. */
export function flags<T extends Record<string, number | string>>(argv: string[], defaults: T): T {
  const out = { ...defaults };
  const args = argv.filter((a) => a !== '--');
  for (let i = 0; i < args.length; i++) {
    const key = args[i]!.replace(/^--/, '') as keyof T & string;
    if (!(key in defaults))
      throw new Error(
        `unknown flag ${args[i]}; known: ${Object.keys(defaults)
          .map((k) => `--${k}`)
          .join(' ')}`,
      );
    const text = args[++i] ?? '';
    if (typeof defaults[key] === 'string') {
      out[key] = text as T[typeof key];
      continue;
    }
    const value = Number(text);
    if (!Number.isFinite(value) || value <= 0) throw new Error(`--${key} needs a positive number`);
    out[key] = value as T[typeof key];
  }
  return out;
}

export interface ControlPlane {
  env: Record<string, string>;
  api: string;
  /** Headers that carry an administrator key, for every request to `api`. */
  headers: Record<string, string>;
  /** Every replica's REST address, `api` first. */
  apis: string[];
  /** The agents' gRPC target: one address, or `ipv4:a:1,b:2` for several replicas. */
  grpcAddress: string;
  /** Each replica's gRPC address, in the order of `apis`. */
  grpcAddresses: string[];
  /** A join token for the `default` cluster, as many uses as hosts need: `--join-token` for agents. */
  joinToken: string;
}

/**
 * Starts `replicas` api-gateways (1) on free ports with their own Redis prefix, and waits until
 * they answer. Replicas share the database and the Redis prefix, as replicas in production do.
 */
export async function startGateway(
  processes: Processes,
  databaseUrl: string,
  label: string,
  extraEnv: Record<string, string> = {},
  replicas = 1,
): Promise<ControlPlane> {
  const [httpPort, grpcPort] = [await freePort(), await freePort()];
  const env: Record<string, string> = {
    DATABASE_URL: databaseUrl,
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    BERTH_REDIS_PREFIX: `${label}-${randomBytes(3).toString('hex')}`,
    BERTH_HTTP_PORT: String(httpPort),
    BERTH_GRPC_PORT: String(grpcPort),
    BERTH_LOG_LEVEL: 'warn',
    // Several apps (and agents) of one benchmark share the machine: each takes a free metrics port.
    BERTH_METRICS_PORT: '0',
    BERTH_MASTER_KEYS: `bench:${randomBytes(32).toString('base64')}`,
    ...extraEnv,
  };
  const api = `http://127.0.0.1:${httpPort}`;
  const grpcHost = extraEnv.BERTH_GRPC_HOST ?? '127.0.0.1';
  const apis = [api];
  const grpcAddresses = [`${grpcHost}:${grpcPort}`];
  const serve = async (name: string, replicaEnv: Record<string, string>, url: string) => {
    processes.start(name, 'apps/api-gateway/dist/main.js', [], replicaEnv);
    await waitFor(`the ${name}`, async () => ((await fetch(`${url}/healthz`)).ok ? true : undefined), 30_000);
  };
  // The first replica makes the cluster CA; the others find it in the database.
  await serve('api-gateway', env, api);
  for (let i = 2; i <= replicas; i++) {
    const [http, grpc] = [await freePort(), await freePort()];
    apis.push(`http://127.0.0.1:${http}`);
    grpcAddresses.push(`${grpcHost}:${grpc}`);
    await serve(
      `api-gateway-${i}`,
      { ...env, BERTH_HTTP_PORT: String(http), BERTH_GRPC_PORT: String(grpc) },
      apis.at(-1)!,
    );
  }
  const token = (
    await promisify(execFile)(
      process.execPath,
      [join(ROOT, 'apps/api-gateway/dist/admin.js'), 'create-admin-key'],
      {
        env: { ...process.env, ...env },
      },
    )
  ).stdout.trim();
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${api}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
    return res.json() as Promise<Record<string, { token?: string }>>;
  };
  await post('/v1/clusters', { clusterName: 'default' });
  // Every hollow agent joins with it, each as its own instance.
  const joined = await post('/v1/clusters/default/join-tokens', { ttlSeconds: 24 * 3600 });
  return {
    env,
    api,
    apis,
    headers,
    grpcAddress: grpcAddresses.length > 1 ? `ipv4:${grpcAddresses.join(',')}` : grpcAddresses[0]!,
    grpcAddresses,
    joinToken: joined.joinToken!.token!,
  };
}

export interface BenchContext {
  databaseUrl: string;
  /** A connection to the benchmark's database, to read its figures. */
  sql: pg.Client;
  processes: Processes;
  dataDir: string;
}

export const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);

/**
 * Runs a benchmark on a fresh database and temporary folder, prints its figures as one JSON line,
 * cleans up whatever happened, and exits 1 if it failed or its figures say so.
 */
export async function runBenchmark(
  name: string,
  body: (ctx: BenchContext) => Promise<{ figures: Record<string, unknown>; ok: boolean }>,
): Promise<never> {
  const db = await freshDatabase(`berth_${name}_${randomBytes(3).toString('hex')}`);
  const processes = new Processes();
  const dataDir = await tempDir(`berth-${name}-`);
  const sql = new pg.Client({ connectionString: db.url });
  let ok = false;
  try {
    await sql.connect();
    const result = await body({ databaseUrl: db.url, sql, processes, dataDir: dataDir.path });
    process.stdout.write(`${JSON.stringify(result.figures)}\n`);
    ok = result.ok;
  } catch (error) {
    log(`failed: ${(error as Error).message}\n${processes.tails()}`);
  } finally {
    await sql.end().catch(() => undefined);
    await processes.stopAll();
    await db.drop();
    await dataDir.remove();
  }
  process.exit(ok ? 0 : 1);
}
