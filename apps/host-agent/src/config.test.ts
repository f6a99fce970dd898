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
