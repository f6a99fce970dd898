import { randomUUID } from 'node:crypto';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { flags, log, percentile, runBenchmark, startGateway, waitFor } from '../lib/harness.js';

/**
 * The placement benchmark: a real control plane (api-gateway and N schedulers, as processes, on
 * Postgres and Redis) with hollow agents, fed RunTask requests. It measures placements per second
 * and the time from RunTask accepted (the task row written) to the task PENDING on an instance,
 * then checks that no instance is overcommitted. Ends with one JSON line of its figures.
 *
 *   pnpm bench:placement -- --instances 1000 --tasks 10000 --schedulers 1 [--gateways 2]
 */

// --backlog 1: submit every task first, then start the schedulers, to measure placement alone
// (its latency figures then include the wait for the schedulers and mean little).
const opts = flags(process.argv.slice(2), {
  instances: 1000,
  tasks: 10000,
  schedulers: 1,
  // BERTH_PLACEMENT_PARTITIONS: shares of a cluster's backlog placed in parallel (1: none).
  partitions: 1,
  // api-gateway replicas: the agents' streams and the RunTask requests are spread over them.
  gateways: 1,
  concurrency: 16,
  backlog: 0,
});
await runBenchmark('bench', async ({ databaseUrl, sql, processes, dataDir }) => {
  const { env, apis, headers, grpcAddresses, joinToken } = await startGateway(
    processes,
    databaseUrl,
    'bench',
    {
      // A thousand agents heartbeating every 2 s would be the benchmark; every 30 s keeps them alive.
      BERTH_HEARTBEAT_INTERVAL_MS: '30000',
      // Likewise their task stats: every 10 s from 5,000 hosts is 500 messages a second of telemetry.
      BERTH_STATS_INTERVAL_MS: '60000',
      BERTH_PLACEMENT_SWEEP_MS: '1000',
    },
    opts.gateways,
  );
  const api = apis[0]!;
  const startSchedulers = () => {
    for (let i = 0; i < opts.schedulers; i++)
      processes.start(`scheduler-${i + 1}`, 'apps/scheduler/dist/main.js', [], {
        ...env,
        BERTH_PLACEMENT_PARTITIONS: String(opts.partitions),
      });
  };
  if (!opts.backlog) startSchedulers();

  // Room for every task: 10,000 tasks of 128 CPU / 256 MiB on 1,000 hosts of 4 vCPU / 8 GiB fill a third.
  const perHost = Math.ceil(opts.tasks / opts.instances);
  const hostCpu = Math.max(4096, perHost * 128 * 2);
  const hostMemory = Math.max(8192, perHost * 256 * 2);
  // One process of hollow agents per replica, listing the replicas from its own first (as agents
  // configured with every replica would spread over them).
  for (const [k, first] of grpcAddresses.entries()) {
    const count =
      Math.floor(opts.instances / grpcAddresses.length) + (k < opts.instances % grpcAddresses.length ? 1 : 0);
    const rotated = [...grpcAddresses.slice(k), ...grpcAddresses.slice(0, k)];
    processes.start(
      grpcAddresses.length > 1 ? `hollow-agents-${k + 1}` : 'hollow-agents',
      'apps/host-agent/dist/main.js',
      [
        '--runtime',
        'hollow',
        '--count',
        String(count),
        '--gateway',
        rotated.length > 1 ? rotated.join(',') : first,
        '--join-token',
        joinToken,
        '--data-dir',
        join(dataDir, `agents-${k + 1}`),
        '--cpu',
        String(hostCpu),
        '--memory',
        String(hostMemory),
        '--start-latency-ms',
        process.env.BENCH_START_LATENCY_MS ?? '20',
      ],
      env,
    );
  }
  log(`waiting for ${opts.instances} hollow agents`);
  const joinStarted = Date.now();
  await waitFor(
    'every hollow agent to connect',
    async () => {
      const { rows } = await sql.query(
        `SELECT count(*)::int AS n FROM container_instance WHERE agent_connected`,
      );
      return rows[0].n === opts.instances ? true : undefined;
    },
    // Each join costs the gateway a certificate: allow 50 ms of it per agent, 2 minutes at least.
    Math.max(120_000, opts.instances * 50),
    500,
  );
  const joinSeconds = (Date.now() - joinStarted) / 1000;
  log(`${opts.instances} agents joined and connected in ${joinSeconds.toFixed(1)} s`);

  const td = await fetch(`${api}/v1/task-definitions`, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      family: 'bench',
      containerDefinitions: [
        { name: 'app', image: 'berth/busybox', cpu: 128, memory: 256, portMappings: [{ containerPort: 80 }] },
      ],
    }),
  });
  if (!td.ok) throw new Error(`RegisterTaskDefinition: ${td.status} ${await td.text()}`);

  log(`submitting ${opts.tasks} tasks with ${opts.concurrency} concurrent RunTask requests of up to 10`);
  const started = Date.now();
  let remaining = opts.tasks;
  let requests = 0;
  // Overload answers 503 with Retry-After; the client retries as the AWS SDKs do, with the same
  // clientToken, so a retry never runs the tasks twice.
  let retried503 = 0;
  const worker = async () => {
    while (remaining > 0) {
      const count = Math.min(10, remaining);
      remaining -= count;
      const body = JSON.stringify({ taskDefinition: 'bench', count, clientToken: randomUUID() });
      for (;;) {
        const res = await fetch(`${apis[requests++ % apis.length]}/v1/clusters/default/tasks`, {
          method: 'POST',
          headers,
          body,
        });
        if (res.status === 503) {
          retried503++;
          await res.text();
          await new Promise((r) => setTimeout(r, Number(res.headers.get('retry-after') ?? 1) * 1000));
          continue;
        }
        if (!res.ok) throw new Error(`RunTask: ${res.status} ${await res.text()}`);
        break;
      }
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  const submittedSeconds = (Date.now() - started) / 1000;
  log(`submitted in ${submittedSeconds.toFixed(1)} s; waiting for placement`);
  const { rows: clock } = await sql.query<{ now: Date }>('SELECT clock_timestamp() AS now');
  if (opts.backlog) startSchedulers();

  await waitFor(
    'every task to be placed',
    async () => {
      const { rows } = await sql.query(`SELECT count(*)::int AS n FROM task WHERE placed_at IS NULL`);
      return rows[0].n === 0 ? true : undefined;
    },
    600_000,
    250,
  );

  const { rows: latencies } = await sql.query<{ ms: number }>(
    `SELECT extract(epoch FROM (placed_at - created_at)) * 1000 AS ms FROM task ORDER BY 1`,
  );
  // Streaming: from the first task accepted to the last placed. Backlog: from the schedulers' start.
  const { rows: span } = await sql.query<{ seconds: number }>(
    opts.backlog
      ? `SELECT extract(epoch FROM (max(placed_at) - $1::timestamptz))::float8 AS seconds FROM task`
      : `SELECT extract(epoch FROM (max(placed_at) - min(created_at)))::float8 AS seconds FROM task`,
    opts.backlog ? [clock[0]!.now] : [],
  );
  const { rows: over } = await sql.query<{ n: number }>(`
    SELECT count(*)::int AS n FROM container_instance i
     WHERE i.reserved_cpu > i.registered_cpu OR i.reserved_memory > i.registered_memory
        OR i.reserved_cpu <> (SELECT coalesce(sum(cpu), 0) FROM task t WHERE t.container_instance_id = i.id AND t.holds_reservation)
        OR i.reserved_memory <> (SELECT coalesce(sum(memory), 0) FROM task t WHERE t.container_instance_id = i.id AND t.holds_reservation)`);
  const ms = latencies.map((r) => Number(r.ms));
  const seconds = Number(span[0]!.seconds);
  const figures = {
    instances: opts.instances,
    tasks: opts.tasks,
    schedulers: opts.schedulers,
    partitions: opts.partitions,
    gateways: opts.gateways,
    placementsPerSecond: Math.round(opts.tasks / seconds),
    p50Ms: Math.round(percentile(ms, 50)),
    p99Ms: Math.round(percentile(ms, 99)),
    overcommitted: over[0]!.n,
    mode: opts.backlog ? 'backlog' : 'streaming',
    submitSeconds: Number(submittedSeconds.toFixed(2)),
    joinSeconds: Number(joinSeconds.toFixed(1)),
    retried503,
    cores: cpus().length,
  };
  return { figures, ok: figures.overcommitted === 0 };
});
