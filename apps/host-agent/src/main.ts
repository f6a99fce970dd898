import { createLogger, runMain } from '@berth/config';
import { loadAgentConfig } from './config.js';
import { loadOrCreateInstanceId } from './instance-id.js';
import { ControlPlaneConnection } from './connection.js';
import { DockerRuntime } from './runtime/docker-runtime.js';
import { TaskEngine } from './task-engine.js';

const RESYNC_MS = 10_000;

runMain('host-agent', async () => {
  const config = loadAgentConfig();
  const instanceId = await loadOrCreateInstanceId(config.dataDir);
  const logger = createLogger('host-agent', config.logLevel).child({
    instance: instanceId,
    cluster: config.cluster,
  });
  const runtime = new DockerRuntime(logger);
  const connection = new ControlPlaneConnection(config, instanceId, () => engine, logger);
  const engine = new TaskEngine(runtime, instanceId, config.hostAddress, (r) => connection.send(r), logger);

  // Adopt what runs before registering, so the control plane hears about it at once.
  await engine.adopt();
  const unwatch = runtime.watch(instanceId, (id) => {
    engine
      .onContainerChange(id)
      .catch((err: unknown) => logger.warn({ err, runtimeId: id }, 'could not inspect container'));
  });
  const resync = setInterval(() => {
    engine.resync().catch((err: unknown) => logger.warn({ err }, 'resync failed'));
  }, RESYNC_MS);
  connection.start();
  logger.info(
    { gateway: config.gateway, hostAddress: config.hostAddress, cpu: config.cpu, memory: config.memory },
    'host-agent started',
  );

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    // Stopping the agent leaves its containers running; a new agent adopts them.
    process.once(signal, () => {
      clearInterval(resync);
      unwatch();
      connection.close();
      process.exit(0);
    });
  }
});
