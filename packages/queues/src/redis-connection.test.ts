import { parseSentinels, redisTarget } from './redis-connection.js';

describe('redisTarget', () => {
  it('is REDIS_URL unchanged without Sentinels, password, db and query included', () => {
    const url = 'redis://:s3cr%40t@10.0.0.5:6380/2?family=4';
    expect(redisTarget({ REDIS_URL: url })).toEqual({ url });
    expect(redisTarget({ REDIS_URL: url, REDIS_SENTINELS: '  ', REDIS_SENTINEL_NAME: 'm' })).toEqual({ url });
  });

  it('asks the Sentinels for the master, with the master credentials and db from REDIS_URL', () => {
    expect(
      redisTarget({
        REDIS_URL: 'redis://berth:s3cr%40t@ignored:1/3',
        REDIS_SENTINELS: '10.0.0.7:26379, sentinel-b.internal:26380,[fd00::9]:5000,10.0.0.10',
        REDIS_SENTINEL_NAME: 'mymaster',
        REDIS_SENTINEL_PASSWORD: 'sentinel-pw',
        REDIS_SENTINEL_USERNAME: 'watcher',
      }),
    ).toEqual({
      sentinel: {
        sentinels: [
          { host: '10.0.0.7', port: 26379 },
          { host: 'sentinel-b.internal', port: 26380 },
          { host: 'fd00::9', port: 5000 },
          { host: '10.0.0.10', port: 26379 },
        ],
        name: 'mymaster',
        role: 'master',
        username: 'berth',
        password: 's3cr@t',
        db: 3,
        sentinelUsername: 'watcher',
        sentinelPassword: 'sentinel-pw',
      },
    });
  });

  it('leaves out what REDIS_URL does not set', () => {
    expect(
      redisTarget({ REDIS_URL: 'redis://127.0.0.1:6379', REDIS_SENTINELS: 'a:1', REDIS_SENTINEL_NAME: 'm' }),
    ).toEqual({ sentinel: { sentinels: [{ host: 'a', port: 1 }], name: 'm', role: 'master' } });
  });

  it('speaks TLS to the master with rediss:, and to the Sentinels with REDIS_SENTINEL_TLS', () => {
    const base = { REDIS_SENTINELS: 'a:1', REDIS_SENTINEL_NAME: 'm' };
    const tls = redisTarget({ ...base, REDIS_URL: 'rediss://:pw@x', REDIS_SENTINEL_TLS: true });
    expect(tls).toMatchObject({
      sentinel: { tls: {}, enableTLSForSentinelMode: true, sentinelTLS: {}, password: 'pw' },
    });
    const plain = redisTarget({ ...base, REDIS_URL: 'redis://x', REDIS_SENTINEL_TLS: 'false' });
    expect(plain).not.toHaveProperty('sentinel.tls');
    expect(plain).not.toHaveProperty('sentinel.sentinelTLS');
    expect(redisTarget({ ...base, REDIS_URL: 'redis://x', REDIS_SENTINEL_TLS: 'true' })).toHaveProperty(
      'sentinel.sentinelTLS',
      {},
    );
  });

  it('refuses Sentinels without a master name, a bad db, a bad URL', () => {
    expect(() => redisTarget({ REDIS_URL: 'redis://x', REDIS_SENTINELS: 'a:1' })).toThrow(
      /REDIS_SENTINEL_NAME: is required/,
    );
    expect(() =>
      redisTarget({ REDIS_URL: 'redis://x/abc', REDIS_SENTINELS: 'a:1', REDIS_SENTINEL_NAME: 'm' }),
    ).toThrow(/database must be a number/);
    expect(() =>
      redisTarget({ REDIS_URL: 'not a url', REDIS_SENTINELS: 'a:1', REDIS_SENTINEL_NAME: 'm' }),
    ).toThrow(/REDIS_URL/);
  });
});

describe('parseSentinels', () => {
  it.each(['a:0', 'a:70000', 'a b:1', '::1:26379', 'a:1,,b:2', ',', 'a:x'])('refuses %j', (text) => {
    expect(() => parseSentinels(text)).toThrow(/REDIS_SENTINELS/);
  });
});
