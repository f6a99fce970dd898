import { spawn, type ChildProcess } from 'node:child_process';
import autocannon from 'autocannon';
import { freePort } from '@berth/testing';
import { flags, log, runBenchmark, startGateway, waitFor } from '../lib/harness.js';

/**
 * The load balancer's overhead: the same fixed-size answer from small node HTTP servers, asked
 * directly and through a listener of the load-balancer app's HAProxy (targets registered by hand,
 * health-checked). autocannon runs --seconds against each with --connections; ends with one JSON
 * line of requests per second and latencies for both.
 *
 *   pnpm bench:lb -- --seconds 10 --connections 20
 */

const opts = flags(process.argv.slice(2), { seconds: 10, connections: 20, targets: 2 });

const BACKEND = `
const http = require('node:http');
const body = Buffer.alloc(512, 'x');
http.createServer((req, res) => res.end(body)).listen(Number(process.argv[2]), process.argv[1]);
`;

await runBenchmark('lb', async ({ databaseUrl, processes, dataDir }) => {
  const { env, api, headers } = await startGateway(processes, databaseUrl, 'lb');
  const backends: ChildProcess[] = [];
  try {
    const targets = [];
    for (let i = 0; i < opts.targets; i++) {
      const host = `127.0.0.${41 + i}`;
      const port = await freePort();
      backends.push(spawn(process.execPath, ['-e', BACKEND, host, String(port)], { stdio: 'ignore' }));
      targets.push({ id: host, port });
    }
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${api}${path}`, { method, headers, body: JSON.stringify(body) });
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
      return res.json() as Promise<Record<string, unknown>>;
    };
    const group = (await call('POST', '/v1/target-groups', {
      name: 'bench-tg',
      protocol: 'HTTP',
      healthCheck: { path: '/', intervalSeconds: 5, timeoutSeconds: 2, healthyThresholdCount: 2 },
    })) as { targetGroup: { targetGroupArn: string } };
    const listenerPort = await freePort();
    await call('POST', '/v1/load-balancers', {
      name: 'bench',
      listeners: [
        { port: listenerPort, protocol: 'HTTP', defaultTargetGroupArn: group.targetGroup.targetGroupArn },
      ],
    });
    await call('POST', '/v1/target-groups/bench-tg/targets', { targets });
    processes.start(
      'load-balancer',
      'apps/load-balancer/dist/main.js',
      ['--load-balancer', 'bench', '--bind', '127.0.0.1', '--id', 'bench-lb', '--run-dir', `${dataDir}/lb`],
      env,
    );
    await waitFor(
      'every target healthy',
      async () => {
        const health = (await call('GET', '/v1/target-groups/bench-tg/health')) as {
          targetHealthDescriptions: { targetHealth: { state: string } }[];
        };
        return health.targetHealthDescriptions.length === targets.length &&
          health.targetHealthDescriptions.every((t) => t.targetHealth.state === 'healthy')
          ? true
          : undefined;
      },
      60_000,
      500,
    );
    const listener = `http://127.0.0.1:${listenerPort}/`;
    await waitFor('the listener', async () => ((await fetch(listener)).ok ? true : undefined), 30_000);

    const load = async (url: string) => {
      log(`${opts.seconds} s against ${url}`);
      const r = await autocannon({ url, connections: opts.connections, duration: opts.seconds });
      return {
        requestsPerSecond: Math.round(r.requests.average),
        p50Ms: r.latency.p50,
        p99Ms: r.latency.p99,
        non2xx: r.non2xx,
        errors: r.errors + r.timeouts,
      };
    };
    const direct = await load(`http://${targets[0]!.id}:${targets[0]!.port}/`);
    const through = await load(listener);
    return {
      figures: { connections: opts.connections, seconds: opts.seconds, direct, throughLoadBalancer: through },
      ok: through.non2xx === 0 && through.errors === 0,
    };
  } finally {
    for (const b of backends) b.kill();
  }
});
