import { runMain } from '@berth/config';
import { loadControllerConfig } from './config.js';
import { startController } from './app.js';

runMain('deployment-controller', async () => {
  const controller = await startController(loadControllerConfig());
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => void controller.close().then(() => process.exit(0)));
  }
});
