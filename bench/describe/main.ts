import autocannon from 'autocannon';
import { flags, log, runBenchmark, startGateway } from '../lib/harness.js';

/**
 * DescribeTasks latency at a fixed rate: an api-gateway alone (no scheduler, no agents) with
 * `--tasks` tasks written by RunTask, asked for them one at a time (GET of a task, which is
 * DescribeTasks of one task) by autocannon at `--rate` requests per second over `--connections`
 * keep-alive connections for `--seconds`. The goal: a 20 ms API at 500 requests per second.
 *
 *   pnpm bench:describe -- --rate 500 --connections 20 --seconds 15
 */

const opts = flags(process.argv.slice(2), { rate: 500, connections: 20, seconds: 15, tasks: 100 });
await runBenchmark('describe', async ({ databaseUrl, processes }) => {
  const { api, headers } = await startGateway(processes, databaseUrl, 'describe');
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${api}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
    return res.json() as Promise<{ tasks?: { taskArn: string }[] }>;
  };
  await post('/v1/task-definitions', {
    family: 'bench',
    containerDefinitions: [
      { name: 'app', image: 'berth/busybox', cpu: 128, memory: 256, portMappings: [{ containerPort: 80 }] },
    ],
  });
  const ids: string[] = [];
  while (ids.length < opts.tasks) {
    const { tasks } = await post('/v1/clusters/default/tasks', {
      taskDefinition: 'bench',
      count: Math.min(10, opts.tasks - ids.length),
    });
    for (const t of tasks!) ids.push(t.taskArn.split('/').pop()!);
  }

  log(`${opts.seconds} s of DescribeTasks at ${opts.rate}/s over ${opts.connections} connections`);
  const r = await autocannon({
    url: api,
    connections: opts.connections,
    overallRate: opts.rate,
    duration: opts.seconds,
    headers,
    requests: ids.map((id) => ({ method: 'GET', path: `/v1/clusters/default/tasks/${id}` })),
  });
  const figures = {
    rate: opts.rate,
    connections: opts.connections,
    seconds: opts.seconds,
    requestsPerSecond: Math.round(r.requests.average),
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    maxMs: r.latency.max,
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
  };
  return { figures, ok: figures.non2xx === 0 && figures.errors === 0 };
});
