import DataLoader from 'dataloader';

/**
 * A DataLoader whose batch window costs nothing when idle: a batch is written at the next turn of
 * the event loop when none is being written, and waits `windowMs` to gather more only while one
 * is (under load, where batching pays). A lone report or command does not wait behind a timer.
 */
export function adaptiveLoader<K, V>(
  load: (keys: readonly K[]) => Promise<V[]>,
  opts: { windowMs: number; maxBatchSize: number },
): DataLoader<K, V> {
  let inFlight = 0;
  return new DataLoader<K, V>(
    async (keys) => {
      inFlight++;
      try {
        return await load(keys);
      } finally {
        inFlight--;
      }
    },
    {
      cache: false,
      maxBatchSize: opts.maxBatchSize,
      batchScheduleFn: (run) => {
        if (inFlight > 0) setTimeout(run, opts.windowMs);
        else setImmediate(run);
      },
    },
  );
}
