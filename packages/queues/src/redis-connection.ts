import type { RedisOptions } from 'ioredis';

/**
 * Where the control plane's Redis is: one server (`REDIS_URL`), or a master found through Redis
 * Sentinel (`REDIS_SENTINELS` and `REDIS_SENTINEL_NAME`). Every app builds its connections from
 * these settings through `redisTarget`, so all of them follow a failover the same way.
 */
export interface RedisSettings {
  /** `redis://[user:password@]host:port[/db]`; with Sentinel only its user, password, db and `rediss:` apply. */
  REDIS_URL: string;
  /** `host:port,host:port` of Sentinels (port 26379 when left out); unset means no Sentinel. */
  REDIS_SENTINELS?: string | undefined;
  /** The master group's name, as in the Sentinels' `sentinel monitor <name> …`. */
  REDIS_SENTINEL_NAME?: string | undefined;
  /** Credentials for the Sentinels themselves (`requirepass` / ACL user in sentinel.conf). */
  REDIS_SENTINEL_USERNAME?: string | undefined;
  REDIS_SENTINEL_PASSWORD?: string | undefined;
  /** Speak TLS to the Sentinels (`true`/`false`). */
  REDIS_SENTINEL_TLS?: boolean | string | undefined;
}

/** Either a URL for ioredis to parse as it always did, or the options of a Sentinel connection. */
export type RedisTarget = { url: string } | { sentinel: RedisOptions };

export const DEFAULT_SENTINEL_PORT = 26379;

/**
 * `host:port,host:port` as ioredis's `sentinels`: host names, IPv4 and bracketed IPv6 addresses,
 * each with a port from 1 to 65535 or none (26379). Throws on anything else, naming the entry.
 */
export function parseSentinels(text: string): { host: string; port: number }[] {
  if (!text.trim()) throw new Error('REDIS_SENTINELS: lists no Sentinel');
  return text
    .split(',')
    .map((e) => e.trim())
    .map((entry) => {
      const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+))(?::(\d{1,5}))?$/.exec(entry);
      const port = m?.[3] === undefined ? DEFAULT_SENTINEL_PORT : Number(m[3]);
      if (!m || port < 1 || port > 65535)
        throw new Error(`REDIS_SENTINELS: "${entry}" is not host:port (such as 10.0.0.7:26379)`);
      return { host: (m[1] ?? m[2])!, port };
    });
}

/**
 * The connection the settings describe. Pure: no environment, no connection. Without
 * `REDIS_SENTINELS` it is `REDIS_URL` unchanged (password, db and query options included). With
 * it, ioredis asks the Sentinels for the master of `REDIS_SENTINEL_NAME` and connects there, again
 * after each failover; `REDIS_URL` then gives the master's user, password and db, and `rediss:`
 * makes that connection TLS.
 */
export function redisTarget(settings: RedisSettings): RedisTarget {
  if (!settings.REDIS_SENTINELS?.trim()) return { url: settings.REDIS_URL };
  const sentinels = parseSentinels(settings.REDIS_SENTINELS);
  const name = settings.REDIS_SENTINEL_NAME?.trim();
  if (!name) throw new Error('REDIS_SENTINEL_NAME: is required with REDIS_SENTINELS (the master group name)');
  let url: URL;
  try {
    url = new URL(settings.REDIS_URL);
  } catch {
    throw new Error('REDIS_URL: must be a URL such as redis://:password@127.0.0.1:6379/0');
  }
  const options: RedisOptions = { sentinels, name, role: 'master' };
  if (url.username) options.username = decodeURIComponent(url.username);
  if (url.password) options.password = decodeURIComponent(url.password);
  const db = url.pathname.replace(/^\//, '');
  if (db) {
    if (!/^\d+$/.test(db)) throw new Error(`REDIS_URL: the database must be a number, got "${db}"`);
    options.db = Number(db);
  }
  if (url.protocol === 'rediss:') {
    options.tls = {};
    options.enableTLSForSentinelMode = true;
  }
  if (settings.REDIS_SENTINEL_USERNAME) options.sentinelUsername = settings.REDIS_SENTINEL_USERNAME;
  if (settings.REDIS_SENTINEL_PASSWORD) options.sentinelPassword = settings.REDIS_SENTINEL_PASSWORD;
  const tls = settings.REDIS_SENTINEL_TLS;
  if (tls === true || tls === 'true') options.sentinelTLS = {};
  return { sentinel: options };
}
