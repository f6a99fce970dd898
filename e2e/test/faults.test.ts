import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import { startLocalCluster, waitFor, type LocalCluster } from '@berth/testing';
import { api, httpdTaskDefinition, type Task } from './api.js';

/**
 * Component faults mid-rollout, with real containers: the deployment-controller killed with
 * SIGKILL, and Redis losing every key of the cluster. Each rollout must still complete, and the
 * database must hold no overcommit afterwards.
 */

let cluster: LocalCluster;
let client: ReturnType<typeof api>;
const run = promisify(execFile);

interface Service {
  deployments: { status: string; rolloutState: string; taskDefinition: string }[];
}

beforeAll(async () => {
  cluster = await startLocalCluster({ agents: [{ hostAddress: '127.0.0.9', cpu: 4096, memory: 2048 }] });
  client = api(cluster);
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

async function rolledOut(revision: number) {
  return waitFor(
    `the rollout to revision ${revision} to complete`,
    async () => {
      const s = (await client.call<{ service: Service }>('GET', '/v1/clusters/default/services/faulty')).body
        .service;
      const tasks = (await client.tasks('?serviceName=faulty&desiredStatus=RUNNING')) as (Task & {
        taskDefinitionArn: string;
      })[];
      const done =
        s.deployments.length === 1 &&
        s.deployments[0]!.rolloutState === 'COMPLETED' &&
        tasks.length === 3 &&
        tasks.every((t) => t.lastStatus === 'RUNNING' && t.taskDefinitionArn.endsWith(`faulty:${revision}`));
      return done ? s : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 300 },
  );
}

async function checkDatabase() {
  const sql = new pg.Client({ connectionString: cluster.db.url });
  await sql.connect();
  try {
    const { rows } = await sql.query(`
      SELECT count(*)::int AS n FROM container_instance i
       WHERE i.reserved_cpu <> (SELECT coalesce(sum(cpu), 0) FROM task t WHERE t.container_instance_id = i.id AND t.holds_reservation)
          OR i.reserved_memory <> (SELECT coalesce(sum(memory), 0) FROM task t WHERE t.container_instance_id = i.id AND t.holds_reservation)`);
    expect(rows[0].n).toBe(0);
    const live = await sql.query(
      `SELECT count(*)::int AS n FROM task WHERE last_status <> 'STOPPED' AND desired_status = 'RUNNING'`,
    );
    expect(live.rows[0].n).toBe(3);
  } finally {
    await sql.end();
  }
}

test('a rollout completes after the controller is killed, and after Redis loses everything', async () => {
  for (let i = 0; i < 3; i++) await client.register(httpdTaskDefinition('faulty', { cpu: 128 }));
  await client.call('POST', '/v1/clusters/default/services', {
    serviceName: 'faulty',
    taskDefinition: 'faulty:1',
    desiredCount: 3,
  });
  await rolledOut(1);

  await client.call('PATCH', '/v1/clusters/default/services/faulty', { taskDefinition: 'faulty:2' });
  await cluster.killApp('deployment-controller');
  await new Promise((r) => setTimeout(r, 1500));
  cluster.startApp('deployment-controller');
  await rolledOut(2);
  await checkDatabase();

  await client.call('PATCH', '/v1/clusters/default/services/faulty', { taskDefinition: 'faulty:3' });
  await run('sh', [
    '-c',
    `redis-cli --scan --pattern '${cluster.prefix}:*' | xargs -r redis-cli del > /dev/null`,
  ]);
  await rolledOut(3);
  await checkDatabase();
});

test('every app recovers by itself when Postgres restarts', async () => {
  const version = (await run('sh', ['-c', 'ls /etc/postgresql | sort -n | tail -1'])).stdout.trim();
  await run('pg_ctlcluster', [version, 'main', 'restart']);
  await waitFor(
    'the gateway to be healthy again',
    async () => ((await fetch(`${cluster.api}/healthz`).catch(() => null))?.ok ? true : undefined),
    { timeoutMs: 30_000 },
  );
  // No process died: they waited and retried. And the whole path works again.
  for (const name of ['api-gateway', 'scheduler', 'deployment-controller'])
    expect(cluster.isRunning(name)).toBe(true);
  const agent = cluster.agents[0]!.process;
  expect(agent.exitCode === null && agent.signalCode === null).toBe(true);
  const [task] = await client.run({ taskDefinition: 'faulty:3' });
  await waitFor(
    'a new task to run',
    async () => ((await client.task(task!.taskArn)).lastStatus === 'RUNNING' ? true : undefined),
    {
      timeoutMs: 30_000,
    },
  );
  const services = await client.tasks('?serviceName=faulty&desiredStatus=RUNNING');
  expect(services.filter((t) => t.lastStatus === 'RUNNING')).toHaveLength(3);
});
