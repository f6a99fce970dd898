import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse } from 'ini';

/**
 * Where the CLI sends its requests and with which key. Like the AWS CLI, it reads flags first,
 * then the environment, then a named profile of the shared credentials and config files; with
 * none of those, the local cluster's `.berth/admin-token` (found from the working directory up)
 * on the local gateway.
 */
export interface Connection {
  endpoint: string;
  /** `<accessKeyId>:<secret>`, sent as `Authorization: Bearer …`. */
  token: string;
  /** Where the key came from, for error messages (never the key itself). */
  source: string;
}

export interface ConnectionInputs {
  flags: { endpoint?: string; profile?: string; token?: string };
  env: Record<string, string | undefined>;
  /** The shared credentials and config files' text, when they exist. */
  credentialsFile?: string;
  configFile?: string;
  /** The first `.berth/admin-token` above the working directory: its path and text. */
  adminToken?: { path: string; text: string };
}

export const DEFAULT_ENDPOINT = 'http://127.0.0.1:8080';

export class ConnectionError extends Error {}

type Ini = Record<string, Record<string, string | undefined> | undefined>;

/** Pure: picks the endpoint and the key from what the caller read. */
export function resolveConnection(input: ConnectionInputs): Connection {
  const { flags, env } = input;
  const profile = flags.profile ?? env.BERTH_PROFILE ?? env.AWS_PROFILE;
  const config = (input.configFile ? parse(input.configFile) : {}) as Ini;
  const profileConfig = profile
    ? (config[profile === 'default' ? 'default' : `profile ${profile}`] ?? {})
    : {};
  const endpoint = (
    flags.endpoint ??
    env.BERTH_ENDPOINT ??
    profileConfig.endpoint_url ??
    DEFAULT_ENDPOINT
  ).replace(/\/+$/, '');

  const explicit = flags.token ?? env.BERTH_TOKEN;
  if (explicit) return { endpoint, token: explicit.trim(), source: flags.token ? '--token' : 'BERTH_TOKEN' };
  if (profile) {
    const credentials = ((input.credentialsFile ? parse(input.credentialsFile) : {}) as Ini)[profile];
    const id = credentials?.aws_access_key_id;
    const secret = credentials?.aws_secret_access_key;
    if (!id || !secret)
      throw new ConnectionError(
        `profile ${profile}: no aws_access_key_id and aws_secret_access_key in the shared credentials file`,
      );
    return { endpoint, token: `${id}:${secret}`, source: `profile ${profile}` };
  }
  if (input.adminToken)
    return { endpoint, token: input.adminToken.text.trim(), source: input.adminToken.path };
  throw new ConnectionError(
    'no access key: give --token (or BERTH_TOKEN) as <accessKeyId>:<secret>, --profile (or BERTH_PROFILE), or run from a checkout with .berth/admin-token',
  );
}

/** The first `.berth/admin-token` in `from` or a folder above it. */
export function findAdminToken(from: string): { path: string; text: string } | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const path = join(dir, '.berth', 'admin-token');
    if (existsSync(path)) return { path, text: readFileSync(path, 'utf8') };
    if (dirname(dir) === dir) return undefined;
  }
}

const readIfExists = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8') : undefined);

/** Reads the files resolveConnection looks at, where the AWS CLI looks for them. */
export function loadConnection(
  flags: ConnectionInputs['flags'],
  env: Record<string, string | undefined> = process.env,
  cwd = process.cwd(),
): Connection {
  const aws = join(homedir(), '.aws');
  return resolveConnection({
    flags,
    env,
    credentialsFile: readIfExists(env.AWS_SHARED_CREDENTIALS_FILE ?? join(aws, 'credentials')),
    configFile: readIfExists(env.AWS_CONFIG_FILE ?? join(aws, 'config')),
    adminToken: findAdminToken(cwd),
  });
}
