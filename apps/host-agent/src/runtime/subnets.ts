/**
 * Task networks get their subnets from a pool of the agent's own: Docker's default pools hold
 * only about 30 networks, far fewer than the tasks a host runs. A pool is an IPv4 CIDR cut into
 * /28 blocks (14 addresses: enough for the 10 containers a task may have).
 */
export const TASK_SUBNET_PREFIX = 28;

export interface SubnetPool {
  base: number;
  size: number;
  cidr: string;
}

const toInt = (ip: string) => ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
const toIp = (n: number) => [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');

/** Parses `10.234.0.0/16`; null when it is not an IPv4 CIDR that holds at least one /28. */
export function parseSubnetPool(cidr: string): SubnetPool | null {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr.trim());
  if (!match) return null;
  const octets = match.slice(1, 5).map(Number);
  const prefix = Number(match[5]);
  if (octets.some((o) => o > 255) || prefix > TASK_SUBNET_PREFIX || prefix < 8) return null;
  const blockSize = 2 ** (32 - prefix);
  const base = toInt(octets.join('.'));
  if (base % blockSize !== 0) return null;
  return { base, size: blockSize / 2 ** (32 - TASK_SUBNET_PREFIX), cidr: cidr.trim() };
}

/**
 * The subnets to try for a task, in order: from a slot picked by the task id, onwards. The same
 * task always tries the same ones first, so a retried create lands where the first one did.
 */
export function* subnetCandidates(pool: SubnetPool, taskId: string, attempts: number): Generator<string> {
  let hash = 0;
  for (const ch of taskId) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  for (let i = 0; i < Math.min(attempts, pool.size); i++) {
    const slot = (hash + i) % pool.size;
    yield `${toIp(pool.base + slot * 2 ** (32 - TASK_SUBNET_PREFIX))}/${TASK_SUBNET_PREFIX}`;
  }
}
