// Bundles the agent into one file that runs on a host with Node 20 and nothing else: no
// node_modules, no workspace. `pnpm --filter @berth/host-agent bundle` (or `pnpm bundle:agent`).
import { build } from 'esbuild';
import { chmod, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outfile = process.argv[2] ?? join(root, 'dist/berth-agent.cjs');

const started = Date.now();
await build({
  entryPoints: [join(root, 'src/main.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  target: 'node20',
  // CommonJS: most dependencies (grpc-js, dockerode, ssh2) are CommonJS and load parts of
  // themselves with require(); in one CJS file those stay plain requires of bundled modules.
  format: 'cjs',
  banner: { js: '#!/usr/bin/env node' },
  // Optional native add-ons that their packages load in try/catch and work without:
  // cpu-features (ssh2's cipher ordering) and ssh2's sshcrypto binding. The agent talks to
  // Docker over its Unix socket, never over SSH, so leaving them out changes nothing.
  external: ['cpu-features', '*.node'],
  legalComments: 'none',
  sourcemap: false,
  minify: false,
  logLevel: 'warning',
});
await chmod(outfile, 0o755);
const { size } = await stat(outfile);
console.log(`${outfile}: ${(size / 1024 / 1024).toFixed(1)} MiB in ${Date.now() - started} ms`);
