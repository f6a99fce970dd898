import { instanceAttributes } from '@berth/domain';
import { planPlacements, seededRandom } from './place.js';
import { parseConstraints, parseStrategies } from './placement-spec.js';
import { instance as baseInstance, task as baseTask } from './testing/builders.js';
import type { InstanceSnapshot, TaskToPlace } from './types.js';

/** Instances as the snapshot builders make them: the agent's attributes through instanceAttributes. */
const instance = (id: string, agent: Record<string, string>): InstanceSnapshot =>
  baseInstance(id, {
    registeredCpu: 4096,
    registeredMemory: 4096,
    attributes: instanceAttributes({ attributes: agent, apiAttributes: {} }),
  });

const task = (id: string, constraints: unknown[], strategy: unknown[]): TaskToPlace =>
  baseTask(id, {
    cpu: 128,
    memory: 128,
    group: 'service:web',
    constraints: parseConstraints(constraints),
    strategies: parseStrategies(strategy) ?? [],
  });

describe('placement with ECS attribute names copied from ECS task definitions and services', () => {
  const hosts = [
    instance('a1', { os: 'linux', arch: 'x86_64', zone: 'eu-1a' }),
    instance('a2', { os: 'linux', arch: 'x86_64', zone: 'eu-1a' }),
    instance('b1', { os: 'linux', arch: 'x86_64', zone: 'eu-1b' }),
    instance('arm', { os: 'linux', arch: 'arm64', zone: 'eu-1b' }),
  ];

  it('memberOf on ecs.cpu-architecture and ecs.os-type selects the hosts Berth knows by arch and os', () => {
    const memberOf = [
      {
        type: 'memberOf',
        expression: 'attribute:ecs.cpu-architecture == arm64 and attribute:ecs.os-type == linux',
      },
    ];
    const plan = planPlacements(
      hosts,
      ['1', '2', '3'].map((id) => task(id, memberOf, [{ type: 'random' }])),
      seededRandom(3),
    );
    expect(plan.placements.map((p) => p.instanceId)).toEqual(['arm', 'arm', 'arm']);
  });

  it('memberOf with in over ecs.availability-zone uses the zone attribute', () => {
    const memberOf = [{ type: 'memberOf', expression: 'attribute:ecs.availability-zone in [eu-1a]' }];
    const plan = planPlacements(hosts, [task('1', memberOf, [{ type: 'random' }])], seededRandom(1));
    expect(['a1', 'a2']).toContain(plan.placements[0]!.instanceId);
  });

  it('spread over attribute:ecs.availability-zone balances the zones', () => {
    const spread = [{ type: 'spread', field: 'attribute:ecs.availability-zone' }];
    const plan = planPlacements(
      hosts,
      ['1', '2', '3', '4'].map((id) => task(id, [], spread)),
      seededRandom(5),
    );
    const zone = (id: string) => hosts.find((h) => h.id === id)!.attributes['ecs.availability-zone'];
    const perZone = plan.placements.reduce<Record<string, number>>((n, p) => {
      const z = zone(p.instanceId)!;
      n[z] = (n[z] ?? 0) + 1;
      return n;
    }, {});
    expect(perZone).toEqual({ 'eu-1a': 2, 'eu-1b': 2 });
  });
});
