import { parseSubnetPool, subnetCandidates } from './subnets.js';

describe('the task subnet pool', () => {
  it('cuts a CIDR into /28 blocks', () => {
    expect(parseSubnetPool('10.234.0.0/16')).toMatchObject({ size: 4096 });
    expect(parseSubnetPool('192.168.50.0/24')).toMatchObject({ size: 16 });
  });

  it.each(['10.234.0.1/16', '10.0.0.0/30', '300.0.0.0/16', 'fd00::/64', '10.0.0.0'])('refuses %s', (bad) => {
    expect(parseSubnetPool(bad)).toBeNull();
  });

  it('offers distinct subnets inside the pool, starting from the same one for the same task', () => {
    const pool = parseSubnetPool('192.168.50.0/24')!;
    const first = [...subnetCandidates(pool, 'task-a', 100)];
    expect(first).toHaveLength(16);
    expect(new Set(first).size).toBe(16);
    for (const s of first) expect(s).toMatch(/^192\.168\.50\.(\d+)\/28$/);
    expect([...subnetCandidates(pool, 'task-a', 3)]).toEqual(first.slice(0, 3));
  });
});
