import { chmod, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { commonEnv, ConfigError, loadConfig, runMain } from '@berth/config';
import { createPrisma, type PrismaClient } from '@berth/db';
import { gatewayEnv } from './config.js';
import { AccessKeysRepository } from './auth/access-keys.repository.js';
import { reseal, resealReport, sealedTables } from './crypto/reseal.js';

/**
 * berth-admin: operator commands that run beside the gateway, with its DATABASE_URL and
 * BERTH_MASTER_KEYS, for what cannot go through the API:
 *   node apps/api-gateway/dist/admin.js create-admin-key [--name N] [--if-none] [--out FILE]
 *   node apps/api-gateway/dist/admin.js reseal
 */
const env = {
  DATABASE_URL: commonEnv.DATABASE_URL,
  BERTH_MASTER_KEYS: gatewayEnv.BERTH_MASTER_KEYS,
};
type AdminConfig = ReturnType<typeof loadConfig<typeof env>>;

const COMMANDS: Record<string, (db: PrismaClient, config: AdminConfig, args: string[]) => Promise<void>> = {
  /** The first administrator key: how a new installation gets in. */
  'create-admin-key': async (db, config, args) => {
    const { values } = parseArgs({
      args,
      options: {
        name: { type: 'string', default: 'administrator' },
        'if-none': { type: 'boolean', default: false },
        out: { type: 'string' },
      },
    });
    const keys = new AccessKeysRepository(db, config.BERTH_MASTER_KEYS);
    if (values['if-none'] && (await keys.count()) > 0) {
      process.stdout.write('access keys exist already; none created\n');
      return;
    }
    const key = await keys.create({ name: values.name, managedPolicies: ['BerthAdministratorAccess'] });
    const token = `${key.accessKeyId}:${key.secretAccessKey}\n`;
    if (!values.out) {
      process.stdout.write(token);
      return;
    }
    await writeFile(values.out, token, { mode: 0o600 });
    await chmod(values.out, 0o600);
    process.stdout.write(`created administrator key ${key.accessKeyId}; token written to ${values.out}\n`);
  },
  /**
   * After a new master key is put first in BERTH_MASTER_KEYS: seals every access key secret,
   * cluster secret and registry password under it, so the older keys can be dropped. Exits 1 while
   * any value is still under an older key.
   */
  reseal: async (db, config) => {
    const keys = config.BERTH_MASTER_KEYS;
    const results = [];
    for (const table of sealedTables(db)) results.push(await reseal(keys, table));
    for (const line of resealReport(keys.currentKeyId, results)) process.stdout.write(`${line}\n`);
    if (results.some((r) => r.remaining)) process.exitCode = 1;
  },
};

runMain('berth-admin', async () => {
  const [command, ...args] = process.argv.slice(2);
  const run = command ? COMMANDS[command] : undefined;
  if (!run) throw new ConfigError(`usage: berth-admin <${Object.keys(COMMANDS).join(' | ')}> [options]`);
  const config = loadConfig(env, process.env);
  const db = createPrisma(config.DATABASE_URL);
  try {
    await run(db, config, args);
  } finally {
    await db.$disconnect();
  }
});
