import { startTestHosts, type TestHosts } from '@berth/testing';
import { flags, log, runBenchmark, startGateway, waitFor } from '../lib/harness.js';

/**
 * The failover benchmark: the control plane with its default liveness settings, two processes of
 * hollow agents ("racks" of --hosts/2 hosts each) and a service of --tasks tasks spread over all
 * hosts. One rack fails: killed with SIGKILL (`--fault kill`), or, with `--fault partition`, its
 * process runs in a test host's network namespace (deploy/local/netns.sh) whose link is cut, so
 * the agents live on and the control plane sees only silence. The benchmark measures the time
 * until the rack's tasks are declared lost (detectSeconds) and until the service again runs all its
 * tasks on the surviving hosts (replacedSeconds). Ends with one JSON line.
 *
 *   pnpm bench:failover -- --hosts 10 --tasks 20 [--fault partition]
 */

const opts = flags(process.argv.slice(2), { hosts: 10, tasks: 20, fault: 'kill' });
if (opts.fault !== 'kill' && opts.fault !== 'partition') throw new Error('--fault: kill or partition');
let testHosts: TestHosts | undefined;
try {
  await failover();
} finally {
  await testHosts?.remove();
}

async function failover() {
  await runBenchmark('failover', async ({ databaseUrl, sql, processes, dataDir }) => {
    // Rack a's namespace: the gateway listens on its bridge, where rack b reaches it too.
    if (opts.fault === 'partition') testHosts = await startTestHosts(1);
    const bridge = testHosts?.bridgeAddress;
    const { env, api, headers, grpcAddress, joinToken } = await startGateway(
      processes,
      databaseUrl,
      'failover',
      bridge ? { BERTH_GRPC_HOST: bridge, BERTH_GRPC_TLS_NAMES: `${bridge},localhost` } : {},
    );
    processes.start('scheduler', 'apps/scheduler/dist/main.js', [], env);
    processes.start('deployment-controller', 'apps/deployment-controller/dist/main.js', [], env);

    const rack = Math.max(1, Math.floor(opts.hosts / 2));
    const racks = ['a', 'b'].map((name) =>
      processes.start(
        `rack-${name}`,
        'apps/host-agent/dist/main.js',
        [
          '--runtime',
          'hollow',
          '--count',
          String(rack),
          '--gateway',
          grpcAddress,
          '--join-token',
          joinToken,
          '--data-dir',
          `${dataDir}/${name}`,
          '--cpu',
          '4096',
          '--memory',
          '8192',
          '--start-latency-ms',
          '100',
        ],
        env,
        name === 'a' && testHosts ? testHosts.launcher(0) : [],
      ),
    );
    await waitFor(
      'every host to connect',
      async () => {
        const { rows } = await sql.query(
          `SELECT count(*)::int AS n FROM container_instance WHERE agent_connected`,
        );
        return rows[0].n === rack * 2 ? true : undefined;
      },
      60_000,
    );
    const post = (path: string, body: unknown) =>
      fetch(`${api}${path}`, {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
      });
    await post('/v1/task-definitions', {
      family: 'failover',
      containerDefinitions: [{ name: 'app', image: 'berth/busybox', cpu: 128, memory: 128 }],
    });
    await post('/v1/clusters/default/services', {
      serviceName: 'failover',
      taskDefinition: 'failover',
      desiredCount: opts.tasks,
      placementStrategy: [{ type: 'spread', field: 'instanceId' }],
    });
    // Only tasks on hosts that still answer: a dead host's tasks read RUNNING until it is
    // declared lost, and counting them would end the measurement early.
    const runningCount = async () => {
      const { rows } = await sql.query(
        `SELECT count(*)::int AS n FROM task t JOIN container_instance i ON i.id = t.container_instance_id
          WHERE t.last_status = 'RUNNING' AND t.desired_status = 'RUNNING'
            AND i.agent_connected AND i.last_heartbeat_at > now() - interval '3 s'`,
      );
      return rows[0].n as number;
    };
    await waitFor(
      'the service to run every task',
      async () => ((await runningCount()) === opts.tasks ? true : undefined),
      60_000,
    );
    log(`${opts.fault === 'kill' ? 'killing' : 'cutting off'} rack a (${rack} of ${rack * 2} hosts)`);

    const killedAt = new Date();
    if (testHosts) await testHosts.partition(0, true);
    else racks[0]!.kill('SIGKILL');
    const detected = await waitFor(
      'the lost tasks',
      async () => {
        const { rows } = await sql.query(
          `SELECT min(stopped_at) AS at FROM task WHERE stop_code = 'InstanceLost'`,
        );
        return rows[0].at ? (rows[0].at as Date) : undefined;
      },
      60_000,
      100,
    );
    await waitFor(
      'the replacements to run',
      async () => ((await runningCount()) === opts.tasks ? true : undefined),
      60_000,
      100,
    );
    const replacedAt = new Date();
    return {
      figures: {
        fault: opts.fault,
        hosts: rack * 2,
        tasks: opts.tasks,
        detectSeconds: Number(((detected.getTime() - killedAt.getTime()) / 1000).toFixed(2)),
        replacedSeconds: Number(((replacedAt.getTime() - killedAt.getTime()) / 1000).toFixed(2)),
      },
      ok: true,
    };
  });
}
