import { z } from 'zod';
import { InvalidParameterError } from './errors.js';
import { parseOrThrow } from './validation.js';

/**
 * A cluster's container policy, in the spirit of Kubernetes' Pod Security Standards. `baseline`
 * (the default) refuses what lets a container reach out of its box onto its host: privileged
 * mode, the host's namespaces, added capabilities, host devices and host paths (but those under
 * the cluster's allowed prefixes). `privileged` allows all of it. One pure check serves every
 * place that enforces it: RunTask, CreateService and UpdateService, the deployment-controller
 * before it starts a service's task, and the agent before it creates the containers.
 */

export const CONTAINER_POLICY_LEVELS = ['baseline', 'privileged'] as const;
export type ContainerPolicyLevel = (typeof CONTAINER_POLICY_LEVELS)[number];

export interface ContainerPolicy {
  level: ContainerPolicyLevel;
  /** Host paths that baseline lets a task bind-mount, and everything under them. */
  allowedHostPathPrefixes: readonly string[];
}

/**
 * What a stored policy means. An unknown level counts as baseline, so a bad row refuses rather
 * than allows.
 */
export function containerPolicyOf(stored: {
  containerPolicyLevel: string;
  allowedHostPathPrefixes: readonly string[];
}): ContainerPolicy {
  return {
    level: stored.containerPolicyLevel === 'privileged' ? 'privileged' : 'baseline',
    allowedHostPathPrefixes: stored.allowedHostPathPrefixes,
  };
}

/** Docker's default capabilities: adding one of them again (after dropping ALL) gains nothing. */
export const DOCKER_DEFAULT_CAPABILITIES: readonly string[] = [
  'CHOWN',
  'DAC_OVERRIDE',
  'FSETID',
  'FOWNER',
  'MKNOD',
  'NET_RAW',
  'SETGID',
  'SETUID',
  'SETFCAP',
  'SETPCAP',
  'NET_BIND_SERVICE',
  'SYS_CHROOT',
  'KILL',
  'AUDIT_WRITE',
];

/**
 * Host paths that baseline never mounts, nor anything under them, nor any of their parents (so
 * not `/`, `/var` or `/run` either), whatever the allowed prefixes say: each hands the container
 * the host itself.
 */
export const FORBIDDEN_HOST_PATHS: ReadonlyMap<string, string> = new Map([
  ['/var/run/docker.sock', 'the Docker socket, which controls every container on the host'],
  ['/run/docker.sock', 'the Docker socket, which controls every container on the host'],
  ['/var/run/containerd', "containerd's socket, which controls every container on the host"],
  ['/run/containerd', "containerd's socket, which controls every container on the host"],
  ['/var/lib/docker', "Docker's own storage"],
  ['/var/lib/containerd', "containerd's own storage"],
  ['/etc', "the host's configuration"],
  ['/proc', "the host's processes and kernel settings"],
  ['/sys', "the host's kernel and devices"],
  ['/dev', "the host's devices"],
  ['/boot', "the host's kernel and boot loader"],
  ['/root', "the host's root user"],
]);

/**
 * Sysctls that Kubernetes' baseline calls safe: namespaced, so they change only the container's
 * own network or IPC namespace.
 */
export const SAFE_SYSCTLS: readonly string[] = [
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
];

export type PolicyRule =
  | 'privileged'
  | 'hostNetwork'
  | 'hostPid'
  | 'hostIpc'
  | 'capabilities'
  | 'devices'
  | 'sysctls'
  | 'securityOptions'
  | 'hostPath'
  | 'volumeDriverHostPath';

export interface PolicyViolation {
  /** JSON path of the refused field in the task definition: `volumes[2].host.sourcePath`. */
  field: string;
  rule: PolicyRule;
  /** The rule, said for a person. */
  message: string;
}

/**
 * The fields of a task definition (as stored, ECS JSON) that the policy looks at. Fields Berth
 * keeps without acting on them (pidMode, devices, systemControls...) are checked as well, so a
 * definition never counts as harmless only because Berth ignores it today.
 */
export interface PolicySubject {
  networkMode?: unknown;
  pidMode?: unknown;
  ipcMode?: unknown;
  volumes?: readonly {
    name?: unknown;
    host?: { sourcePath?: unknown };
    dockerVolumeConfiguration?: { driver?: unknown; driverOpts?: unknown };
  }[];
  containerDefinitions: readonly {
    name?: unknown;
    privileged?: unknown;
    linuxParameters?: { capabilities?: { add?: readonly unknown[] }; devices?: unknown };
    systemControls?: unknown;
    dockerSecurityOptions?: unknown;
  }[];
}

/** `/srv//data/./a/../b/` → `['srv', 'data', 'b']`; `..` never climbs above the root. */
export function hostPathSegments(path: string): string[] {
  const out: string[] = [];
  for (const s of path.split('/')) {
    if (s === '' || s === '.') continue;
    if (s === '..') out.pop();
    else out.push(s);
  }
  return out;
}

export const normalizeHostPath = (path: string) => `/${hostPathSegments(path).join('/')}`;

/** Compared by whole segments: `/srv/data2` is not within `/srv/data`. */
const within = (path: readonly string[], base: readonly string[]) =>
  base.length <= path.length && base.every((s, i) => path[i] === s);

/** Why baseline refuses to mount a host path, or null when it may. */
function hostPathRefusal(raw: string, policy: ContainerPolicy): string | null {
  // Docker's bind syntax is source:target[:mode]; a colon in the source would be read as one.
  if (raw.includes(':')) return `${raw} holds a ":", which Docker would read as the end of the host path`;
  const segments = hostPathSegments(raw);
  const path = normalizeHostPath(raw);
  if (segments.length === 0) return "/ is the host's whole file system";
  for (const [forbidden, what] of FORBIDDEN_HOST_PATHS) {
    const f = hostPathSegments(forbidden);
    if (within(segments, f))
      return `${path} ${path === forbidden ? 'is' : `is under ${forbidden},`} ${what}: never mounted under baseline, whatever the allowed prefixes`;
    if (within(f, segments))
      return `${path} holds ${forbidden}, ${what}: never mounted under baseline, whatever the allowed prefixes`;
  }
  const prefixes = policy.allowedHostPathPrefixes;
  if (prefixes.some((p) => within(segments, hostPathSegments(p)))) return null;
  return prefixes.length
    ? `${path} is not under an allowed host path prefix (${prefixes.join(', ')})`
    : `${path} is a host path, and no host path prefix is allowed`;
}

const hasEntries = (v: unknown) =>
  Array.isArray(v) ? v.length > 0 : typeof v === 'object' && v !== null && Object.keys(v).length > 0;

/**
 * The host path that a `local` volume's driver options mount, if any: a bind (`type: none` or
 * `bind`, or `o` with bind or rbind) of `device`, or a `device` that is a host path (a block
 * device or a file). NFS (`addr:/export`), CIFS (`//server/share`) and tmpfs devices are not.
 */
export function localVolumeHostPath(driverOpts: Record<string, string>): string | null {
  const device = driverOpts.device;
  if (!device) return null;
  const options = (driverOpts.o ?? '').split(',').map((o) => o.trim());
  const bind =
    driverOpts.type === 'none' ||
    driverOpts.type === 'bind' ||
    options.includes('bind') ||
    options.includes('rbind');
  // mount(2) reads a relative source from dockerd's working directory, the root.
  if (bind) return device.startsWith('/') ? device : `/${device}`;
  return device.startsWith('/') && !device.startsWith('//') ? device : null;
}

const stringMap = (v: unknown): Record<string, string> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)
    ? Object.fromEntries(Object.entries(v).filter((e): e is [string, string] => typeof e[1] === 'string'))
    : {};

/** Every field of the task definition that the policy refuses; empty when it may run. */
export function checkContainerPolicy(policy: ContainerPolicy, td: PolicySubject): PolicyViolation[] {
  if (policy.level === 'privileged') return [];
  const out: PolicyViolation[] = [];
  const refuse = (field: string, rule: PolicyRule, message: string) => out.push({ field, rule, message });

  if (td.networkMode === 'host')
    refuse(
      'networkMode',
      'hostNetwork',
      "host networking is refused: the task would share the host's network",
    );
  if (td.pidMode === 'host')
    refuse('pidMode', 'hostPid', "the host's PID namespace is refused: the task would see every process");
  if (td.ipcMode === 'host')
    refuse('ipcMode', 'hostIpc', "the host's IPC namespace is refused: the task would share its memory");

  td.volumes?.forEach((v, i) => {
    const source = v.host?.sourcePath;
    if (typeof source === 'string' && source !== '') {
      const why = hostPathRefusal(source, policy);
      if (why) refuse(`volumes[${i}].host.sourcePath`, 'hostPath', why);
    }
    const docker = v.dockerVolumeConfiguration;
    if (docker && (docker.driver === undefined || docker.driver === 'local')) {
      const path = localVolumeHostPath(stringMap(docker.driverOpts));
      const why = path && hostPathRefusal(path, policy);
      if (why)
        refuse(
          `volumes[${i}].dockerVolumeConfiguration.driverOpts.device`,
          'volumeDriverHostPath',
          `the local driver would mount a host path, judged as host.sourcePath is: ${why}`,
        );
    }
  });

  td.containerDefinitions.forEach((c, i) => {
    const at = `containerDefinitions[${i}]`;
    if (c.privileged === true)
      refuse(`${at}.privileged`, 'privileged', 'privileged containers are refused: they own their host');
    c.linuxParameters?.capabilities?.add?.forEach((cap, j) => {
      if (typeof cap === 'string' && DOCKER_DEFAULT_CAPABILITIES.includes(cap)) return;
      refuse(
        `${at}.linuxParameters.capabilities.add[${j}]`,
        'capabilities',
        cap === 'ALL'
          ? "ALL is refused: only Docker's default capabilities may be added"
          : `${String(cap)} is refused: only Docker's default capabilities may be added`,
      );
    });
    if (hasEntries(c.linuxParameters?.devices))
      refuse(
        `${at}.linuxParameters.devices`,
        'devices',
        "host devices are refused: they bypass the container's isolation",
      );
    if (Array.isArray(c.systemControls))
      c.systemControls.forEach((s: unknown, j) => {
        const namespace = (s as { namespace?: unknown } | null)?.namespace;
        if (typeof namespace === 'string' && SAFE_SYSCTLS.includes(namespace)) return;
        refuse(
          `${at}.systemControls[${j}].namespace`,
          'sysctls',
          `${String(namespace)} is refused: only these namespaced sysctls are allowed: ${SAFE_SYSCTLS.join(', ')}`,
        );
      });
    if (Array.isArray(c.dockerSecurityOptions))
      c.dockerSecurityOptions.forEach((o: unknown, j) => {
        // baseline already sets no-new-privileges; any other option would replace Docker's
        // default seccomp, AppArmor or SELinux confinement.
        if (o === 'no-new-privileges' || o === 'no-new-privileges:true' || o === 'no-new-privileges=true')
          return;
        refuse(
          `${at}.dockerSecurityOptions[${j}]`,
          'securityOptions',
          `${String(o)} is refused: containers keep Docker's default seccomp, AppArmor and SELinux confinement`,
        );
      });
  });
  return out;
}

export const describeViolations = (violations: readonly PolicyViolation[]) =>
  violations.map((v) => `${v.field}: ${v.message}`).join('; ');

/**
 * Why the cluster's policy refuses to start tasks of a task definition (`web:3`), or null: the
 * one sentence that a 400, a service event and an agent's stoppedReason all say.
 */
export function clusterPolicyRefusal(
  cluster: { name: string; containerPolicyLevel: string; allowedHostPathPrefixes: readonly string[] },
  taskDefinitionRef: string,
  td: PolicySubject,
): string | null {
  const policy = containerPolicyOf(cluster);
  const violations = checkContainerPolicy(policy, td);
  if (!violations.length) return null;
  return `container policy ${policy.level} of cluster ${cluster.name} refuses ${taskDefinitionRef}: ${describeViolations(violations)}`;
}

/** RunTask, CreateService and UpdateService: a 400 naming the refused fields. */
export function assertClusterPolicyAllows(
  cluster: { name: string; containerPolicyLevel: string; allowedHostPathPrefixes: readonly string[] },
  taskDefinitionRef: string,
  td: PolicySubject,
): void {
  const refusal = clusterPolicyRefusal(cluster, taskDefinitionRef, td);
  if (refusal)
    throw new InvalidParameterError(
      `taskDefinition: ${refusal} (an administrator sets the policy with PUT /v1/clusters/${cluster.name}/policy)`,
      'taskDefinition',
    );
}

export const MAX_ALLOWED_HOST_PATH_PREFIXES = 50;

export const containerPolicySchema = z.looseObject({
  level: z.enum(CONTAINER_POLICY_LEVELS, { error: 'is required: "baseline" or "privileged"' }),
  allowedHostPathPrefixes: z
    .array(
      z
        .string({ error: 'must be an absolute host path' })
        .max(4096, { error: 'must be at most 4096 characters' }),
      { error: 'must be an array of absolute host paths' },
    )
    .max(MAX_ALLOWED_HOST_PATH_PREFIXES, {
      error: `must hold at most ${MAX_ALLOWED_HOST_PATH_PREFIXES} prefixes`,
    })
    .default([]),
});

/**
 * What is wrong with an allowed host path prefix, or null. One that could allow nothing (inside a
 * forbidden path) or everything (`/`) is refused as a mistake, from the API and from agent flags.
 */
export function hostPathPrefixProblem(raw: string): string | null {
  if (!raw.startsWith('/') || raw.includes(':')) return 'must be an absolute host path, without ":"';
  const segments = hostPathSegments(raw);
  if (segments.length === 0) return '/ would allow every host path; use level "privileged" to allow them all';
  for (const [forbidden, what] of FORBIDDEN_HOST_PATHS)
    if (within(segments, hostPathSegments(forbidden)))
      return `${normalizeHostPath(raw)} is within ${forbidden}, ${what}, which baseline never mounts: the prefix would allow nothing`;
  return null;
}

/** PutClusterPolicy's body. Prefixes are stored normalized and once each. */
export function validateContainerPolicy(input: unknown): ContainerPolicy {
  const { level, allowedHostPathPrefixes } = parseOrThrow(containerPolicySchema, input ?? {});
  const prefixes: string[] = [];
  allowedHostPathPrefixes.forEach((raw, i) => {
    const field = `allowedHostPathPrefixes[${i}]`;
    const problem = hostPathPrefixProblem(raw);
    if (problem) throw new InvalidParameterError(`${field}: ${problem}`, field);
    const path = normalizeHostPath(raw);
    if (!prefixes.includes(path)) prefixes.push(path);
  });
  return { level, allowedHostPathPrefixes: prefixes };
}
