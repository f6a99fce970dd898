import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import { flags, log, runBenchmark, startGateway } from '../lib/harness.js';

/**
 * The API's latency at a fixed rate, against a cluster holding `--tasks` tasks (10,000): an
 * api-gateway alone (no scheduler, no agents, so the tasks stay PROVISIONING) with the tasks
 * written by RunTask and one service. autocannon then asks, one call kind after the other, at
 * `--rate` requests per second over `--connections` keep-alive connections for `--seconds` each:
 *
 * - DescribeTasks: GET of one task, cycling over every task;
 * - ListTasks: GET of the cluster's tasks (a page of 100, ECS's largest, with full task views);
 * - DescribeServices: GET of the service.
 *
 * Each gets its rate served, p50, p99 and maximum latency and its errors (non-2xx, timeouts).
 * The goal: p99 at most 20 ms at 500 requests per second, no errors.
 *
 *   pnpm bench:api -- --rate 500 --seconds 20
 */

const opts = flags(process.argv.slice(2), { rate: 500, connections: 20, seconds: 20, tasks: 10_000 });
await runBenchmark('api', async ({ databaseUrl, processes }) => {
  const { api, headers } = await startGateway(processes, databaseUrl, 'api');
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
  await post('/v1/clusters/default/services', {
    serviceName: 'web',
    taskDefinition: 'bench',
    desiredCount: 0,
  });

  log(`writing ${opts.tasks} tasks`);
  const ids: string[] = [];
  let asked = 0;
  const writer = async () => {
    while (asked < opts.tasks) {
      const count = Math.min(10, opts.tasks - asked);
      asked += count;
      const { tasks } = await post('/v1/clusters/default/tasks', {
        taskDefinition: 'bench',
        count,
        clientToken: randomUUID(),
      });
      for (const t of tasks!) ids.push(t.taskArn.split('/').pop()!);
    }
  };
  await Promise.all(Array.from({ length: 8 }, writer));

  let next = 0;
  const calls: [string, autocannon.Request[]][] = [
    [
      'describeTasks',
      // One request that names the next task each time: a list of 10,000 prepared requests took
      // autocannon itself about 0.1 s per connection to set up, and that stall (2 s over 20
      // connections, in the load generator's own event loop) was counted as the API's latency.
      [
        {
          method: 'GET',
          path: '/',
          setupRequest: (req: object) => ({
            ...req,
            path: `/v1/clusters/default/tasks/${ids[next++ % ids.length]}`,
          }),
        },
      ],
    ],
    [
      'listTasks',
      [{ method: 'GET', path: '/v1/clusters/default/tasks?desiredStatus=RUNNING&maxResults=100' }],
    ],
    ['describeServices', [{ method: 'GET', path: '/v1/clusters/default/services/web' }]],
  ];
  const figures: Record<string, unknown> = {
    tasks: ids.length,
    rate: opts.rate,
    connections: opts.connections,
    seconds: opts.seconds,
  };
  let ok = true;
  for (const [name, requests] of calls) {
    log(`${opts.seconds} s of ${name} at ${opts.rate}/s over ${opts.connections} connections`);
    const r = await autocannon({
      url: api,
      connections: opts.connections,
      overallRate: opts.rate,
      duration: opts.seconds,
      headers,
      requests,
    });
    const errors = r.non2xx + r.errors + r.timeouts;
    figures[name] = {
      requestsPerSecond: Math.round(r.requests.average),
      p50Ms: r.latency.p50,
      p99Ms: r.latency.p99,
      maxMs: r.latency.max,
      errors,
    };
    ok &&= errors === 0;
  }
  return { figures, ok };
});
