import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import { startLocalCluster } from '@berth/testing';
import { flags, log, percentile, waitFor } from '../lib/harness.js';

/**
 * RunTask → RUNNING on an idle local cluster with a real dockerd, stage by stage, against
 * `docker run -d` of the same image with the same limits in the same loop. One task at a time,
 * `--runs` times after one warm-up (the image and Docker's caches warm, as in steady use); each
 * task is stopped before the next. The stages come from the task's row: createdAt (RunTask
 * accepted), placedAt (the scheduler's commit), the agent's start trace (received, Docker's
 * created and started times, seen RUNNING) and startedAt (the RUNNING report written).
 *
 *   source .berth/env && pnpm bench:latency -- --runs 30
 */

const opts = flags(process.argv.slice(2), { runs: 30 });
const run = promisify(execFile);
const IMAGE = 'berth/busybox';
const COMMAND = ['httpd', '-f', '-p', '8000', '-h', '/var/www'];

const cluster = await startLocalCluster({
  agents: [{ hostAddress: '127.0.0.1', cpu: 4096, memory: 4096 }],
  env: { BERTH_LOG_LEVEL: 'warn' },
});
const sql = new pg.Client({ connectionString: cluster.db.url });
let ok = false;
try {
  await sql.connect();
  const headers = { authorization: `Bearer ${cluster.adminToken}`, 'content-type': 'application/json' };
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${cluster.api}${path}`, { method, headers, body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  await call('POST', '/v1/task-definitions', {
    family: 'latency',
    containerDefinitions: [
      {
        name: 'web',
        image: IMAGE,
        cpu: 256,
        memory: 64,
        command: COMMAND,
        portMappings: [{ containerPort: 8000, hostPort: 0 }],
        linuxParameters: { initProcessEnabled: true },
        stopTimeout: 2,
      },
    ],
  });

  /** One RunTask, timed by the client until the row says RUNNING; the task is stopped after. */
  const runTask = async () => {
    const began = performance.now();
    const { tasks } = await call<{ tasks: { taskArn: string }[] }>('POST', '/v1/clusters/default/tasks', {
      taskDefinition: 'latency',
    });
    const id = tasks[0]!.taskArn.split('/').pop()!;
    const row = await waitFor(
      'the task to run',
      async () => {
        const { rows } = await sql.query(
          `SELECT created_at, placed_at, started_at, start_trace, last_status FROM task WHERE id = $1`,
          [id],
        );
        return rows[0]?.started_at ? rows[0] : undefined;
      },
      30_000,
      2,
    );
    const clientMs = performance.now() - began;
    await call('POST', `/v1/clusters/default/tasks/${id}/stop`, { reason: 'bench' });
    await waitFor(
      'the task to stop',
      async () => {
        const { rows } = await sql.query(`SELECT last_status FROM task WHERE id = $1`, [id]);
        return rows[0]?.last_status === 'STOPPED' ? true : undefined;
      },
      30_000,
      20,
    );
    const t = (v: string | Date | undefined) => (v ? new Date(v).getTime() : NaN);
    const trace = row.start_trace ?? {};
    const at = {
      accepted: t(row.created_at),
      placed: t(row.placed_at),
      received: t(trace.receivedAt),
      created: t(trace.containersCreatedAt),
      started: t(trace.containersStartedAt),
      seenRunning: t(trace.runningAt),
      written: t(row.started_at),
    };
    return {
      clientMs,
      stages: {
        'accepted → placed': at.placed - at.accepted,
        'placed → agent received': at.received - at.placed,
        'received → container created': at.created - at.received,
        'created → started': at.started - at.created,
        'started → agent saw RUNNING': at.seenRunning - at.started,
        'saw RUNNING → RUNNING written': at.written - at.seenRunning,
        'accepted → RUNNING written': at.written - at.accepted,
      },
    };
  };

  /** `docker run -d` of the same container, with the same limits, timed until it returns. */
  const dockerRun = async () => {
    const began = performance.now();
    const { stdout } = await run('docker', [
      'run',
      '-d',
      '--init',
      '-p',
      '127.0.0.1::8000',
      '--cpu-shares',
      '256',
      '-m',
      '64m',
      '--label',
      'berth.bench=latency',
      IMAGE,
      ...COMMAND,
    ]);
    const ms = performance.now() - began;
    await run('docker', ['rm', '-f', stdout.trim()]);
    return ms;
  };

  log('warming up');
  await runTask();
  await dockerRun();
  const berth: Awaited<ReturnType<typeof runTask>>[] = [];
  const docker: number[] = [];
  for (let i = 0; i < opts.runs; i++) {
    // Interleaved, so that both see the same machine.
    berth.push(await runTask());
    docker.push(await dockerRun());
  }
  const at = (xs: number[], p: number) =>
    Math.round(
      percentile(
        [...xs].sort((a, b) => a - b),
        p,
      ),
    );
  const stages = Object.fromEntries(
    Object.keys(berth[0]!.stages).map((k) => [
      k,
      at(
        berth.map((b) => b.stages[k as keyof (typeof berth)[0]['stages']]),
        50,
      ),
    ]),
  );
  const berthMs = berth.map((b) => b.clientMs);
  const figures = {
    runs: opts.runs,
    berthMedianMs: at(berthMs, 50),
    dockerMedianMs: at(docker, 50),
    ratio: Math.round((at(berthMs, 50) / at(docker, 50)) * 100) / 100,
    berthP99Ms: at(berthMs, 99),
    dockerP99Ms: at(docker, 99),
    p99Ratio: Math.round((at(berthMs, 99) / at(docker, 99)) * 100) / 100,
    stages,
    // Where the slowest start spent its time: what the p99 is made of.
    slowest: berth.reduce((a, b) => (b.clientMs > a.clientMs ? b : a)).stages,
  };
  for (const [k, v] of Object.entries(stages)) log(`${k.padEnd(32)} ${String(v).padStart(5)} ms (median)`);
  process.stdout.write(`${JSON.stringify(figures)}\n`);
  ok = true;
} catch (error) {
  log(`failed: ${(error as Error).message}`);
} finally {
  await sql.end().catch(() => undefined);
  await cluster.stop();
  await run('sh', [
    '-c',
    'docker rm -f $(docker ps -aq --filter label=berth.bench=latency) 2>/dev/null || true',
  ]);
}
process.exit(ok ? 0 : 1);
