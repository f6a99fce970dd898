// Bundles the CLI into one file that runs with Node 20 and nothing else (dist/berth.mjs, the
// package's bin): `npm i -g ./apps/cli` after `pnpm build` installs `berth`.
import { build } from 'esbuild';
import { chmod, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outfile = join(root, 'dist/berth.mjs');
const { version } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));
await build({
  entryPoints: [join(root, 'src/main.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  target: 'node20',
  // ESM, as yargs is; the CommonJS dependencies (cli-table3) get a require() for Node's modules.
  format: 'esm',
  banner: {
    js: "#!/usr/bin/env node\nimport { createRequire as __berthRequire } from 'node:module';\nconst require = __berthRequire(import.meta.url);",
  },
  // yargs cannot find package.json from inside the bundle: --version prints this instead.
  define: { 'process.env.BERTH_CLI_VERSION': JSON.stringify(version) },
  // ws's optional native speed-ups: it works without them.
  external: ['bufferutil', 'utf-8-validate'],
  legalComments: 'none',
  logLevel: 'warning',
});
await chmod(outfile, 0o755);
