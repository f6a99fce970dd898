import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { z } from '@berth/config';

export { Counter, Gauge, Histogram, Registry };

/**
 * Each app's default metrics port, so that one machine can run one of each without settings.
 * Several replicas of one app on one machine need their own ports (or 0, a free port).
 */
export const METRICS_PORTS = {
  'api-gateway': 9400,
  scheduler: 9401,
  'deployment-controller': 9402,
  'load-balancer': 9403,
  'host-agent': 9404,
} as const;

/** The settings of an app's metrics listener (docs/configuration.md, docs/observability.md). */
export function metricsEnv(app: keyof typeof METRICS_PORTS) {
  return {
    /** Loopback by default: the listener has no authentication (docs/security.md). */
    BERTH_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
    /** 0 picks a free port, which is logged at start. */
    BERTH_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(METRICS_PORTS[app]),
  };
}

/** A registry of the app's own, with Node's process metrics (CPU, memory, event loop, GC). */
export function createRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** Seconds between a start taken with `process.hrtime.bigint()` and now. */
export function secondsSince(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/** Latency buckets, in seconds, for requests, reconciles and placements: 1 ms to 30 s. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** The jobs of one BullMQ queue by state, read when scraped. */
export interface QueueDepth {
  queue: string;
  counts: () => Promise<Record<string, number>>;
}

/**
 * `berth_queue_jobs{queue, state}`: jobs waiting, delayed, active and failed in the app's queues,
 * read from Redis at each scrape. A scrape while Redis is away shows none rather than failing.
 */
export function registerQueueDepth(registry: Registry, queues: QueueDepth[]): void {
  new Gauge({
    name: 'berth_queue_jobs',
    help: 'Jobs in a BullMQ queue by state, read from Redis when scraped',
    labelNames: ['queue', 'state'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const q of queues) {
        const counts = await q.counts().catch(() => ({}) as Record<string, number>);
        for (const [state, count] of Object.entries(counts)) this.set({ queue: q.queue, state }, count);
      }
    },
  });
}

export interface MetricsServer {
  /** The port it listens on (the one chosen when asked for 0). */
  port: number;
  close(): Promise<void>;
}

/**
 * Serves `GET /metrics` in Prometheus' text format on its own listener, apart from any API port,
 * with no authentication: bind it where only the scraper can reach it.
 */
export async function serveMetrics(registry: Registry, host: string, port: number): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('only /metrics is served here\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('GET only\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (err: unknown) =>
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`could not collect: ${String(err)}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new Error(
          `metrics listener ${host}:${port}: ${err.code === 'EADDRINUSE' ? 'the port is in use' : err.message} (BERTH_METRICS_HOST, BERTH_METRICS_PORT)`,
        ),
      ),
    );
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
