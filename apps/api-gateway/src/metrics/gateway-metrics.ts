import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Request } from 'express';
import {
  Counter,
  createRegistry,
  Gauge,
  Histogram,
  LATENCY_BUCKETS,
  secondsSince,
  serveMetrics,
  type MetricsServer,
  type Registry,
} from '@berth/metrics';
import { CONFIG, type GatewayConfig } from '../config.js';
import type { BerthRequest } from '../auth/request-context.js';
import { EcsActions } from '../ecs/ecs-actions.js';

/**
 * The gateway's Prometheus metrics (docs/observability.md), served on their own listener
 * (BERTH_METRICS_HOST:BERTH_METRICS_PORT), never on the API port.
 */
@Injectable()
export class GatewayMetrics implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly registry: Registry = createRegistry();
  private readonly requests = new Counter({
    name: 'berth_api_requests_total',
    help: 'API requests answered, by method, route pattern (or ECS action) and status code',
    labelNames: ['method', 'route', 'status'],
    registers: [this.registry],
  });
  private readonly latency = new Histogram({
    name: 'berth_api_request_duration_seconds',
    help: 'Time from a request arriving to its answer being sent, by method, route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  /** Agent streams held by this replica; summed over replicas, the connected agents. */
  readonly agentStreams = new Gauge({
    name: 'berth_gateway_agent_streams',
    help: 'Agent streams (connected agents) this gateway replica holds',
    registers: [this.registry],
  });
  readonly agentMessages = new Counter({
    name: 'berth_gateway_agent_messages_total',
    help: 'Messages received from agents, by kind (register, heartbeat, task_state, task_stats)',
    labelNames: ['kind'],
    registers: [this.registry],
  });
  readonly statsSamples = new Counter({
    name: 'berth_gateway_task_stats_samples_total',
    help: 'Task stats samples written to Postgres (one per task per agent report)',
    registers: [this.registry],
  });
  private server?: MetricsServer;

  constructor(
    @Inject(CONFIG) private readonly config: GatewayConfig,
    private readonly ecs: EcsActions,
  ) {}

  /** The port the metrics listener took (BERTH_METRICS_PORT, or the free one chosen for 0). */
  get port(): number {
    return this.server?.port ?? 0;
  }

  async onApplicationBootstrap(): Promise<void> {
    this.server = await serveMetrics(
      this.registry,
      this.config.BERTH_METRICS_HOST,
      this.config.BERTH_METRICS_PORT,
    );
  }

  async onApplicationShutdown(): Promise<void> {
    await this.server?.close();
  }

  /** Counts one answered request; called when its response has been sent. */
  observeRequest(req: Request, status: number, start: bigint): void {
    const labels = { method: req.method, route: this.routeOf(req as BerthRequest), status: String(status) };
    this.requests.inc(labels);
    this.latency.observe(labels, secondsSince(start));
  }

  /**
   * The route's pattern, never the raw URL, so the series stay few: `/v1/clusters/:cluster/tasks`;
   * on the ECS door the action (`ecs:RunTask`) when Berth offers it; `unmatched` for the rest.
   */
  private routeOf(req: BerthRequest): string {
    const pattern = (req.route as { path?: unknown } | undefined)?.path;
    if (req.berth?.protocol === 'ecs') {
      const name = req.berth.action?.replace(/^ecs:/, '');
      return name && this.ecs.offers(name) ? `ecs:${name}` : 'ecs:unknown';
    }
    if (typeof pattern === 'string') return pattern;
    return req.originalUrl.startsWith('/docs') ? '/docs' : 'unmatched';
  }
}
