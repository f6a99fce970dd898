import { ConfigError } from '@berth/config';
import { gatewayTarget, loadAgentConfig } from './config.js';

describe('the gateway address', () => {
  it('keeps a single address or DNS name as it is', () => {
    expect(gatewayTarget('127.0.0.1:8443')).toBe('127.0.0.1:8443');
    expect(gatewayTarget('gateways.berth.internal:8443')).toBe('gateways.berth.internal:8443');
  });

  it('turns a list of replicas into one target that fails over between them', () => {
    expect(gatewayTarget('10.0.0.5:8443, 10.0.0.6:8443')).toBe('ipv4:10.0.0.5:8443,10.0.0.6:8443');
  });

  it('refuses a list of host names, saying what to do instead', () => {
    expect(() => gatewayTarget('a.example:8443,b.example:8443')).toThrow(/one DNS name/);
  });

  it('is read from BERTH_GATEWAY when no flag is given', () => {
    const config = loadAgentConfig([], { BERTH_GATEWAY: '127.0.0.1:1,127.0.0.1:2' });
    expect(config.gateway).toBe('ipv4:127.0.0.1:1,127.0.0.1:2');
  });

  it('is a configuration error, not a crash, when malformed', () => {
    expect(() => loadAgentConfig(['--gateway', 'x:1,y:2'], {})).toThrow(ConfigError);
  });
});

describe("the host's policy", () => {
  it('refuses privileged containers, host networking and host paths by default, and limits pids', () => {
    expect(loadAgentConfig([], {}).hostPolicy).toEqual({
      allowPrivileged: false,
      allowHostNetwork: false,
      allowedHostPaths: [],
      pidsLimit: 4096,
    });
  });

  it('takes flags, then variables, with repeated and normalized host paths', () => {
    const flags = loadAgentConfig(
      [
        '--allow-privileged',
        '--allow-host-network',
        '--allowed-host-path',
        '/srv/data/',
        '--allowed-host-path',
        '/mnt//cache',
        '--pids-limit',
        '512',
      ],
      { BERTH_ALLOWED_HOST_PATHS: '/ignored' },
    );
    expect(flags.hostPolicy).toEqual({
      allowPrivileged: true,
      allowHostNetwork: true,
      allowedHostPaths: ['/srv/data', '/mnt/cache'],
      pidsLimit: 512,
    });
    const vars = loadAgentConfig([], {
      BERTH_ALLOW_PRIVILEGED: 'false',
      BERTH_ALLOW_HOST_NETWORK: 'true',
      BERTH_ALLOWED_HOST_PATHS: '/srv/a,/srv/b',
    });
    expect(vars.hostPolicy).toMatchObject({
      allowPrivileged: false,
      allowHostNetwork: true,
      allowedHostPaths: ['/srv/a', '/srv/b'],
    });
  });

  it.each([
    [['--allowed-host-path', 'srv'], /--allowed-host-path srv: must be an absolute host path/],
    [['--allowed-host-path', '/'], /would allow every host path/],
    [['--allowed-host-path', '/etc/app'], /within \/etc.*would allow nothing/],
    [['--pids-limit', '0'], /--pids-limit: must be a positive integer/],
  ])('stops on %j', (argv, message) => {
    expect(() => loadAgentConfig(argv, {})).toThrow(message);
  });

  it('stops on a variable that is not true or false', () => {
    expect(() => loadAgentConfig([], { BERTH_ALLOW_PRIVILEGED: 'yes' })).toThrow(ConfigError);
  });

  it('reads the join token from its flag or variable, naming the bad part', () => {
    const token = `berth1.0123456789abcdef.${'f'.repeat(32)}.${'a'.repeat(64)}`;
    expect(loadAgentConfig(['--join-token', token], {}).joinToken).toEqual({
      id: '0123456789abcdef',
      secret: 'f'.repeat(32),
      caHash: 'a'.repeat(64),
    });
    expect(loadAgentConfig([], { BERTH_JOIN_TOKEN: token }).joinToken?.id).toBe('0123456789abcdef');
    expect(loadAgentConfig([], {}).joinToken).toBeUndefined();
    expect(() => loadAgentConfig(['--join-token', 'berth1.x.y.z'], {})).toThrow(
      /^--join-token: the id must be/,
    );
  });
});
