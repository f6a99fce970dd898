import { adaptiveLoader } from './batching.js';

/** Batches as the agent server makes them: at once when idle, gathered while one is written. */

function loader(writeMs: number, windowMs: number) {
  const batches: number[][] = [];
  const load = adaptiveLoader<number, number>(
    async (keys) => {
      batches.push([...keys]);
      await new Promise((r) => setTimeout(r, writeMs));
      return [...keys];
    },
    { windowMs, maxBatchSize: 500 },
  );
  return { batches, load };
}

it('writes a lone key at the next turn of the event loop, without waiting for a window', async () => {
  // A window longer than the test may take: waiting for it would time the test out.
  const { batches, load } = loader(0, 60_000);
  expect(await load.load(1)).toBe(1);
  expect(batches).toEqual([[1]]);
});

it('keys of one tick go together; while a batch is written, the next ones gather for the window', async () => {
  const { batches, load } = loader(10, 50);
  const first = Promise.all([load.load(1), load.load(2)]);
  await new Promise((r) => setImmediate(r));
  // The first batch is being written now: these three wait and go as one.
  const later = [load.load(3)];
  await new Promise((r) => setTimeout(r, 5));
  later.push(load.load(4), load.load(5));
  await Promise.all([first, ...later]);
  expect(batches).toEqual([
    [1, 2],
    [3, 4, 5],
  ]);
});
