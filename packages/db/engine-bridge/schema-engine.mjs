#!/usr/bin/env node
// Stand-in for Prisma's native `schema-engine` binary, for the Prisma CLI only (never imported at
// run time; the app's client is WASM + @prisma/adapter-pg and needs no engine).
//
// WHY: the Prisma 7 CLI downloads a native schema engine from binaries.prisma.sh before `migrate`,
// `db` and even `--version`, and our machines reach only the npm registry. The same engine is on
// npm as WebAssembly (@prisma/schema-engine-wasm), but the CLI can only talk to an engine it spawns
// as a child process. So this script is that child: prisma.config.ts points
// PRISMA_SCHEMA_ENGINE_BINARY here, and we speak the native engine's interface:
//   - `--version`                          print a version line;
//   - `--datasource JSON cli <command>`    one-shot `can-connect-to-database` / `create-database`
//                                          (exit 0, or exit 1 with JSON error logs on stderr);
//   - otherwise                            JSON-RPC 2.0, one message a line, requests on stdin,
//                                          responses on stdout, logs as JSON lines on stderr.
// JSON-RPC method names are the WASM engine's method names (getDatabaseVersion = version), and the
// engine reaches Postgres through @prisma/adapter-pg. Worked around below, each marked: two
// adapter-pg 7.10.1 bugs ("adapter-pg bug:") and two gaps between the WASM and native engines
// ("WASM engine gap:").
// See docs/prisma-on-offline-machines.md.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { PrismaPg } from '@prisma/adapter-pg';
import { bindMigrationAwareSqlAdapterFactory, ColumnTypeEnum } from '@prisma/driver-adapter-utils';
import * as bg from '@prisma/schema-engine-wasm/schema_engine_bg';

// --- arguments, as the CLI passes them to the native binary -------------------------------------
const argv = process.argv.slice(2);
const datamodelPaths = [];
let datasource = {};
const positional = [];
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--datamodels') datamodelPaths.push(argv[++i]);
  else if (a === '--datasource') datasource = JSON.parse(argv[++i]);
  else if (a === '--enabled-preview-features' || a === '--extension-types')
    i++; // not supported by the WASM engine
  else positional.push(a);
}

// --- the WASM engine: a Rust panic reports its message through this global before trapping -----
globalThis.PRISMA_WASM_PANIC_REGISTRY = {
  message: '',
  set_message(message) {
    this.message = `RuntimeError: ${message}`;
  },
};
// A panic inside an engine task traps outside any request's promise: report it the way the native
// engine does (an ERROR log line, exit code 101), which the CLI shows as an engine panic.
process.on('uncaughtException', (e) => {
  log('ERROR', globalThis.PRISMA_WASM_PANIC_REGISTRY.message || String(e?.stack ?? e), { is_panic: true });
  process.exit(101);
});

// --- the WASM engine (its package entry imports the .wasm as an ES module, which Node 20 can't) --
const wasmPath = fileURLToPath(
  new URL('./schema_engine_bg.wasm', import.meta.resolve('@prisma/schema-engine-wasm/schema_engine_bg')),
);
const instance = new WebAssembly.Instance(new WebAssembly.Module(fs.readFileSync(wasmPath)), {
  './schema_engine_bg.js': bg,
});
bg.__wbg_set_wasm(instance.exports);
instance.exports.__wbindgen_start();

if (argv.includes('--version')) {
  console.log(`schema-engine-cli ${bg.version()} (wasm bridge)`);
  process.exit(0);
}

// --- logs: the CLI reads stderr as JSON lines and keeps ERROR ones as the failure reason ---------
function log(level, message, extra = {}) {
  process.stderr.write(
    `${JSON.stringify({ level, target: 'schema_engine::logger', fields: { message, ...extra } })}\n`,
  );
}

// --- adapter-pg, with the two workarounds ---------------------------------------------------------
// The CLI passes prisma.config.ts' datasource (DATABASE_URL, SHADOW_DATABASE_URL).
const { url, shadowDatabaseUrl: shadowUrl } = datasource;

/** A PrismaPg factory for a URL; `?schema=` becomes the adapter's schema option. */
function pgFactory(connectionString) {
  if (!connectionString) return new PrismaPg({});
  const u = new URL(connectionString);
  const schema = u.searchParams.get('schema') ?? undefined;
  u.searchParams.delete('schema');
  return new PrismaPg({ connectionString: u.toString() }, schema ? { schema } : undefined);
}

/**
 * adapter-pg bug: it maps result columns by type OID and throws UnsupportedNativeDataType for
 * Postgres' internal single-byte `"char"` type (OID 18), which the engine's catalog queries return
 * (pg_constraint.contype, pg_class.relkind, ...), and the engine reads those columns as
 * Character. So: let adapter-pg see text (OID 25), remember which columns were `"char"`, and
 * report those as Character. Patched once on the prototype that connections and transactions share.
 */
const CHAR_OID = 18;
const TEXT_OID = 25;
const charColumns = Symbol('charColumns');
function patchCharType(adapter) {
  let proto = Object.getPrototypeOf(adapter);
  while (proto && !Object.hasOwn(proto, 'performIO')) proto = Object.getPrototypeOf(proto);
  if (!proto || Object.hasOwn(proto, charColumns)) return;
  proto[charColumns] = true;
  const { performIO, queryRaw } = proto;
  proto.performIO = async function (query) {
    const result = await performIO.call(this, query);
    const columns = [];
    (result.fields ?? []).forEach((field, i) => {
      if (field.dataTypeID === CHAR_OID) {
        field.dataTypeID = TEXT_OID;
        columns.push(i);
      }
    });
    if (columns.length && Array.isArray(result.rows)) result.rows[charColumns] = columns; // queryRaw returns this array
    return result;
  };
  proto.queryRaw = async function (query) {
    const result = await queryRaw.call(this, query);
    for (const i of result.rows?.[charColumns] ?? []) result.columnTypes[i] = ColumnTypeEnum.Character;
    return result;
  };
}

const factory = pgFactory(url);
const connect = factory.connect.bind(factory);
factory.connect = async () => {
  const adapter = await connect();
  patchCharType(adapter);
  return adapter;
};

// Shadow-database cleanups still running; every reply waits for them (the CLI kills us once done).
const cleanups = new Set();
function track(promise) {
  cleanups.add(promise);
  return promise.finally(() => cleanups.delete(promise));
}

/**
 * adapter-pg bug: its connectToShadowDb() drops the temporary shadow database *before* closing the
 * pool connected to it, so DROP DATABASE fails with "is being accessed by other users" (and it
 * leaks the admin connection; with a connectionString config the shadow pool would even connect
 * to the main database, since pg lets connectionString override `database`). Same job, in the
 * right order. With SHADOW_DATABASE_URL set, that database is used instead, and reset first, like
 * the native engine does with shadowDatabaseUrl.
 */
factory.connectToShadowDb = async () => {
  if (shadowUrl) {
    const shadow = await pgFactory(shadowUrl).connect();
    patchCharType(shadow);
    const schema = shadow.getConnectionInfo().schemaName ?? 'public';
    await shadow.executeScript(`DROP SCHEMA IF EXISTS "${schema}" CASCADE; CREATE SCHEMA "${schema}"`);
    return shadow;
  }
  const admin = await factory.connect();
  const name = `prisma_migrate_shadow_db_${randomUUID()}`;
  await admin.executeScript(`CREATE DATABASE "${name}"`);
  const u = new URL(url);
  u.pathname = `/${name}`;
  const shadow = await pgFactory(u.toString()).connect();
  const dispose = shadow.dispose.bind(shadow);
  let disposed;
  shadow.dispose = () =>
    (disposed ??= track(
      (async () => {
        await dispose(); // close the shadow pool first...
        try {
          await admin.executeScript(`DROP DATABASE IF EXISTS "${name}"`); // ...then drop the database
        } catch (e) {
          log('WARN', `could not drop shadow database "${name}": ${e?.message ?? e}`);
        } finally {
          await admin.dispose();
        }
      })(),
    ));
  return shadow;
};

// --- one-shot `cli` commands (migrate deploy/status/dev check the database with these) ----------
if (positional[0] === 'cli') {
  const command = positional[1];
  try {
    if (command === 'can-connect-to-database') {
      const adapter = await factory.connect();
      try {
        await adapter.queryRaw({ sql: 'SELECT 1', args: [], argTypes: [] });
      } finally {
        await adapter.dispose();
      }
    } else if (command === 'create-database') {
      const u = new URL(url);
      const name = decodeURIComponent(u.pathname.slice(1));
      u.pathname = '/postgres';
      const admin = await pgFactory(u.toString()).connect();
      try {
        await admin.executeScript(`CREATE DATABASE "${name.replaceAll('"', '""')}"`);
      } finally {
        await admin.dispose();
      }
    } else {
      throw new Error(`unsupported cli command: ${command}`);
    }
    process.exit(0);
  } catch (e) {
    // The CLI only reads stderr from its second line on, and maps P1003 to "create the database".
    const pgCode = e?.cause?.originalCode ?? e?.code;
    const errorCode = { '3D000': 'P1003', '28P01': 'P1000', 28000: 'P1000' }[pgCode] ?? 'P1001';
    log('INFO', 'schema engine bridge');
    log('ERROR', String(e?.cause?.originalMessage ?? e?.message ?? e), { error_code: errorCode });
    process.exit(1);
  }
}

// --- JSON-RPC server ------------------------------------------------------------------------------
const datamodels = datamodelPaths.map((p) => [p, fs.readFileSync(p, 'utf8')]);
const engine = await bg.SchemaEngine.new(
  { datamodels: datamodels.length ? datamodels : undefined },
  // The engine's logs are already JSON lines in the native format: pass them through.
  (line) => process.stderr.write(String(line).endsWith('\n') ? String(line) : `${line}\n`),
  // The engine expects Result-returning ({ ok, value }) adapters, as the Prisma client wraps them.
  bindMigrationAwareSqlAdapterFactory(factory),
);
const methods = { getDatabaseVersion: 'version' };
const send = (msg) => process.stdout.write(`${JSON.stringify({ jsonrpc: '2.0', ...msg })}\n`);

/** The engine rejects with a user-facing error object; shape it like the native JSON-RPC error. */
function rpcError(e) {
  const err = typeof e === 'string' ? { message: e } : e;
  const panic = e instanceof WebAssembly.RuntimeError; // a trap: the Rust side panicked
  const data = {
    is_panic: panic || Boolean(err?.is_panic),
    message: panic ? globalThis.PRISMA_WASM_PANIC_REGISTRY.message || String(e) : String(err?.message ?? e),
    meta: err?.meta,
    error_code: err?.error_code ?? err?.code, // the WASM engine's errors carry the P-code as `code`
  };
  return { code: 4466, message: 'An error happened. Check the data field for details.', data };
}

const pending = new Set();
createInterface({ input: process.stdin, crlfDelay: Infinity })
  .on('line', (line) => {
    if (!line.trim()) return;
    const req = JSON.parse(line);
    if (req.method === undefined) return; // a reply to a request of ours; we send none
    const name = methods[req.method] ?? req.method;
    const job = (async () => {
      let reply;
      try {
        if (typeof engine[name] !== 'function' || name === 'free')
          throw new Error(`method ${req.method} is not supported by the WASM schema engine`);
        // WASM engine gap: evaluateDataLoss and createMigration build the schema of the migration
        // history from a cache that only devDiagnostic/diagnoseMigrationHistory fill (they alone get
        // the shadow-database factory). After `migrate dev` has applied a pending migration the cache
        // misses, and they fail with "PostgreSQL shadow DB must be provided through an external
        // factory". Filling the cache for this exact history first is a no-op when it is warm.
        if ((name === 'evaluateDataLoss' || name === 'createMigration') && req.params?.migrationsList) {
          const { migrationsList, filters } = req.params;
          await engine.diagnoseMigrationHistory({ migrationsList, filters, optInToShadowDatabase: true });
        }
        const result = await engine[name](req.params ?? {});
        // WASM engine gap: the native engine prints `migrate diff` output by asking the CLI to (a
        // `print` request); the WASM engine returns it instead, so forward it.
        if (name === 'diff' && result?.stdout)
          send({
            id: `print-${req.id}`,
            method: 'print',
            params: { content: result.stdout.replace(/\n$/, '') },
          });
        reply = { id: req.id, result: result ?? null };
      } catch (e) {
        reply = { id: req.id, error: rpcError(e) };
        log('ERROR', reply.error.data.message);
      }
      await Promise.allSettled([...cleanups]); // the engine may not await dispose(): finish before the CLI stops us
      send(reply);
      if (reply.error?.data.is_panic) process.exit(101); // the WASM instance is unusable after a trap
    })();
    pending.add(job);
    job.finally(() => pending.delete(job));
  })
  .on('close', async () => {
    await Promise.allSettled([...pending]);
    process.exit(0);
  });
