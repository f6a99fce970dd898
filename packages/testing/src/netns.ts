import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const NETNS_SH = join(ROOT, 'deploy/local/netns.sh');
const run = promisify(execFile);

/** One test host: a network namespace with its own address, dockerd and (started by the cluster) agent. */
export interface TestHost {
  /** The host's address on the test bridge, 10.231.N.(10+i) for host i (from 1). */
  address: string;
  /** Its network namespace, /var/run/netns/<namespace>. */
  namespace: string;
  /** Its own dockerd's socket, for the agent's DOCKER_SOCKET and for `docker -H unix://…`. */
  dockerSocket: string;
}

export interface TestHosts {
  hosts: TestHost[];
  /** The root namespace's address on the hosts' bridge: where they reach the control plane. */
  bridgeAddress: string;
  /** The command prefix that runs a program inside host `index`'s network namespace (from 0). */
  launcher(index: number): string[];
  /** `docker -H <host's socket> ...args`, answering its output. */
  docker(index: number, args: string[]): Promise<string>;
  /** Cuts (`true`) or heals one host's link: packets drop silently both ways, no resets. */
  partition(index: number, cut: boolean): Promise<void>;
  partitionAll(cut: boolean): Promise<void>;
  /** Delays and loses packets each way on one host's link; zeros clear it. */
  netem(index: number, opts: { delayMs?: number; lossPercent?: number }): Promise<void>;
  /** Whether `netem` can delay: a delay needs the kernel's sch_netem, loss does not. */
  canDelay: boolean;
  /** Removes the namespaces, their dockerds and containers, the bridge and the files. */
  remove(): Promise<void>;
}

// Only PATH: the hosts' dockerds get no database or Redis settings from the test's environment.
const netns = async (...args: string[]) =>
  (await run('bash', [NETNS_SH, ...args], { env: { PATH: process.env.PATH } })).stdout.trim();

/**
 * Makes `count` test hosts in network namespaces on a bridge of their own in 10.231.0.0/16 (see
 * deploy/local/netns.sh), first removing the hosts of earlier runs whose process is gone. The
 * caller must `remove()` them, in a finally or afterAll, even when the test fails.
 */
export async function startTestHosts(count: number): Promise<TestHosts> {
  await netns('clean-stale');
  const runId = randomBytes(3).toString('hex');
  const hostNumber = (index: number) => String(index + 1);
  let net: string;
  try {
    net = await netns('up', runId, String(count), String(process.pid));
  } catch (e) {
    await netns('down', runId);
    throw e;
  }
  const canDelay = await netns('can-delay').then(
    () => true,
    () => false,
  );
  const hosts = Array.from({ length: count }, (_, index) => ({
    address: `10.231.${net}.${11 + index}`,
    namespace: `berth-h${hostNumber(index)}-${runId}`,
    dockerSocket: `/tmp/berth-netns/${runId}/h${hostNumber(index)}/docker.sock`,
  }));
  return {
    hosts,
    bridgeAddress: `10.231.${net}.1`,
    canDelay,
    launcher: (index) => ['nsenter', `--net=/var/run/netns/${hosts[index]!.namespace}`],
    docker: async (index, args) =>
      (await run('docker', ['-H', `unix://${hosts[index]!.dockerSocket}`, ...args])).stdout.trim(),
    partition: async (index, cut) => {
      await netns('partition', runId, hostNumber(index), cut ? 'on' : 'off');
    },
    partitionAll: async (cut) => {
      await netns('partition', runId, 'all', cut ? 'on' : 'off');
    },
    netem: async (index, { delayMs = 0, lossPercent = 0 }) => {
      await netns('netem', runId, hostNumber(index), String(delayMs), String(lossPercent));
    },
    remove: async () => {
      await netns('down', runId);
    },
  };
}
