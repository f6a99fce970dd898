import { createLogger, runMain } from '@berth/config';
import { createPrisma } from '@berth/db';
import { loadLoadBalancerConfig } from './config.js';
import { startLoadBalancer } from './app.js';
import { DbHealthSink, DbRequestCountSink, DbStateSource } from './db-state.js';
import { LoadBalancerMetrics } from './metrics.js';
import { serveMetrics } from '@berth/metrics';

runMain('load-balancer', async () => {
  const config = loadLoadBalancerConfig();
  const db = createPrisma(config.DATABASE_URL, { poolSize: 2 });
  const logger = createLogger('load-balancer', config.BERTH_LOG_LEVEL);
  const metrics = new LoadBalancerMetrics();
  const server = await serveMetrics(metrics.registry, config.BERTH_METRICS_HOST, config.BERTH_METRICS_PORT);
  logger.info({ metrics: `${config.BERTH_METRICS_HOST}:${server.port}` }, 'metrics listening');
  const lb = await startLoadBalancer({
    id: config.id,
    loadBalancer: config.BERTH_LOAD_BALANCER,
    bindAddress: config.BERTH_LB_BIND,
    runDir: config.runDir,
    intervalMs: config.BERTH_LB_INTERVAL_MS,
    haproxyBinary: config.BERTH_HAPROXY_BIN,
    source: new DbStateSource(db),
    health: new DbHealthSink(db),
    requests: new DbRequestCountSink(db),
    requestSampleMs: config.BERTH_LB_REQUEST_SAMPLE_MS,
    logger,
    metrics,
  });
  // SIGTERM stops HAProxy softly (open requests finish); SIGKILL leaves it serving, and the next
  // start adopts it.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(
      signal,
      () =>
        void lb
          .close({ stopProxy: true })
          .then(() => db.$disconnect())
          .then(() => process.exit(0)),
    );
  }
});
