import { runMain } from '@berth/config';
import { loadSchedulerConfig } from './config.js';
import { startScheduler } from './app.js';

runMain('scheduler', async () => {
  const scheduler = await startScheduler(loadSchedulerConfig());
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => void scheduler.close().then(() => process.exit(0)));
  }
});
