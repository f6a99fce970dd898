import { commonEnv, ConfigError, loadConfig } from './index.js';

const base = { DATABASE_URL: 'postgresql://berth:pw@127.0.0.1:5432/berth' };

describe('commonEnv: Redis', () => {
  it('defaults to one Redis, no Sentinel', () => {
    const config = loadConfig(commonEnv, base);
    expect(config.REDIS_URL).toBe('redis://127.0.0.1:6379');
    expect(config.REDIS_SENTINELS).toBeUndefined();
    expect(config.REDIS_SENTINEL_TLS).toBe(false);
  });

  it('takes a Sentinel configuration', () => {
    const config = loadConfig(commonEnv, {
      ...base,
      REDIS_URL: 'redis://:pw@mymaster:6379/0',
      REDIS_SENTINELS: '10.0.0.7:26379,10.0.0.8:26379',
      REDIS_SENTINEL_NAME: 'mymaster',
      REDIS_SENTINEL_PASSWORD: 'spw',
      REDIS_SENTINEL_TLS: 'true',
    });
    expect(config).toMatchObject({
      REDIS_SENTINELS: '10.0.0.7:26379,10.0.0.8:26379',
      REDIS_SENTINEL_NAME: 'mymaster',
      REDIS_SENTINEL_PASSWORD: 'spw',
      REDIS_SENTINEL_TLS: true,
    });
  });

  it('lists every Sentinel problem at once', () => {
    let message = '';
    try {
      loadConfig(commonEnv, { ...base, REDIS_SENTINELS: '10.0.0.7:26379,,x', REDIS_SENTINEL_TLS: 'yes' });
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      message = (e as Error).message;
    }
    expect(message).toMatch(/REDIS_SENTINELS: must be host:port pairs/);
    expect(message).toMatch(/REDIS_SENTINEL_TLS: must be true or false/);
  });

  it('needs the master name with Sentinels', () => {
    expect(() => loadConfig(commonEnv, { ...base, REDIS_SENTINELS: '10.0.0.7:26379' })).toThrow(
      /REDIS_SENTINEL_NAME: is required with REDIS_SENTINELS/,
    );
  });
});
