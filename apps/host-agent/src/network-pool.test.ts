import { createLogger } from '@berth/config';
import { TaskNetworkPool } from './network-pool.js';
import type { ContainerRuntime } from './runtime/container-runtime.js';

/**
 * A runtime that only makes and removes networks, lists the free ones a previous run left, and
 * says a network is free unless `joined` names it.
 */
function fakeRuntime(left: string[] = []) {
  const made: { name: string; labels: Record<string, string> }[] = [];
  const removed: string[] = [];
  const joined = new Set<string>();
  let failing = false;
  const runtime = {
    async ensureNetwork(name: string, labels: Record<string, string>) {
      if (failing) throw new Error('docker is down');
      made.push({ name, labels });
    },
    async freeNetworks(instanceId: string) {
      return instanceId === 'i-1' ? left : [];
    },
    async isNetworkFree(name: string) {
      return !joined.has(name) && !removed.includes(name);
    },
    async removeNetwork(name: string) {
      removed.push(name);
    },
  } as unknown as ContainerRuntime;
  return { runtime, made, removed, joined, fail: (on: boolean) => (failing = on) };
}

const settle = () => new Promise((r) => setTimeout(r, 5));
const logger = createLogger('t', 'silent');

it('keeps a network made ahead, so that a task takes one without waiting, and makes the next', async () => {
  const { runtime, made } = fakeRuntime();
  const pool = new TaskNetworkPool(runtime, 'i-1', logger, 1);
  await pool.start();
  await settle();
  expect(made).toHaveLength(1);
  expect(made[0]!.labels).toEqual({ 'berth.container-instance-id': 'i-1', 'berth.network-pool': 'true' });
  const first = await pool.take();
  expect(first).toBe(made[0]!.name);
  await settle();
  // The next one is made after the take, off the task's path.
  expect(made).toHaveLength(2);
  expect(await pool.take()).toBe(made[1]!.name);
});

it('takes back the free networks a previous run left before making any', async () => {
  const { runtime, made } = fakeRuntime(['berth-net-left1', 'berth-net-left2']);
  const pool = new TaskNetworkPool(runtime, 'i-1', logger, 1);
  await pool.start();
  await settle();
  expect(made).toEqual([]);
  expect([await pool.take(), await pool.take()]).toEqual(['berth-net-left1', 'berth-net-left2']);
});

it('with none ahead (or none made because Docker failed) a task gets a network made on the spot', async () => {
  const { runtime, made, fail } = fakeRuntime();
  const pool = new TaskNetworkPool(runtime, 'i-1', logger, 1);
  fail(true);
  await pool.start();
  await settle();
  await expect(pool.take()).rejects.toThrow('docker is down');
  fail(false);
  const name = await pool.take();
  expect(made.map((m) => m.name)).toContain(name);
  // Without spares, every network is made when asked.
  const lazy = fakeRuntime();
  const none = new TaskNetworkPool(lazy.runtime, 'i-1', logger, 0);
  await none.start();
  await settle();
  expect(lazy.made).toEqual([]);
  expect(await none.take()).toBe(lazy.made[0]!.name);
});

it('keeps removed tasks’ networks for later tasks, up to its limit, and removes the rest', async () => {
  const { runtime, made, removed, joined } = fakeRuntime();
  const pool = new TaskNetworkPool(runtime, 'i-1', logger, 0, 2);
  await pool.start();
  const [a, b, c, d] = [await pool.take(), await pool.take(), await pool.take(), await pool.take()];
  expect(made).toHaveLength(4);
  // Still joined by a container that could not be removed: never handed to another task.
  joined.add(d!);
  await pool.release(d!);
  for (const name of [a, b, c]) await pool.release(name!);
  expect(removed).toEqual([d, c]);
  // A network named after its task (before the pool) is always removed.
  await pool.release('berth-task-t1');
  expect(removed).toEqual([d, c, 'berth-task-t1']);
  // The next tasks take the kept ones, with no network made.
  expect([await pool.take(), await pool.take()]).toEqual([a, b]);
  expect(made).toHaveLength(4);
});
