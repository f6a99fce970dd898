import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startLocalCluster, waitFor, type LocalCluster } from '@berth/testing';

/**
 * The agent as it ships to a real host: dist/berth-agent.cjs (made by `pnpm build`) alone in an
 * empty directory, with no node_modules anywhere above it, installed by deploy/agent/install.sh
 * under its plain supervisor (this machine has no systemd), joining a cluster with a join token
 * and running a real container.
 */

const run = promisify(execFile);
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const BUNDLE = join(ROOT, 'apps/host-agent/dist/berth-agent.cjs');
const INSTALL = join(ROOT, 'deploy/agent/install.sh');
const HOST_ADDRESS = '127.0.0.61';

let dir: string;
let cluster: LocalCluster | undefined;

beforeAll(async () => {
  // Under /tmp, so no node_modules of the repository is on the resolution path.
  dir = await mkdtemp(join(tmpdir(), 'berth-bundle-'));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the bundle alone', () => {
  let alone: string;
  beforeAll(async () => {
    alone = join(dir, 'alone');
    await run('mkdir', ['-p', alone]);
    await copyFile(BUNDLE, join(alone, 'berth-agent.cjs'));
  });

  it('is one executable file that prints its version and help', async () => {
    expect(await readdir(alone)).toEqual(['berth-agent.cjs']);
    expect((await stat(BUNDLE)).mode & 0o111).not.toBe(0);
    const { version } = JSON.parse(await readFile(join(ROOT, 'apps/host-agent/package.json'), 'utf8')) as {
      version: string;
    };
    const opts = { cwd: alone, env: { PATH: process.env.PATH } };
    expect((await run(process.execPath, ['berth-agent.cjs', '--version'], opts)).stdout).toBe(
      `berth-agent ${version}\n`,
    );
    // The shebang: runs as a program of its own.
    expect((await run(join(alone, 'berth-agent.cjs'), ['--version'], opts)).stdout).toContain(version);
    const help = (await run(process.execPath, ['berth-agent.cjs', '--help'], opts)).stdout;
    expect(help).toContain('--join-token TOKEN');
    expect(help).toContain('--gateway ADDR');
  });

  it('stops with one plain line on a bad flag', async () => {
    const failed = await run(process.execPath, ['berth-agent.cjs', '--cpu', '0'], {
      cwd: alone,
      env: { PATH: process.env.PATH },
    }).catch((e: { code: number; stderr: string }) => e);
    expect(failed).toMatchObject({
      code: 1,
      stderr: 'host-agent: --cpu: must be a positive integer, got "0"\n',
    });
  });
});

describe('install.sh with the plain supervisor', () => {
  let prefix: string;
  let stateDir: string;
  const auth = () => ({ authorization: `Bearer ${cluster!.adminToken}` });
  const instances = async () => {
    const res = await fetch(`${cluster!.api}/v1/clusters/default/container-instances`, { headers: auth() });
    return (
      (await res.json()) as {
        containerInstances: { containerInstanceArn: string; hostAddress: string; agentConnected: boolean }[];
      }
    ).containerInstances.filter((i) => i.hostAddress === HOST_ADDRESS);
  };
  const pidOf = async (name: string) => Number((await readFile(join(prefix, 'run', name), 'utf8')).trim());
  /** Exists and is not a zombie waiting for a parent to reap it. */
  const alive = async (pid: number) => {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    return stat !== '' && stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  };

  beforeAll(async () => {
    cluster = await startLocalCluster({ agents: [] });
    prefix = join(dir, 'opt/berth-agent');
    stateDir = join(dir, 'var/lib/berth-agent');
  }, 60_000);

  afterAll(async () => {
    // Stop the supervisor even when a test failed, then the control plane.
    if (prefix)
      await run('sh', [INSTALL, '--uninstall', '--prefix', prefix, '--init', 'supervisor']).catch(
        () => undefined,
      );
    const id = (await readFile(join(stateDir, 'instance-id'), 'utf8').catch(() => '')).trim();
    if (id) {
      const { stdout } = await run('docker', [
        'ps',
        '-aq',
        '--filter',
        `label=berth.container-instance-id=${id}`,
      ]);
      const ids = stdout.split('\n').filter(Boolean);
      if (ids.length) await run('docker', ['rm', '-f', ...ids]);
    }
    await cluster?.stop();
  }, 60_000);

  it('installs the bundle, joins with the token, and runs a container', async () => {
    const { stdout } = await run(
      'sh',
      [
        INSTALL,
        '--gateway',
        cluster!.grpcAddress,
        '--prefix',
        prefix,
        '--state-dir',
        stateDir,
        '--host-address',
        HOST_ADDRESS,
        '--init',
        'supervisor',
        '--bundle',
        BUNDLE,
        '--env',
        'BERTH_CPU=1024',
        '--env',
        'BERTH_ATTRIBUTES=installed=yes',
      ],
      // The token through the environment, as an operator keeps it out of the shell history.
      { env: { ...process.env, BERTH_JOIN_TOKEN: cluster!.joinToken } },
    );
    expect(stdout).toContain('started the agent under a plain supervisor');
    expect((await readdir(prefix)).sort()).toEqual([
      'agent.env',
      'berth-agent.cjs',
      'log',
      'run',
      'supervise.conf',
      'supervise.sh',
    ]);
    expect((await stat(join(prefix, 'agent.env'))).mode & 0o777).toBe(0o600);
    const env = await readFile(join(prefix, 'agent.env'), 'utf8');
    expect(env).toContain(`BERTH_JOIN_TOKEN='${cluster!.joinToken}'`);
    expect(env).toContain("BERTH_CPU='1024'");

    const [instance] = await waitFor(
      'the installed agent to register',
      async () => {
        const found = await instances();
        return found.some((i) => i.agentConnected) ? found : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect((await stat(join(stateDir, 'agent-cert.pem'))).mode & 0o777).toBe(0o600);

    // The token is in no running process's command line.
    const agentPid = await pidOf('agent.pid');
    const supervisorPid = await pidOf('supervisor.pid');
    for (const pid of [agentPid, supervisorPid]) {
      const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').join(' ');
      expect(cmdline).not.toContain(cluster!.joinToken.split('.')[2]!);
    }
    expect((await readFile(`/proc/${agentPid}/cmdline`, 'utf8')).split('\0')).toContain(
      join(prefix, 'berth-agent.cjs'),
    );

    // dockerode inside the bundle: a real container on this host.
    const post = (path: string, body: unknown) =>
      fetch(`${cluster!.api}${path}`, {
        method: 'POST',
        headers: { ...auth(), 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }).then(async (r) => {
        if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
        return r.json() as Promise<Record<string, unknown>>;
      });
    await post('/v1/task-definitions', {
      family: 'bundled',
      containerDefinitions: [
        {
          name: 'sleep',
          image: 'berth/busybox',
          cpu: 64,
          memory: 16,
          command: ['sleep', '600'],
          stopTimeout: 1,
        },
      ],
    });
    const { tasks } = (await post('/v1/clusters/default/tasks', { taskDefinition: 'bundled' })) as {
      tasks: { taskArn: string }[];
    };
    const taskId = tasks[0]!.taskArn.split('/').pop()!;
    const running = await waitFor(
      'the task to run on the installed agent',
      async () => {
        const res = await fetch(`${cluster!.api}/v1/clusters/default/tasks/${taskId}`, { headers: auth() });
        const { task } = (await res.json()) as {
          task: { lastStatus: string; containerInstanceArn?: string };
        };
        return task.lastStatus === 'RUNNING' ? task : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(running.containerInstanceArn).toBe(instance!.containerInstanceArn);
  }, 90_000);

  it('restarts the agent when it dies, as the same instance', async () => {
    const before = await pidOf('agent.pid');
    process.kill(before, 'SIGKILL');
    await waitFor(
      'the supervisor to start the agent again',
      async () => {
        const pid = await pidOf('agent.pid').catch(() => before);
        return pid !== before && (await alive(pid)) ? pid : undefined;
      },
      { timeoutMs: 15_000 },
    );
    const found = await waitFor(
      'the restarted agent to reconnect',
      async () => {
        const list = await instances();
        return list.length === 1 && list[0]!.agentConnected ? list : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(found).toHaveLength(1);
    expect(await readFile(join(prefix, 'log/berth-agent.log'), 'utf8')).toMatch(
      /berth-agent exited with status 137 after \d+s; restarting in 1s/,
    );
  }, 60_000);

  it('uninstalls: supervisor and agent stopped, files removed, state kept', async () => {
    const pids = [await pidOf('supervisor.pid'), await pidOf('agent.pid')];
    const { stdout } = await run('sh', [INSTALL, '--uninstall', '--prefix', prefix, '--init', 'supervisor']);
    expect(stdout).toContain('stopped the supervisor');
    for (const pid of pids) expect(await alive(pid)).toBe(false);
    expect(await readdir(prefix)).toEqual(['log']);
    expect(await readdir(stateDir)).toContain('agent-cert.pem');
    await waitFor('the instance to show disconnected', async () =>
      (await instances()).every((i) => !i.agentConnected) ? true : undefined,
    );
  }, 60_000);
});
