import { z } from 'zod';
import { InvalidParameterError } from './errors.js';
import { parseOrThrow, positiveInt } from './validation.js';
import { validateSecretReferences } from './secrets.js';
import { normalizeTaskDefinition, type TaskDefinitionWarning } from './task-definition-normalize.js';

export {
  normalizeTaskDefinition,
  taskCpu,
  taskMemory,
  OUTPUT_ONLY_FIELDS,
  type NormalizedTaskDefinition,
  type TaskDefinitionWarning,
} from './task-definition-normalize.js';

/** ECS limits. */
export const MAX_CONTAINERS_PER_TASK = 10;
export const MAX_STOP_TIMEOUT_SECONDS = 120;
export const DEFAULT_STOP_TIMEOUT_SECONDS = 30;
export const MAX_START_TIMEOUT_SECONDS = 600;

const NAME_RULE = /^[A-Za-z0-9_-]{1,255}$/;
const nameField = (what: string) =>
  z
    .string({ error: `is required and must be a string (${what})` })
    .regex(NAME_RULE, { error: `must be 1-255 letters, digits, hyphens or underscores (${what})` });

const portMappingSchema = z.looseObject({
  containerPort: z
    .int({ error: 'must be an integer port 1-65535' })
    .min(1, { error: 'must be an integer port 1-65535' })
    .max(65535, { error: 'must be an integer port 1-65535' }),
  hostPort: z
    .int({ error: 'must be an integer port 0-65535 (0 or absent: dynamic)' })
    .min(0, { error: 'must be an integer port 0-65535 (0 or absent: dynamic)' })
    .max(65535, { error: 'must be an integer port 0-65535 (0 or absent: dynamic)' })
    .optional(),
  protocol: z.enum(['tcp', 'udp'], { error: 'must be "tcp" or "udp"' }).optional(),
});

const keyValueSchema = z.looseObject({
  name: z.string({ error: 'is required and must be a string' }).min(1, { error: 'must not be empty' }),
  value: z.string({ error: 'must be a string' }),
});

const stringList = z.array(z.string({ error: 'must be a string' }), { error: 'must be an array of strings' });

const seconds = (min: number, max: number) =>
  z
    .int({ error: `must be an integer number of seconds from ${min} to ${max}` })
    .min(min, { error: `must be an integer number of seconds from ${min} to ${max}` })
    .max(max, { error: `must be an integer number of seconds from ${min} to ${max}` });

/** ECS's container health check, run by Docker. */
const healthCheckSchema = z.looseObject(
  {
    command: z
      .array(z.string({ error: 'must be a string' }), {
        error: 'is required: ["CMD-SHELL", "..."] or ["CMD", ...]',
      })
      .min(2, { error: 'is required: ["CMD-SHELL", "..."] or ["CMD", ...]' })
      .refine((c) => c[0] === 'CMD' || c[0] === 'CMD-SHELL', {
        error: 'must start with "CMD" or "CMD-SHELL"',
      }),
    interval: seconds(5, 300).optional(),
    timeout: seconds(2, 60).optional(),
    retries: z
      .int({ error: 'must be an integer from 1 to 10' })
      .min(1, { error: 'must be an integer from 1 to 10' })
      .max(10, { error: 'must be an integer from 1 to 10' })
      .optional(),
    startPeriod: seconds(0, 300).optional(),
  },
  { error: 'must be an object {command, interval, timeout, retries, startPeriod}' },
);

const bool = z.boolean({ error: 'must be a boolean' });
const stringMap = z.record(z.string(), z.string({ error: 'must be a string' }), {
  error: 'must be an object of string values',
});

export const DEPENDS_ON_CONDITIONS = ['START', 'COMPLETE', 'SUCCESS', 'HEALTHY'] as const;
export type DependsOnCondition = (typeof DEPENDS_ON_CONDITIONS)[number];

const ULIMIT_NAMES = [
  'core',
  'cpu',
  'data',
  'fsize',
  'locks',
  'memlock',
  'msgqueue',
  'nice',
  'nofile',
  'nproc',
  'rss',
  'rtprio',
  'rttime',
  'sigpending',
  'stack',
] as const;

/** Linux capabilities as ECS names them (without CAP_), plus ALL. */
const CAPABILITIES = [
  'ALL',
  'AUDIT_CONTROL',
  'AUDIT_READ',
  'AUDIT_WRITE',
  'BLOCK_SUSPEND',
  'BPF',
  'CHECKPOINT_RESTORE',
  'CHOWN',
  'DAC_OVERRIDE',
  'DAC_READ_SEARCH',
  'FOWNER',
  'FSETID',
  'IPC_LOCK',
  'IPC_OWNER',
  'KILL',
  'LEASE',
  'LINUX_IMMUTABLE',
  'MAC_ADMIN',
  'MAC_OVERRIDE',
  'MKNOD',
  'NET_ADMIN',
  'NET_BIND_SERVICE',
  'NET_BROADCAST',
  'NET_RAW',
  'PERFMON',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYS_ADMIN',
  'SYS_BOOT',
  'SYS_CHROOT',
  'SYS_MODULE',
  'SYS_NICE',
  'SYS_PACCT',
  'SYS_PTRACE',
  'SYS_RAWIO',
  'SYS_RESOURCE',
  'SYS_TIME',
  'SYS_TTY_CONFIG',
  'SYSLOG',
  'WAKE_ALARM',
] as const;

const capabilityList = z.array(
  z.enum(CAPABILITIES, {
    error: 'must be a Linux capability such as NET_ADMIN or SYS_PTRACE (without CAP_)',
  }),
  { error: 'must be an array of capability names' },
);

export const MAX_IGNORED_EXIT_CODES = 50;

const containerDefinitionSchema = z.looseObject({
  name: nameField('container name'),
  image: z
    .string({ error: 'is required and must be a string (image reference)' })
    .min(1, { error: 'must not be empty (image reference)' }),
  cpu: z
    .int({ error: 'must be an integer of CPU units (1024 per vCPU)' })
    .min(0, {
      error: 'must be an integer of CPU units (1024 per vCPU), 0 or more',
    })
    .optional(),
  memory: positiveInt('MiB, hard limit').optional(),
  memoryReservation: positiveInt('MiB, soft limit').optional(),
  portMappings: z.array(portMappingSchema, { error: 'must be an array' }).optional(),
  environment: z.array(keyValueSchema, { error: 'must be an array of {name, value}' }).optional(),
  secrets: z
    .array(
      z.looseObject({
        name: z.string({ error: 'is required and must be a string' }).min(1, { error: 'must not be empty' }),
        valueFrom: z
          .string({ error: 'is required and must be a string' })
          .min(1, { error: 'must not be empty' }),
      }),
      { error: 'must be an array of {name, valueFrom}' },
    )
    .optional(),
  repositoryCredentials: z
    .looseObject(
      {
        credentialsParameter: z
          .string({ error: 'is required: the secret that holds {"username", "password"}' })
          .min(1, { error: 'must not be empty' }),
      },
      { error: 'must be an object {credentialsParameter}' },
    )
    .optional(),
  command: stringList.optional(),
  entryPoint: stringList.optional(),
  workingDirectory: z.string({ error: 'must be a string (an absolute path)' }).optional(),
  user: z.string({ error: 'must be a string: user, user:group, uid or uid:gid' }).min(1).optional(),
  essential: bool.optional(),
  dependsOn: z
    .array(
      z.looseObject({
        containerName: z.string({ error: 'is required: the name of another container in the task' }),
        condition: z.enum(DEPENDS_ON_CONDITIONS, { error: 'must be START, COMPLETE, SUCCESS or HEALTHY' }),
      }),
      { error: 'must be an array of {containerName, condition}' },
    )
    .optional(),
  stopTimeout: z
    .int({ error: `must be an integer number of seconds 0-${MAX_STOP_TIMEOUT_SECONDS}` })
    .min(0, { error: `must be an integer number of seconds 0-${MAX_STOP_TIMEOUT_SECONDS}` })
    .max(MAX_STOP_TIMEOUT_SECONDS, {
      error: `must be an integer number of seconds 0-${MAX_STOP_TIMEOUT_SECONDS}`,
    })
    .optional(),
  startTimeout: seconds(2, MAX_START_TIMEOUT_SECONDS).optional(),
  healthCheck: healthCheckSchema.optional(),
  restartPolicy: z
    .looseObject(
      {
        enabled: bool,
        ignoredExitCodes: z
          .array(z.int({ error: 'must be an integer exit code' }), {
            error: 'must be an array of exit codes',
          })
          .max(MAX_IGNORED_EXIT_CODES, { error: `must hold at most ${MAX_IGNORED_EXIT_CODES} exit codes` })
          .optional(),
        restartAttemptPeriod: seconds(60, 1800).optional(),
      },
      { error: 'must be an object {enabled, ignoredExitCodes, restartAttemptPeriod}' },
    )
    .optional(),
  mountPoints: z
    .array(
      z.looseObject({
        sourceVolume: z.string({ error: 'is required: the name of a volume of the task definition' }),
        containerPath: z
          .string({ error: 'is required: an absolute path in the container' })
          .regex(/^\//, { error: 'must be an absolute path in the container' }),
        readOnly: bool.optional(),
      }),
      { error: 'must be an array of {sourceVolume, containerPath, readOnly}' },
    )
    .optional(),
  volumesFrom: z
    .array(
      z.looseObject({
        sourceContainer: z.string({ error: 'is required: the name of another container in the task' }),
        readOnly: bool.optional(),
      }),
      { error: 'must be an array of {sourceContainer, readOnly}' },
    )
    .optional(),
  ulimits: z
    .array(
      z.looseObject({
        name: z.enum(ULIMIT_NAMES, { error: `must be one of ${ULIMIT_NAMES.join(', ')}` }),
        softLimit: z.int({ error: 'must be an integer' }),
        hardLimit: z.int({ error: 'must be an integer' }),
      }),
      { error: 'must be an array of {name, softLimit, hardLimit}' },
    )
    .optional(),
  linuxParameters: z
    .looseObject(
      {
        initProcessEnabled: bool.optional(),
        capabilities: z
          .looseObject(
            { add: capabilityList.optional(), drop: capabilityList.optional() },
            {
              error: 'must be an object {add, drop}',
            },
          )
          .optional(),
      },
      { error: 'must be an object' },
    )
    .optional(),
  readonlyRootFilesystem: bool.optional(),
  privileged: bool.optional(),
  dockerLabels: stringMap.optional(),
  logConfiguration: z
    .looseObject(
      {
        logDriver: z
          .string({ error: 'is required: json-file, local, syslog, journald, gelf, fluentd, awslogs, ...' })
          .min(1),
        options: stringMap.optional(),
      },
      { error: 'must be an object {logDriver, options}' },
    )
    .optional(),
  hostname: z
    .string({ error: 'must be a string' })
    .regex(/^[A-Za-z0-9]([A-Za-z0-9.-]{0,253}[A-Za-z0-9])?$/, { error: 'must be a valid host name' })
    .optional(),
  extraHosts: z
    .array(
      z.looseObject({
        hostname: z.string({ error: 'is required and must be a string' }).min(1),
        ipAddress: z.union([z.ipv4(), z.ipv6()], { error: 'must be an IPv4 or IPv6 address' }),
      }),
      { error: 'must be an array of {hostname, ipAddress}' },
    )
    .optional(),
});

/** ECS takes task-level cpu and memory as strings ("512"); numbers are accepted too. */
export const taskLevelUnits = (what: string) =>
  z
    .union([z.int(), z.string().regex(/^\d+$/)], { error: `must be a positive integer (${what})` })
    .transform((v) => Number(v))
    .pipe(positiveInt(what));

export const NETWORK_MODES = ['bridge', 'host', 'none', 'awsvpc'] as const;

const volumeSchema = z.looseObject({
  name: nameField('volume name'),
  host: z
    .looseObject(
      {
        sourcePath: z
          .string({ error: 'must be an absolute path on the host' })
          .regex(/^\//, { error: 'must be an absolute path on the host' })
          .optional(),
      },
      { error: 'must be an object {sourcePath}' },
    )
    .optional(),
  dockerVolumeConfiguration: z
    .looseObject(
      {
        scope: z.enum(['task', 'shared'], { error: 'must be "task" or "shared"' }).optional(),
        autoprovision: bool.optional(),
        driver: z
          .string({ error: 'must be a string (a Docker volume driver, such as local)' })
          .min(1)
          .optional(),
        driverOpts: stringMap.optional(),
        labels: stringMap.optional(),
      },
      { error: 'must be an object {scope, autoprovision, driver, driverOpts, labels}' },
    )
    .optional(),
});

const tagSchema = z.looseObject({
  key: z
    .string({ error: 'is required and must be a string' })
    .min(1, { error: 'must be 1-128 characters' })
    .max(128, { error: 'must be 1-128 characters' }),
  value: z
    .string({ error: 'must be a string' })
    .max(256, { error: 'must be at most 256 characters' })
    .optional(),
});

export const tagsSchema = z
  .array(tagSchema, { error: 'must be an array of {key, value}' })
  .max(50, { error: 'must hold at most 50 tags' });

export const registerTaskDefinitionSchema = z.looseObject({
  family: nameField('family'),
  containerDefinitions: z
    .array(containerDefinitionSchema, { error: 'is required and must be an array' })
    .min(1, { error: 'must hold at least one container definition' })
    .max(MAX_CONTAINERS_PER_TASK, {
      error: `must hold at most ${MAX_CONTAINERS_PER_TASK} container definitions`,
    }),
  cpu: taskLevelUnits('CPU units').optional(),
  memory: taskLevelUnits('MiB').optional(),
  networkMode: z.enum(NETWORK_MODES, { error: 'must be bridge, host, none or awsvpc' }).optional(),
  volumes: z.array(volumeSchema, { error: 'must be an array of volumes' }).optional(),
  placementConstraints: z
    .array(
      z.looseObject({
        type: z.literal('memberOf', {
          error: 'must be "memberOf" (the only constraint a task definition takes)',
        }),
        expression: z.string({ error: 'is required: a cluster query expression' }).min(1),
      }),
      { error: 'must be an array of {type: "memberOf", expression}' },
    )
    .max(10, { error: 'must hold at most 10 constraints' })
    .optional(),
  tags: tagsSchema.optional(),
  taskRoleArn: z.string({ error: 'must be a string' }).optional(),
  executionRoleArn: z.string({ error: 'must be a string' }).optional(),
});

export type RegisterTaskDefinitionInput = z.output<typeof registerTaskDefinitionSchema>;
export type ContainerDefinition = z.output<typeof containerDefinitionSchema>;
export type VolumeDefinition = z.output<typeof volumeSchema>;

/** How a task runs: bridge unless host or none; awsvpc runs as bridge (registration warns). */
export function effectiveNetworkMode(networkMode: unknown): NetworkMode {
  return networkMode === 'host' || networkMode === 'none' ? networkMode : 'bridge';
}

/**
 * What one task reserves: the task-level cpu/memory when set, otherwise the sum over its
 * containers (memory, or memoryReservation when a container sets no hard limit).
 */
export function reservationOf(
  task: { cpu?: number; memory?: number },
  containers: { cpu?: number; memory?: number; memoryReservation?: number }[],
): { cpu: number; memory: number } {
  return {
    cpu: task.cpu ?? containers.reduce((n, c) => n + (c.cpu ?? 0), 0),
    memory: task.memory ?? containers.reduce((n, c) => n + (c.memory || c.memoryReservation || 0), 0),
  };
}

export type NetworkMode = 'bridge' | 'host' | 'none';

export interface ValidTaskDefinition {
  family: string;
  /** The definition to store and return: as the user sent it, normalized as ECS reads it. */
  definition: Record<string, unknown>;
  containerDefinitions: ContainerDefinition[];
  /** What one task reserves on an instance. */
  cpu: number;
  memory: number;
  /** How the task runs (awsvpc runs as bridge). */
  networkMode: NetworkMode;
  warnings: TaskDefinitionWarning[];
}

const fail = (field: string, rule: string): never => {
  throw new InvalidParameterError(`${field}: ${rule}`, field);
};

/**
 * Validates a RegisterTaskDefinition request with ECS's rules and computes the reservation of one
 * task: task-level cpu/memory when set, otherwise the sum over its containers. The request is
 * first normalized (`normalizeTaskDefinition`: nulls, a describe wrapper, output-only fields, unit
 * strings). Fields Berth keeps without acting on them come back as warnings; fields it cannot
 * honour safely are refused.
 */
export function validateTaskDefinition(body: unknown): ValidTaskDefinition {
  const normalized = normalizeTaskDefinition(body);
  const input = normalized.input;
  const td = parseOrThrow(registerTaskDefinitionSchema, input);
  const containers = td.containerDefinitions;
  const networkMode = effectiveNetworkMode(td.networkMode);

  const index = new Map<string, number>();
  containers.forEach((c, i) => {
    const first = index.get(c.name);
    if (first !== undefined)
      fail(
        `containerDefinitions[${i}].name`,
        `"${c.name}" is already used by containerDefinitions[${first}]; container names must be unique in a task definition`,
      );
    index.set(c.name, i);
  });

  if (!containers.some((c) => c.essential !== false))
    fail('containerDefinitions', 'at least one container must be essential');

  const volumes = new Map<string, number>();
  td.volumes?.forEach((v, i) => {
    const at = `volumes[${i}]`;
    if (volumes.has(v.name))
      fail(`${at}.name`, `"${v.name}" is already used by volumes[${volumes.get(v.name)}]`);
    volumes.set(v.name, i);
    if (v.host && v.dockerVolumeConfiguration) fail(at, 'set host or dockerVolumeConfiguration, not both');
    if (v.dockerVolumeConfiguration?.autoprovision && v.dockerVolumeConfiguration.scope !== 'shared')
      fail(`${at}.dockerVolumeConfiguration.autoprovision`, 'is only allowed with scope "shared"');
    for (const refused of ['efsVolumeConfiguration', 'fsxWindowsFileServerVolumeConfiguration'])
      if (refused in v)
        fail(
          `${at}.${refused}`,
          'is not available in Berth; back the volume with dockerVolumeConfiguration instead (driver "local" with driverOpts type=nfs, o=addr=...,device=:/path for an NFS share)',
        );
    if ('configuredAtLaunch' in v && v.configuredAtLaunch === true)
      fail(
        `${at}.configuredAtLaunch`,
        'is not available in Berth; describe the volume in the task definition',
      );
  });

  if (td.cpu !== undefined) {
    const total = containers.reduce((n, c) => n + (c.cpu ?? 0), 0);
    if (total > td.cpu)
      fail(
        'containerDefinitions',
        `the containers' cpu adds up to ${total} units, above the task's cpu (${td.cpu})`,
      );
  }

  const hostPorts = new Map<string, string>();
  containers.forEach((c, i) => {
    const at = `containerDefinitions[${i}]`;
    if (td.memory === undefined && c.memory === undefined && c.memoryReservation === undefined)
      fail(
        `${at}.memory`,
        'required (or memoryReservation) when the task definition sets no task-level memory',
      );
    if (c.memory !== undefined && c.memoryReservation !== undefined && c.memoryReservation > c.memory)
      fail(`${at}.memoryReservation`, `must not exceed memory (${c.memory} MiB)`);
    if (td.memory !== undefined && c.memory !== undefined && c.memory > td.memory)
      fail(`${at}.memory`, `${c.memory} MiB exceeds the task's memory (${td.memory} MiB)`);
    if (td.memory !== undefined && c.memoryReservation !== undefined && c.memoryReservation > td.memory)
      fail(
        `${at}.memoryReservation`,
        `${c.memoryReservation} MiB exceeds the task's memory (${td.memory} MiB)`,
      );
    if (networkMode === 'none' && c.portMappings?.length)
      fail(`${at}.portMappings`, 'must be empty when networkMode is none');
    if (networkMode === 'host' && c.hostname !== undefined)
      fail(`${at}.hostname`, "cannot be set when networkMode is host (the task uses the host's name)");
    c.portMappings?.forEach((pm, j) => {
      const here = `${at}.portMappings[${j}].hostPort`;
      if (networkMode === 'host' && pm.hostPort !== undefined && pm.hostPort !== pm.containerPort)
        fail(here, `must equal containerPort (${pm.containerPort}) when networkMode is host`);
      const hostPort = networkMode === 'host' ? pm.containerPort : pm.hostPort;
      if (!hostPort) return;
      const key = `${hostPort}/${pm.protocol ?? 'tcp'}`;
      const other = hostPorts.get(key);
      if (other) fail(here, `host port ${key} is already mapped by ${other}`);
      hostPorts.set(key, here);
    });
    c.dependsOn?.forEach((d, j) => {
      const here = `${at}.dependsOn[${j}]`;
      const target = index.get(d.containerName);
      if (target === undefined)
        fail(`${here}.containerName`, `no container named "${d.containerName}" in this task definition`);
      if (target === i) fail(`${here}.containerName`, 'a container cannot depend on itself');
      const dep = containers[target!]!;
      if ((d.condition === 'COMPLETE' || d.condition === 'SUCCESS') && dep.essential !== false)
        fail(
          `${here}.condition`,
          `${d.condition} needs a non-essential container, and "${dep.name}" is essential (it must keep running)`,
        );
      if (d.condition === 'HEALTHY' && !dep.healthCheck)
        fail(`${here}.condition`, `HEALTHY needs a healthCheck on "${dep.name}"`);
    });
    c.mountPoints?.forEach((m, j) => {
      if (!volumes.has(m.sourceVolume))
        fail(`${at}.mountPoints[${j}].sourceVolume`, `no volume named "${m.sourceVolume}" in volumes`);
    });
    c.volumesFrom?.forEach((v, j) => {
      const target = index.get(v.sourceContainer);
      if (target === undefined || target === i)
        fail(
          `${at}.volumesFrom[${j}].sourceContainer`,
          `must name another container of this task definition, not "${v.sourceContainer}"`,
        );
    });
    c.ulimits?.forEach((u, j) => {
      if (u.softLimit > u.hardLimit)
        fail(`${at}.ulimits[${j}].softLimit`, `must not exceed hardLimit (${u.hardLimit})`);
    });
  });
  const cycle = dependsOnCycle(containers);
  if (cycle) fail('containerDefinitions', `dependsOn has a cycle: ${cycle.join(' -> ')}`);
  validateSecretReferences(containers);

  return {
    family: td.family,
    definition: input,
    containerDefinitions: containers,
    ...reservationOf(td, containers),
    networkMode,
    warnings: [...normalized.warnings, ...warningsFor(input)],
  };
}

/** The first cycle of dependsOn edges, as container names, or null. */
function dependsOnCycle(containers: ContainerDefinition[]): string[] | null {
  const edges = new Map(containers.map((c) => [c.name, (c.dependsOn ?? []).map((d) => d.containerName)]));
  const state = new Map<string, 'visiting' | 'done'>();
  const path: string[] = [];
  const visit = (name: string): string[] | null => {
    if (state.get(name) === 'done') return null;
    if (state.get(name) === 'visiting') return [...path.slice(path.indexOf(name)), name];
    state.set(name, 'visiting');
    path.push(name);
    for (const next of edges.get(name) ?? []) {
      const found = visit(next);
      if (found) return found;
    }
    path.pop();
    state.set(name, 'done');
    return null;
  };
  for (const c of containers) {
    const found = visit(c.name);
    if (found) return found;
  }
  return null;
}

/** Task-level fields Berth acts on, or stores for a later release without a warning. */
const TASK_FIELDS = new Set([
  'family',
  'containerDefinitions',
  'cpu',
  'memory',
  'networkMode',
  'volumes',
  'placementConstraints',
  'tags',
  'taskRoleArn',
  'executionRoleArn',
]);

const TASK_WARNINGS: Record<string, string> = {
  requiresCompatibilities:
    'kept; Berth runs every task on its own hosts, as the EC2 launch type does (FARGATE and EXTERNAL mean nothing here)',
  runtimePlatform: 'kept and ignored; Berth runs Linux containers on the CPU architecture of its hosts',
  pidMode: 'kept and ignored; every container has its own PID namespace',
  ipcMode: 'kept and ignored; every container has its own IPC namespace',
  proxyConfiguration: 'kept and ignored; App Mesh proxies are not available in Berth',
  inferenceAccelerators: 'kept and ignored; there are no inference accelerators in Berth',
  ephemeralStorage: "kept and ignored; a container writes to its host's Docker storage",
  enableFaultInjection: 'kept and ignored',
};

/** Container fields Berth acts on without a warning. */
const CONTAINER_FIELDS = new Set([
  'name',
  'image',
  'cpu',
  'memory',
  'memoryReservation',
  'portMappings',
  'environment',
  'secrets',
  'repositoryCredentials',
  'command',
  'entryPoint',
  'workingDirectory',
  'user',
  'essential',
  'dependsOn',
  'stopTimeout',
  'startTimeout',
  'healthCheck',
  'restartPolicy',
  'mountPoints',
  'volumesFrom',
  'ulimits',
  'linuxParameters',
  'readonlyRootFilesystem',
  'privileged',
  'dockerLabels',
  'logConfiguration',
  'hostname',
  'extraHosts',
]);

const CONTAINER_WARNINGS: Record<string, string> = {
  environmentFiles: 'kept and ignored; environment files (from S3) are out of scope, set environment instead',
  links: 'kept and ignored; containers of a bridge task already reach each other by container name',
  dnsServers: "kept and ignored; containers use Docker's DNS",
  dnsSearchDomains: "kept and ignored; containers use Docker's DNS",
  disableNetworking: 'kept and ignored; use networkMode none for a task without a network',
  interactive: 'kept and ignored',
  pseudoTerminal: 'kept and ignored',
  systemControls: 'kept and ignored',
  dockerSecurityOptions: 'kept and ignored',
  firelensConfiguration: 'kept and ignored; FireLens is not available in Berth',
  resourceRequirements: 'kept and ignored; GPUs are not scheduled by Berth',
  credentialSpecs: 'kept and ignored',
  versionConsistency: 'kept and ignored; the image is resolved by its tag on each host',
};

const LINUX_PARAMETERS = new Set(['initProcessEnabled', 'capabilities']);
const UNSUPPORTED_LOG_DRIVERS = new Set(['awslogs', 'awsfirelens']);

/** What `aws ecs describe-task-definition` prints for fields left unset: nothing to warn about. */
const isEmpty = (v: unknown) =>
  (Array.isArray(v) && v.length === 0) ||
  (typeof v === 'object' && v !== null && Object.keys(v).length === 0);

function warningsFor(input: Record<string, unknown>): TaskDefinitionWarning[] {
  const warnings: TaskDefinitionWarning[] = [];
  const warn = (field: string, message: string) => warnings.push({ field, message });
  for (const key of Object.keys(input)) {
    if (TASK_FIELDS.has(key) || isEmpty(input[key])) continue;
    // Off, as describe-task-definition prints it for every definition: what Berth does anyway.
    if (key === 'enableFaultInjection' && input[key] === false) continue;
    warn(key, TASK_WARNINGS[key] ?? 'not a field Berth knows; kept and ignored');
  }
  if (input.networkMode === 'awsvpc')
    warn(
      'networkMode',
      'awsvpc runs as bridge: the task gets its own Docker network, not its own network interface or IP address',
    );
  if (input.taskRoleArn !== undefined)
    warn('taskRoleArn', 'stored; Berth does not hand out role credentials to tasks yet');
  if (input.executionRoleArn !== undefined)
    warn('executionRoleArn', "stored; images are pulled with the cluster's registry credentials");
  const containers = input.containerDefinitions as Record<string, unknown>[];
  containers.forEach((c, i) => {
    const at = `containerDefinitions[${i}]`;
    for (const key of Object.keys(c)) {
      if (CONTAINER_FIELDS.has(key) || isEmpty(c[key])) continue;
      warn(`${at}.${key}`, CONTAINER_WARNINGS[key] ?? 'not a field Berth knows; kept and ignored');
    }
    const linux = c.linuxParameters as Record<string, unknown> | undefined;
    for (const key of Object.keys(linux ?? {}))
      if (!LINUX_PARAMETERS.has(key) && !isEmpty(linux![key]))
        warn(`${at}.linuxParameters.${key}`, 'kept and ignored');
    const log = c.logConfiguration as { logDriver?: string; secretOptions?: unknown } | undefined;
    if (log?.logDriver && UNSUPPORTED_LOG_DRIVERS.has(log.logDriver))
      warn(
        `${at}.logConfiguration.logDriver`,
        `${log.logDriver} is not available here; the container logs with json-file`,
      );
    if (log && !isEmpty(log.secretOptions ?? []))
      warn(`${at}.logConfiguration.secretOptions`, 'kept and ignored');
  });
  return warnings;
}
