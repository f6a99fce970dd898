// Prisma CLI configuration (the CLI only: the app builds its client from a DATABASE_URL it is given).
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'prisma/config';

// The CLI would download a native schema engine from Prisma's server, which our machines can't
// reach; point it at the WASM bridge instead (see docs/prisma-on-offline-machines.md). An engine
// set in the environment still wins.
process.env.PRISMA_SCHEMA_ENGINE_BINARY ??= fileURLToPath(
  new URL('./engine-bridge/schema-engine.mjs', import.meta.url),
);

export default defineConfig({
  schema: '../../prisma/schema.prisma',
  migrations: { path: '../../prisma/migrations' },
  datasource: {
    url: process.env.DATABASE_URL,
    shadowDatabaseUrl: process.env.SHADOW_DATABASE_URL,
  },
});
