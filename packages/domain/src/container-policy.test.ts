import { InvalidParameterError } from './errors.js';
import {
  assertClusterPolicyAllows,
  checkContainerPolicy,
  clusterPolicyRefusal,
  containerPolicyOf,
  localVolumeHostPath,
  normalizeHostPath,
  validateContainerPolicy,
  type ContainerPolicy,
  type PolicySubject,
} from './container-policy.js';

const baseline: ContainerPolicy = { level: 'baseline', allowedHostPathPrefixes: [] };
const withPrefixes = (...allowedHostPathPrefixes: string[]): ContainerPolicy => ({
  level: 'baseline',
  allowedHostPathPrefixes,
});

const web = { name: 'web', image: 'berth/busybox', memory: 64 };
const task = (over: Partial<PolicySubject> = {}, container: Record<string, unknown> = {}): PolicySubject => ({
  containerDefinitions: [{ ...web, ...container }],
  ...over,
});
const hostVolume = (sourcePath: string) => ({ volumes: [{ name: 'v', host: { sourcePath } }] });
const localVolume = (driverOpts: Record<string, string>, driver?: string) => ({
  volumes: [{ name: 'v', dockerVolumeConfiguration: { scope: 'task', driver, driverOpts } }],
});

/** [field, rule] of each violation, the way a reader scans a refusal. */
const refused = (policy: ContainerPolicy, td: PolicySubject) =>
  checkContainerPolicy(policy, td).map((v) => [v.field, v.rule]);

describe('checkContainerPolicy under baseline', () => {
  it.each<[string, PolicySubject]>([
    ['a plain container', task()],
    ['bridge, awsvpc and none networking', task({ networkMode: 'none' })],
    ['a task pid namespace', task({ pidMode: 'task', ipcMode: 'none' })],
    [
      "Docker's default capabilities added back after dropping ALL",
      task(
        {},
        { linuxParameters: { capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE', 'CHOWN', 'KILL'] } } },
      ),
    ],
    ['dropped capabilities', task({}, { linuxParameters: { capabilities: { drop: ['NET_RAW'] } } })],
    ['privileged: false', task({}, { privileged: false })],
    ['Docker volumes', { ...task(), volumes: [{ name: 'v' }, { name: 'w', host: {} }] }],
    [
      'NFS, CIFS and tmpfs volumes of the local driver',
      {
        ...task(),
        volumes: [
          {
            dockerVolumeConfiguration: {
              driverOpts: { type: 'nfs', o: 'addr=10.0.0.2,rw', device: ':/export' },
            },
          },
          { dockerVolumeConfiguration: { driverOpts: { type: 'cifs', device: '//fs/share' } } },
          { dockerVolumeConfiguration: { driverOpts: { type: 'tmpfs', device: 'tmpfs', o: 'size=64m' } } },
        ],
      },
    ],
    [
      'a plugin driver, whose options are its own',
      task(localVolume({ mountpoint: '/etc' }, 'local-persist')),
    ],
    [
      'safe sysctls',
      task({}, { systemControls: [{ namespace: 'net.ipv4.tcp_keepalive_time', value: '60' }] }),
    ],
    [
      'no-new-privileges, which baseline sets anyway',
      task({}, { dockerSecurityOptions: ['no-new-privileges'] }),
    ],
    [
      'empty devices, as describe-task-definition prints them',
      task({}, { linuxParameters: { devices: [] } }),
    ],
  ])('allows %s', (_, td) => {
    expect(checkContainerPolicy(baseline, td)).toEqual([]);
  });

  it.each<[string, PolicySubject, [string, string][]]>([
    [
      'a privileged container',
      task({}, { privileged: true }),
      [['containerDefinitions[0].privileged', 'privileged']],
    ],
    ['host networking', task({ networkMode: 'host' }), [['networkMode', 'hostNetwork']]],
    ["the host's PID namespace", task({ pidMode: 'host' }), [['pidMode', 'hostPid']]],
    ["the host's IPC namespace", task({ ipcMode: 'host' }), [['ipcMode', 'hostIpc']]],
    [
      'capabilities beyond the defaults, each by its index',
      task({}, { linuxParameters: { capabilities: { add: ['CHOWN', 'SYS_ADMIN', 'NET_ADMIN'] } } }),
      [
        ['containerDefinitions[0].linuxParameters.capabilities.add[1]', 'capabilities'],
        ['containerDefinitions[0].linuxParameters.capabilities.add[2]', 'capabilities'],
      ],
    ],
    [
      'ALL capabilities',
      task({}, { linuxParameters: { capabilities: { add: ['ALL'] } } }),
      [['containerDefinitions[0].linuxParameters.capabilities.add[0]', 'capabilities']],
    ],
    [
      'host devices',
      task({}, { linuxParameters: { devices: [{ hostPath: '/dev/fuse' }] } }),
      [['containerDefinitions[0].linuxParameters.devices', 'devices']],
    ],
    [
      'a sysctl outside the safe set',
      task(
        {},
        {
          systemControls: [
            { namespace: 'net.ipv4.tcp_syncookies', value: '1' },
            { namespace: 'kernel.msgmax', value: '1' },
          ],
        },
      ),
      [['containerDefinitions[0].systemControls[1].namespace', 'sysctls']],
    ],
    [
      'security options that replace the default confinement',
      task(
        {},
        {
          dockerSecurityOptions: [
            'no-new-privileges',
            'apparmor:unconfined',
            'label:disable',
            'seccomp=unconfined',
          ],
        },
      ),
      [
        ['containerDefinitions[0].dockerSecurityOptions[1]', 'securityOptions'],
        ['containerDefinitions[0].dockerSecurityOptions[2]', 'securityOptions'],
        ['containerDefinitions[0].dockerSecurityOptions[3]', 'securityOptions'],
      ],
    ],
    [
      'a host bind mount when no prefix is allowed',
      task(hostVolume('/srv/data')),
      [['volumes[0].host.sourcePath', 'hostPath']],
    ],
    [
      'a bind mount through the local driver',
      task(localVolume({ type: 'none', o: 'bind', device: '/srv/data' })),
      [['volumes[0].dockerVolumeConfiguration.driverOpts.device', 'volumeDriverHostPath']],
    ],
    [
      'a host block device mounted by the local driver',
      task(localVolume({ type: 'ext4', device: '/dev/sda1' }, 'local')),
      [['volumes[0].dockerVolumeConfiguration.driverOpts.device', 'volumeDriverHostPath']],
    ],
    [
      'every violation of every container, in order',
      {
        networkMode: 'host',
        volumes: [{ name: 'ok' }, { name: 'sock', host: { sourcePath: '/var/run/docker.sock' } }],
        containerDefinitions: [{ ...web }, { ...web, name: 'root', privileged: true }],
      },
      [
        ['networkMode', 'hostNetwork'],
        ['volumes[1].host.sourcePath', 'hostPath'],
        ['containerDefinitions[1].privileged', 'privileged'],
      ],
    ],
  ])('refuses %s', (_, td, expected) => {
    expect(refused(baseline, td)).toEqual(expected);
  });

  it('says which rule each refusal breaks', () => {
    const [capability, privileged] = checkContainerPolicy(
      baseline,
      task({}, { privileged: true, linuxParameters: { capabilities: { add: ['SYS_ADMIN'] } } }),
    ).sort((a, b) => a.rule.localeCompare(b.rule));
    expect(capability!.message).toBe("SYS_ADMIN is refused: only Docker's default capabilities may be added");
    expect(privileged!.message).toMatch(/privileged containers are refused/);
  });
});

describe('host paths under baseline', () => {
  const policy = withPrefixes('/srv/data', '/var/log/apps/');

  it.each([
    ['/srv/data', 'the prefix itself'],
    ['/srv/data/web/uploads', 'a path under it'],
    ['/srv//data/./web/', 'a path written loosely'],
    ['/var/log/apps/web', 'a path under a prefix given with a trailing slash'],
  ])('allows %s (%s)', (path) => {
    expect(checkContainerPolicy(policy, task(hostVolume(path)))).toEqual([]);
  });

  it.each([
    [
      '/srv/data2',
      /\/srv\/data2 is not under an allowed host path prefix \(\/srv\/data, \/var\/log\/apps\/\)/,
    ],
    ['/srv', /\/srv is not under an allowed host path prefix/],
    ['/srv/data/../../etc/shadow', /\/etc\/shadow is under \/etc, the host's configuration/],
    ['/srv/data/../secrets', /\/srv\/secrets is not under an allowed/],
    ['/../../srv/data/../../root', /\/root is the host's root user/],
    ['/srv/data/x:/etc', /holds a ":"/],
  ])('refuses %s', (path, message) => {
    const [violation] = checkContainerPolicy(policy, task(hostVolume(path)));
    expect(violation).toMatchObject({ field: 'volumes[0].host.sourcePath', rule: 'hostPath' });
    expect(violation!.message).toMatch(message);
  });

  it.each([
    ['/var/run/docker.sock', /is the Docker socket/],
    ['/run/docker.sock', /is the Docker socket/],
    ['/run/containerd/containerd.sock', /is under \/run\/containerd, containerd's socket/],
    ['/', /whole file system/],
    ['/etc', /is the host's configuration/],
    ['/etc/ssl/certs', /is under \/etc/],
    ['/proc/1/root', /is under \/proc/],
    ['/sys/fs/cgroup', /is under \/sys/],
    ['/dev', /is the host's devices/],
    ['/boot/grub', /is under \/boot/],
    ['/root/.ssh', /is under \/root/],
    ['/var/lib/docker/volumes', /is under \/var\/lib\/docker, Docker's own storage/],
    ['/var', /\/var holds \/var\/run\/docker.sock/],
    ['/run', /\/run holds \/run\/docker.sock/],
    ['/var/lib', /\/var\/lib holds \/var\/lib\/docker/],
  ])('never mounts %s, even when an allowed prefix covers it', (path, message) => {
    const everything = withPrefixes('/var', '/run', '/etc', '/proc', '/sys', '/dev', '/boot', '/root');
    const [violation] = checkContainerPolicy(everything, task(hostVolume(path)));
    expect(violation?.message).toMatch(message);
    expect(violation?.message).toMatch(/whatever the allowed prefixes|whole file system/);
  });

  it('judges a bind through the local driver like host.sourcePath', () => {
    const bind = (device: string) => task(localVolume({ type: 'none', o: 'bind', device }));
    expect(checkContainerPolicy(policy, bind('/srv/data/cache'))).toEqual([]);
    expect(refused(policy, bind('/srv/other'))).toEqual([
      ['volumes[0].dockerVolumeConfiguration.driverOpts.device', 'volumeDriverHostPath'],
    ]);
    // mount(2) resolves a relative source from dockerd's working directory, the root.
    expect(checkContainerPolicy(policy, bind('etc'))[0]!.message).toMatch(
      /\/etc is the host's configuration/,
    );
  });
});

describe('localVolumeHostPath', () => {
  it.each<[Record<string, string>, string | null]>([
    [{ type: 'none', o: 'bind', device: '/srv/a' }, '/srv/a'],
    [{ o: 'rw,rbind', device: '/srv/a' }, '/srv/a'],
    [{ type: 'bind', device: 'srv/a' }, '/srv/a'],
    [{ type: 'ext4', device: '/dev/sdb1' }, '/dev/sdb1'],
    [{ type: 'nfs', o: 'addr=10.0.0.2', device: ':/export' }, null],
    [{ type: 'cifs', device: '//server/share' }, null],
    [{ type: 'tmpfs', device: 'tmpfs' }, null],
    [{ type: 'none', o: 'bind' }, null],
    [{}, null],
  ])('%j mounts %s', (opts, expected) => {
    expect(localVolumeHostPath(opts)).toBe(expected);
  });
});

describe('checkContainerPolicy under privileged', () => {
  it('allows everything baseline refuses', () => {
    const td: PolicySubject = {
      networkMode: 'host',
      pidMode: 'host',
      ipcMode: 'host',
      volumes: [{ host: { sourcePath: '/var/run/docker.sock' } }, { host: { sourcePath: '/' } }],
      containerDefinitions: [
        {
          privileged: true,
          linuxParameters: { capabilities: { add: ['ALL'] }, devices: [{ hostPath: '/dev/kvm' }] },
          systemControls: [{ namespace: 'kernel.msgmax', value: '1' }],
          dockerSecurityOptions: ['seccomp=unconfined'],
        },
      ],
    };
    expect(checkContainerPolicy({ level: 'privileged', allowedHostPathPrefixes: [] }, td)).toEqual([]);
  });
});

describe('the cluster policy', () => {
  const cluster = { name: 'prod', containerPolicyLevel: 'baseline', allowedHostPathPrefixes: [] };

  it('counts an unknown stored level as baseline', () => {
    expect(containerPolicyOf({ containerPolicyLevel: 'anything', allowedHostPathPrefixes: [] }).level).toBe(
      'baseline',
    );
  });

  it('says in one sentence what it refuses, naming the level, the cluster and every field', () => {
    expect(clusterPolicyRefusal(cluster, 'web:3', task({ networkMode: 'host' }, { privileged: true }))).toBe(
      "container policy baseline of cluster prod refuses web:3: networkMode: host networking is refused: the task would share the host's network; containerDefinitions[0].privileged: privileged containers are refused: they own their host",
    );
    expect(clusterPolicyRefusal(cluster, 'web:3', task())).toBeNull();
  });

  it('answers RunTask and services with a 400 on taskDefinition that points to the policy', () => {
    let error: unknown;
    try {
      assertClusterPolicyAllows(cluster, 'web:3', task({}, { privileged: true }));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidParameterError);
    expect(error).toMatchObject({ field: 'taskDefinition' });
    expect((error as Error).message).toMatch(
      /^taskDefinition: container policy baseline of cluster prod refuses web:3: containerDefinitions\[0\]\.privileged: .* PUT \/v1\/clusters\/prod\/policy/,
    );
  });
});

describe('validateContainerPolicy', () => {
  it('stores prefixes normalized and once each, and defaults to none', () => {
    expect(
      validateContainerPolicy({
        level: 'baseline',
        allowedHostPathPrefixes: ['/srv/data/', '/srv//data', '/mnt/a/../b'],
      }),
    ).toEqual({ level: 'baseline', allowedHostPathPrefixes: ['/srv/data', '/mnt/b'] });
    expect(validateContainerPolicy({ level: 'privileged' })).toEqual({
      level: 'privileged',
      allowedHostPathPrefixes: [],
    });
  });

  it('accepts a parent of a forbidden path: what lies beside it may be mounted', () => {
    expect(validateContainerPolicy({ level: 'baseline', allowedHostPathPrefixes: ['/var'] })).toEqual({
      level: 'baseline',
      allowedHostPathPrefixes: ['/var'],
    });
  });

  it.each([
    [{}, 'level', /"baseline" or "privileged"/],
    [{ level: 'restricted' }, 'level', /"baseline" or "privileged"/],
    [{ level: 'baseline', allowedHostPathPrefixes: 'srv' }, 'allowedHostPathPrefixes', /array/],
    [{ level: 'baseline', allowedHostPathPrefixes: ['srv/data'] }, 'allowedHostPathPrefixes[0]', /absolute/],
    [
      { level: 'baseline', allowedHostPathPrefixes: ['/srv/a:b'] },
      'allowedHostPathPrefixes[0]',
      /without ":"/,
    ],
    [
      { level: 'baseline', allowedHostPathPrefixes: ['/srv', '/'] },
      'allowedHostPathPrefixes[1]',
      /every host path/,
    ],
    [
      { level: 'baseline', allowedHostPathPrefixes: ['/x/..'] },
      'allowedHostPathPrefixes[0]',
      /every host path/,
    ],
    [
      { level: 'baseline', allowedHostPathPrefixes: ['/etc/app'] },
      'allowedHostPathPrefixes[0]',
      /within \/etc.*allow nothing/,
    ],
    [
      { level: 'baseline', allowedHostPathPrefixes: ['/var/lib/docker'] },
      'allowedHostPathPrefixes[0]',
      /allow nothing/,
    ],
  ])('refuses %j on %s', (input, field, message) => {
    let error: unknown;
    try {
      validateContainerPolicy(input);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidParameterError);
    expect((error as InvalidParameterError).field).toBe(field);
    expect((error as Error).message).toMatch(message);
  });
});

it('normalizes host paths by segments', () => {
  expect(normalizeHostPath('/a//b/./c/../d/')).toBe('/a/b/d');
  expect(normalizeHostPath('/../..')).toBe('/');
});
