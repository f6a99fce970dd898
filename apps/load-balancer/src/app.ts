import type { Logger } from '@berth/config';
import { listenerProblem, type LoadBalancerState } from './desired-state.js';
import { configStructure, renderConfig, type RenderOptions } from './haproxy-config.js';
import { Haproxy, haproxyPaths } from './haproxy-process.js';
import { targetGroupRequests, targetHealth, type HealthSink, type RequestCountSink } from './health.js';
import { planServers, type ServerCommand } from './reconcile.js';
import type { RuntimeApi } from './runtime-api.js';
import type { StateSource } from './state-source.js';
import { LoadBalancerMetrics } from './metrics.js';
import { secondsSince } from '@berth/metrics';

export interface LoadBalancerOptions {
  /** This process's id: the `reporter` of its `target_health` rows. */
  id: string;
  /** The load balancer's name. */
  loadBalancer: string;
  bindAddress: string;
  runDir: string;
  intervalMs: number;
  haproxyBinary?: string;
  source: StateSource;
  health: HealthSink;
  /** Where each target group's request count is sampled to, every `requestSampleMs`; none: not sampled. */
  requests?: RequestCountSink;
  requestSampleMs?: number;
  logger: Logger;
  now?: () => Date;
  metrics?: LoadBalancerMetrics;
}

/**
 * Health is written when it changes, and at least this often or once per health-check interval,
 * whichever is shorter (`reported_at` shows the reporter lives; the control plane counts a report
 * as current for three intervals).
 */
export const HEALTH_REFRESH_MS = 10_000;

/** How often request counts are sampled by default (ALBRequestCountPerTarget's windows are 60 s and more). */
export const REQUEST_SAMPLE_MS = 5_000;

export interface LoadBalancerApp {
  haproxy: Haproxy;
  /** One pass: read, (re)start or reload HAProxy, change servers, report health. */
  tick(): Promise<void>;
  close(opts?: { stopProxy?: boolean }): Promise<void>;
}

/**
 * The data plane: one HAProxy beside this process, level-triggered towards the load balancer's
 * desired state every `intervalMs` and at start.
 */
export async function startLoadBalancer(opts: LoadBalancerOptions): Promise<LoadBalancerApp> {
  const { logger } = opts;
  const now = opts.now ?? (() => new Date());
  const metrics = opts.metrics ?? new LoadBalancerMetrics();
  const paths = haproxyPaths(opts.runDir);
  const haproxy = new Haproxy(paths, logger, opts.haproxyBinary);
  const render: RenderOptions = {
    bindAddress: opts.bindAddress,
    adminSocket: paths.adminSocket,
    serverStateFile: paths.serverStateFile,
  };
  /** The structure (config without servers) the running worker has; null before start or adoption. */
  let applied: string | null = null;
  let firstPass = true;
  let lastHealth = '';
  let lastHealthAt = 0;
  let missingLogged = false;
  let lastRequestsAt = 0;

  async function tick(): Promise<void> {
    const loaded = await opts.source.load(opts.loadBalancer);
    if (!loaded && !missingLogged)
      logger.warn({ loadBalancer: opts.loadBalancer }, 'no such load balancer: serving nothing');
    missingLogged = !loaded;
    const desired: LoadBalancerState = loaded ?? { name: opts.loadBalancer, listeners: [], targetGroups: [] };
    const structure = configStructure(desired, render);

    if (firstPass) {
      firstPass = false;
      // An HAProxy of an earlier run still serving: keep it (no connection is cut) and reload it
      // once below, since its file may not be what it loaded.
      if (await haproxy.adopt()) applied = '(adopted)';
    }
    if (!haproxy.isAlive()) {
      if (applied !== null) logger.warn('HAProxy is gone: starting it again');
      applied = null;
      await haproxy.start(renderConfig(desired, render));
      metrics.haproxyRestarts.inc({ kind: 'start' });
      applied = structure;
    } else if (applied !== structure) {
      for (const listener of desired.listeners) {
        const problem = listenerProblem(desired, listener);
        if (problem) logger.warn({ port: listener.port, problem }, 'listener not served');
      }
      await haproxy.reload(renderConfig(desired, render));
      metrics.haproxyRestarts.inc({ kind: 'reload' });
      applied = structure;
    }

    let runtime = await haproxy.api.snapshot();
    const commands = planServers(desired, runtime, now());
    if (commands.length > 0) {
      for (const command of commands)
        metrics.serverChanges.inc({
          kind: command.kind,
          outcome: (await apply(haproxy.api, command, logger)) ? 'applied' : 'deferred',
        });
    }
    // Sessions in old workers count too: a drain is not over while a replaced worker still
    // serves a request on the target.
    runtime = await haproxy.snapshot();

    const health = targetHealth(desired, runtime);
    metrics.observeHealth(health);
    const key = JSON.stringify(health);
    // The control plane ignores reports older than three health-check intervals: refresh sooner.
    const refreshMs = Math.min(
      HEALTH_REFRESH_MS,
      ...desired.targetGroups.map((g) => g.healthCheck.intervalSeconds * 1000),
    );
    if (key !== lastHealth || Date.now() - lastHealthAt >= refreshMs) {
      await opts.health.report(opts.id, health);
      lastHealth = key;
      lastHealthAt = Date.now();
    }
    if (opts.requests && Date.now() - lastRequestsAt >= (opts.requestSampleMs ?? REQUEST_SAMPLE_MS)) {
      await opts.requests.report(opts.id, targetGroupRequests(desired, runtime));
      lastRequestsAt = Date.now();
    }
  }

  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let closed = false;
  const timedTick = async () => {
    const start = process.hrtime.bigint();
    try {
      await tick();
    } catch (err) {
      metrics.passErrors.inc();
      throw err;
    } finally {
      metrics.pass.observe(secondsSince(start));
    }
  };
  const loop = () => {
    running = timedTick()
      .catch((err: unknown) => logger.error({ err }, 'load balancer pass failed; retrying'))
      .finally(() => {
        if (!closed) timer = setTimeout(loop, opts.intervalMs);
      });
  };
  loop();
  await running;
  logger.info({ loadBalancer: opts.loadBalancer, id: opts.id, pid: haproxy.pid }, 'load balancer started');

  return {
    haproxy,
    tick: () => (running = running.then(tick)),
    close: async ({ stopProxy = false } = {}) => {
      closed = true;
      clearTimeout(timer);
      await running.catch(() => undefined);
      if (stopProxy) await haproxy.stop();
    },
  };
}

/** Applies one planned change; false when it failed, which is logged and left to the next pass. */
async function apply(api: RuntimeApi, c: ServerCommand, logger: Logger): Promise<boolean> {
  try {
    switch (c.kind) {
      case 'add':
        await api.addServer(c.backend, c.server, c.address, c.options);
        await api.admitWhenHealthy(c.backend, c.server, c.weight);
        logger.info({ backend: c.backend, server: c.server, address: c.address }, 'target added');
        return true;
      case 'ready':
        await api.enableServer(c.backend, c.server);
        return true;
      case 'drain':
        await api.setState(c.backend, c.server, 'drain');
        logger.info({ backend: c.backend, server: c.server }, 'target draining');
        return true;
      case 'remove':
        await api.setState(c.backend, c.server, 'maint');
        if (c.force) await api.shutdownSessions(c.backend, c.server);
        await api.deleteServer(c.backend, c.server);
        logger.info({ backend: c.backend, server: c.server, reason: c.reason }, 'target removed');
        return true;
    }
  } catch (err) {
    // A server with sessions left cannot be deleted yet: it stays in maintenance until they end.
    logger[c.kind === 'remove' ? 'debug' : 'warn']({ err, command: c }, 'runtime change not applied yet');
    return false;
  }
}
