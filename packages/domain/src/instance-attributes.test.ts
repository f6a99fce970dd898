import { ecsAttributeAliases, instanceAttributes } from './instance-attributes.js';

describe('ECS attribute names on instances', () => {
  it('gives each Berth attribute its ECS name too', () => {
    expect(
      ecsAttributeAliases({
        os: 'linux',
        arch: 'x86_64',
        zone: 'eu-1a',
        'instance-type': 'm5.large',
        'ami-id': 'ami-123',
        rack: 'r1',
      }),
    ).toEqual({
      'ecs.os-type': 'linux',
      'ecs.os-family': 'LINUX',
      'ecs.cpu-architecture': 'x86_64',
      'ecs.availability-zone': 'eu-1a',
      'ecs.instance-type': 'm5.large',
      'ecs.ami-id': 'ami-123',
    });
  });

  it('speaks ECS values: windows for win32, x86_64 for x64, arm64 as is', () => {
    expect(ecsAttributeAliases({ os: 'win32', arch: 'x64' })).toMatchObject({
      'ecs.os-type': 'windows',
      'ecs.cpu-architecture': 'x86_64',
    });
    expect(ecsAttributeAliases({ arch: 'arm64' })).toEqual({ 'ecs.cpu-architecture': 'arm64' });
  });

  it('derives nothing Berth does not know: no zone, no ecs.availability-zone', () => {
    expect(ecsAttributeAliases({ os: 'linux' })).not.toHaveProperty('ecs.availability-zone');
  });

  it('layers the agent, the aliases, then the API: an ECS name set on the agent or by PutAttributes wins', () => {
    expect(
      instanceAttributes({
        attributes: { zone: 'eu-1a', 'ecs.instance-type': 'own', 'instance-type': 'berth' },
        apiAttributes: { 'ecs.availability-zone': 'put' },
      }),
    ).toEqual({
      zone: 'eu-1a',
      'instance-type': 'berth',
      'ecs.instance-type': 'own',
      'ecs.availability-zone': 'put',
    });
  });
});
