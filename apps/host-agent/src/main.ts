import { join } from 'node:path';
import { createLogger, runMain, type Logger } from '@berth/config';
import { loadAgentConfig, type AgentConfig } from './config.js';
import { loadOrCreateInstanceId } from './instance-id.js';
import { loadOrJoin } from './join.js';
import { ControlPlaneConnection } from './connection.js';
import type { ContainerRuntime, ContainerSessions } from './runtime/container-runtime.js';
import { SessionServer } from './sessions.js';
import { DockerRuntime } from './runtime/docker-runtime.js';
import { HollowRuntime } from './runtime/hollow-runtime.js';
import { TaskNetworkPool } from './network-pool.js';
import { TaskEngine } from './task-engine.js';
import { mapLimited } from './map-limited.js';
import { HostPolicy } from './host-policy.js';
import { createRegistry, serveMetrics } from '@berth/metrics';
import { AgentMetrics, StatsSampler } from './stats-sampler.js';

const RESYNC_MS = 10_000;
const HOLLOW_JOINS_AT_ONCE = 32;

/** One agent: adopts what runs, watches the runtime, holds the stream to the control plane. */
async function startAgent(
  config: AgentConfig,
  runtime: ContainerRuntime,
  sessions: ContainerSessions | null,
  baseLogger: Logger,
  metrics: AgentMetrics,
): Promise<() => void> {
  const instanceId = await loadOrCreateInstanceId(config.dataDir);
  const logger = baseLogger.child({ instance: instanceId, cluster: config.cluster });
  const credentials = await loadOrJoin(config, instanceId, logger);
  const connection = new ControlPlaneConnection(
    config,
    instanceId,
    () => engine,
    logger,
    credentials,
    new SessionServer(sessions, instanceId, logger),
  );
  // One task network made ahead: a task's start does not wait for Docker to make one. Up to 8
  // removed tasks' networks are kept for later tasks rather than removed.
  const networks = new TaskNetworkPool(runtime, instanceId, logger, 1, 8);
  const engine = new TaskEngine(
    runtime,
    instanceId,
    config.hostAddress,
    new HostPolicy(config.hostPolicy),
    (r) => connection.send(r),
    logger,
    Date.now,
    undefined,
    config.taskCleanupWaitSeconds * 1000,
    networks,
  );

  // Adopt what runs before registering, so the control plane hears about it at once.
  await engine.adopt();
  networks.start().catch((err: unknown) => logger.warn({ err }, 'could not list free task networks'));
  const unwatch = runtime.watch(instanceId, (id) => {
    engine
      .onContainerChange(id)
      .catch((err: unknown) => logger.warn({ err, runtimeId: id }, 'could not inspect container'));
  });
  const resync = setInterval(() => {
    engine.resync().catch((err: unknown) => logger.warn({ err }, 'resync failed'));
  }, RESYNC_MS);
  metrics.watch(instanceId, { connected: () => connection.registered, tasks: () => engine.taskCounts() });
  const sampler = new StatsSampler(
    runtime,
    config.cluster,
    () => engine.runningContainers(),
    (tasks) => connection.sendStats(tasks),
    metrics,
    logger,
  );
  const sampling = setInterval(() => {
    sampler.sample().catch((err: unknown) => logger.warn({ err }, 'stats sampling failed'));
  }, config.statsIntervalMs);
  connection.start();
  logger.info(
    {
      gateway: config.gateway,
      hostAddress: config.hostAddress,
      cpu: config.cpu,
      memory: config.memory,
      runtime: config.runtime,
      hostPolicy: config.hostPolicy,
    },
    'host-agent started',
  );
  return () => {
    clearInterval(resync);
    clearInterval(sampling);
    unwatch();
    connection.close();
  };
}

/** Hollow agent i: its own data dir, a made-up host address and a zone, sharing one runtime. */
function hollowConfig(config: AgentConfig, i: number): AgentConfig {
  return {
    ...config,
    dataDir: join(config.dataDir, `hollow-${i}`),
    hostAddress: `127.${100 + Math.floor(i / 65536)}.${Math.floor(i / 256) % 256}.${i % 256}`,
    attributes: { ...config.attributes, zone: config.attributes.zone ?? `zone-${i % config.hollow.zones}` },
  };
}

runMain('host-agent', async () => {
  const config = loadAgentConfig();
  const logger = createLogger('host-agent', config.logLevel);
  const metrics = new AgentMetrics(createRegistry());
  const server = await serveMetrics(metrics.registry, config.metricsHost, config.metricsPort);
  logger.info({ metrics: `${config.metricsHost}:${server.port}` }, 'metrics listening');
  const stops: (() => void)[] = [];
  if (config.runtime === 'docker') {
    const docker = new DockerRuntime(logger, config.taskNetworkPool);
    stops.push(await startAgent(config, docker, docker, logger, metrics));
  } else {
    const runtime = new HollowRuntime(config.hollow);
    // Joined one after another, 5,000 hollow agents took minutes: each join waits on a TLS
    // handshake and the gateway's certificate, with the process idle in between.
    const indexes = Array.from({ length: config.count }, (_, i) => i);
    stops.push(
      ...(await mapLimited(indexes, HOLLOW_JOINS_AT_ONCE, (i) =>
        startAgent(hollowConfig(config, i), runtime, null, logger, metrics),
      )),
    );
  }
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    // Stopping the agent leaves its containers running; a new agent adopts them.
    process.once(signal, () => {
      for (const stop of stops) stop();
      process.exit(0);
    });
  }
});
