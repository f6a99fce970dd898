import { ContainerSpec, type TaskSpec, type Volume } from '@berth/proto';
import type { HostPolicyConfig } from './config.js';
import { HostPolicy } from './host-policy.js';

const strict: HostPolicyConfig = {
  allowPrivileged: false,
  allowHostNetwork: false,
  allowedHostPaths: [],
  pidsLimit: 4096,
};

/** A task spec of a privileged cluster, so that only the host's policy can refuse it. */
const spec = (over: Partial<TaskSpec> = {}, container: Partial<ContainerSpec> = {}): TaskSpec => ({
  taskId: 't1',
  taskArn: 'arn:berth:ecs:local:0:task/default/t1',
  cluster: 'default',
  serviceName: '',
  family: 'web',
  revision: 3,
  desiredStatus: 'RUNNING',
  lastStatus: 'PENDING',
  networkMode: 'bridge',
  volumes: [],
  launchError: '',
  containerPolicy: { level: 'privileged', allowedHostPathPrefixes: [] },
  containers: [ContainerSpec.fromPartial({ name: 'web', image: 'berth/busybox', ...container })],
  ...over,
});

const volume = (over: Partial<Volume>): Volume => ({
  name: 'v',
  type: 'host',
  sourcePath: '',
  scope: 'task',
  autoprovision: false,
  driver: '',
  driverOpts: {},
  labels: {},
  ...over,
});
const hostVolume = (sourcePath: string) => ({ volumes: [volume({ sourcePath })] });

/** This host's symlinks; every other path is a real directory. */
const links = (map: Record<string, string>) => async (path: string) => {
  for (const [link, target] of Object.entries(map))
    if (path === link || path.startsWith(`${link}/`)) return target + path.slice(link.length);
  return path;
};

const policy = (over: Partial<HostPolicyConfig> = {}, symlinks: Record<string, string> = {}) =>
  new HostPolicy({ ...strict, ...over }, links(symlinks));

describe("the host's own policy", () => {
  it.each<[string, Partial<HostPolicyConfig>, TaskSpec]>([
    ['a plain task', {}, spec()],
    [
      'privileged containers, with --allow-privileged',
      { allowPrivileged: true },
      spec({}, { privileged: true }),
    ],
    ['host networking, with --allow-host-network', { allowHostNetwork: true }, spec({ networkMode: 'host' })],
    ['host networking, with --allow-privileged', { allowPrivileged: true }, spec({ networkMode: 'host' })],
    [
      'a path under --allowed-host-path',
      { allowedHostPaths: ['/srv/data'] },
      spec(hostVolume('/srv/data/web')),
    ],
    [
      'the Docker socket, with --allow-privileged',
      { allowPrivileged: true },
      spec(hostVolume('/var/run/docker.sock')),
    ],
  ])('allows %s', async (_, flags, task) => {
    expect(await policy(flags).refusal(task)).toBeNull();
  });

  it.each<[string, Partial<HostPolicyConfig>, TaskSpec, string]>([
    [
      'privileged containers',
      { allowHostNetwork: true, allowedHostPaths: ['/srv'] },
      spec({}, { privileged: true }),
      'containerDefinitions[0].privileged: privileged containers are refused: they own their host (allowed here with --allow-privileged)',
    ],
    [
      'capabilities beyond the defaults',
      {},
      spec({}, { capabilitiesAdd: ['CHOWN', 'SYS_ADMIN'] }),
      "containerDefinitions[0].linuxParameters.capabilities.add[1]: SYS_ADMIN is refused: only Docker's default capabilities may be added (allowed here with --allow-privileged)",
    ],
    [
      'host networking',
      {},
      spec({ networkMode: 'host' }),
      "networkMode: host networking is refused: the task would share the host's network (allowed here with --allow-host-network or --allow-privileged)",
    ],
    [
      'a path beside --allowed-host-path',
      { allowedHostPaths: ['/srv/data'] },
      spec(hostVolume('/srv/data2')),
      'volumes[0].host.sourcePath: /srv/data2 is not under an allowed host path prefix (/srv/data) (allowed here with --allowed-host-path or --allow-privileged)',
    ],
    [
      'a bind through the local driver',
      {},
      spec({
        volumes: [volume({ type: 'docker', driver: 'local', driverOpts: { o: 'bind', device: '/srv' } })],
      }),
      'volumes[0].dockerVolumeConfiguration.driverOpts.device: the local driver would mount a host path',
    ],
  ])('refuses %s, naming the field, the rule and the flag', async (_, flags, task, reason) => {
    const refusal = await policy(flags).refusal(task);
    expect(refusal).toMatch(/^ContainerPolicyError: the policy of this host refuses web:3: /);
    expect(refusal).toContain(reason);
  });

  it('follows symlinks: a link under an allowed path does not lead out of it', async () => {
    const host = policy({ allowedHostPaths: ['/srv/data'] }, { '/srv/data/escape': '/etc' });
    expect(await host.refusal(spec(hostVolume('/srv/data/escape/shadow')))).toBe(
      "ContainerPolicyError: the policy of this host refuses web:3: volumes[0].host.sourcePath: /etc/shadow is under /etc, the host's configuration: never mounted under baseline, whatever the allowed prefixes (allowed here with --allowed-host-path or --allow-privileged) (/srv/data/escape/shadow is /etc/shadow on this host)",
    );
    // A path that does not exist yet (Docker creates it): what exists of it is resolved.
    const resolve = links({ '/srv/data/escape': '/root' });
    const notYet = new HostPolicy({ ...strict, allowedHostPaths: ['/srv/data'] }, async (path) => {
      if (path.includes('/new')) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
      return resolve(path);
    });
    expect(await notYet.refusal(spec(hostVolume('/srv/data/escape/new/dir')))).toMatch(
      /\/root\/new\/dir is under \/root/,
    );
  });

  it('compares allowed paths as this host resolves them too', async () => {
    const host = policy({ allowedHostPaths: ['/srv/data'] }, { '/srv/data': '/mnt/disk1/data' });
    expect(await host.refusal(spec(hostVolume('/srv/data/web')))).toBeNull();
  });
});

describe("the cluster's policy, checked again at launch", () => {
  const anything = { allowPrivileged: true };

  it('refuses what the cluster refuses, even when this host would allow it', async () => {
    const refusal = await policy(anything).refusal(
      spec({ containerPolicy: { level: 'baseline', allowedHostPathPrefixes: [] } }, { privileged: true }),
    );
    expect(refusal).toMatch(
      /^ContainerPolicyError: container policy baseline of cluster default refuses web:3: containerDefinitions\[0\]\.privileged: /,
    );
    expect(refusal).not.toContain('this host');
  });

  it('says both when both refuse', async () => {
    const refusal = await policy().refusal(
      spec({ networkMode: 'host', containerPolicy: { level: 'baseline', allowedHostPathPrefixes: [] } }),
    );
    expect(refusal).toMatch(
      /cluster default refuses web:3: networkMode: .*; and the policy of this host refuses web:3: networkMode: /,
    );
  });

  it('counts a spec without a policy as baseline', async () => {
    expect(
      await policy(anything).refusal(spec({ containerPolicy: undefined }, { privileged: true })),
    ).toMatch(/container policy baseline of cluster default/);
  });
});

describe('confinement', () => {
  it.each<[string, boolean, { noNewPrivileges: boolean; pidsLimit: number }]>([
    ['baseline', false, { noNewPrivileges: true, pidsLimit: 100 }],
    ['baseline', true, { noNewPrivileges: true, pidsLimit: 100 }],
    ['privileged', false, { noNewPrivileges: true, pidsLimit: 100 }],
    ['privileged', true, { noNewPrivileges: false, pidsLimit: 0 }],
  ])('a %s cluster on a host with allowPrivileged %s', (level, allowPrivileged, expected) => {
    const host = policy({ allowPrivileged, pidsLimit: 100 });
    expect(host.confinement(spec({ containerPolicy: { level, allowedHostPathPrefixes: [] } }))).toEqual(
      expected,
    );
  });
});
