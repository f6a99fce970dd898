/**
 * Everything the agent needs from a container engine. Docker (dockerode) implements it; a
 * simulated runtime can stand beside it for scale tests.
 */
export interface NetworkBinding {
  bindIp: string;
  containerPort: number;
  hostPort: number;
  protocol: string;
}

/** What the engine says about one of Berth's containers right now. */
export interface ContainerObservation {
  runtimeId: string;
  taskId: string;
  containerName: string;
  running: boolean;
  /** Set once the container has exited. */
  exitCode: number | null;
  bindings: NetworkBinding[];
  /** The engine's own error for a container that could not run (OOM kill, start failure). */
  error: string | null;
  /** Docker's health check verdict; UNKNOWN without a check or while it starts. */
  health: 'UNKNOWN' | 'HEALTHY' | 'UNHEALTHY';
  /** The labels it was created with: what an agent adopting it knows of its definition. */
  labels: Record<string, string>;
  /** When the engine created and last started it, ms since the epoch (a task's start trace). */
  createdAtMs?: number;
  startedAtMs?: number;
}

/** A container's resource counters at one moment, as the engine reads them. */
export interface ContainerStatsReading {
  /** When the engine read them, in ms since the epoch. */
  readAtMs: number;
  /** CPU time used since the container started, in nanoseconds. */
  cpuTotalNs: number;
  /** Memory in use, page cache excluded (as `docker stats` shows it), and the limit. */
  memoryBytes: number;
  memoryLimitBytes: number;
  /** Bytes received and sent on all its interfaces since it started. */
  networkRxBytes: number;
  networkTxBytes: number;
}

export interface RegistryAuth {
  serverAddress: string;
  username: string;
  password: string;
}

export interface VolumeOptions {
  driver: string;
  driverOpts: Record<string, string>;
  labels: Record<string, string>;
}

export interface CreateContainerSpec {
  name: string;
  image: string;
  labels: Record<string, string>;
  command: string[];
  entryPoint: string[];
  environment: { name: string; value: string }[];
  cpuShares: number;
  memoryMiB: number;
  memoryReservationMiB: number;
  portMappings: { containerPort: number; hostPort: number; protocol: string }[];
  hostAddress: string;
  stopTimeoutSeconds: number;
  init: boolean;
  /** bridge: join `network` (the task's own) under the container's name; host; none. */
  networkMode: 'bridge' | 'host' | 'none';
  network: string;
  alias: string;
  /** Bind mounts of host paths and Docker volumes, in Docker's `source:target[:ro]` form. */
  binds: string[];
  /** Docker names of containers whose volumes this one mounts, with `:ro` when read-only. */
  volumesFrom: string[];
  workingDirectory: string;
  user: string;
  ulimits: { name: string; softLimit: number; hardLimit: number }[];
  capAdd: string[];
  capDrop: string[];
  readonlyRootFilesystem: boolean;
  privileged: boolean;
  /** Docker's no-new-privileges security option: setuid binaries gain nothing. */
  noNewPrivileges: boolean;
  /** The most processes the container may run; 0: no limit. */
  pidsLimit: number;
  logConfiguration?: { logDriver: string; options: Record<string, string> };
  hostname: string;
  /** `hostname:ip` entries for /etc/hosts. */
  extraHosts: string[];
  healthCheck?: {
    command: string[];
    intervalSeconds: number;
    timeoutSeconds: number;
    retries: number;
    startPeriodSeconds: number;
  };
}

/** An error that knows what the task's stoppedReason should say (ECS's error names). */
export class ContainerRuntimeError extends Error {
  constructor(
    readonly kind: 'CannotPullContainerError' | 'CannotCreateContainerError' | 'CannotStartContainerError',
    message: string,
  ) {
    super(`${kind}: ${message}`);
  }
}

export interface ContainerRuntime {
  /**
   * Pulls the image unless present (with the registry's credentials when given). Throws
   * ContainerRuntimeError('CannotPullContainerError').
   */
  ensureImage(image: string, auth?: RegistryAuth): Promise<void>;
  /** Creates (or finds, by name) and starts a container; idempotent. */
  createAndStart(spec: CreateContainerSpec): Promise<ContainerObservation>;
  /** Starts an exited container again, in place (restartPolicy). */
  restart(runtimeId: string): Promise<ContainerObservation | null>;
  /** Creates a task network unless it exists. */
  ensureNetwork(name: string, labels: Record<string, string>): Promise<void>;
  /** This instance's pool networks (LABELS.networkPool) that no container has joined. */
  freeNetworks(instanceId: string): Promise<string[]>;
  /**
   * Makes sure a Docker volume exists: creates it when `create` is set, otherwise a missing one is
   * a CannotCreateContainerError (a shared volume without autoprovision).
   */
  ensureVolume(name: string, options: VolumeOptions, create: boolean): Promise<void>;
  /** Whether the network exists and no container is attached to it. */
  isNetworkFree(name: string): Promise<boolean>;
  /** Removes a network; a missing one is fine, a failure is only logged. */
  removeNetwork(name: string): Promise<void>;
  /** Removes the task-scoped Docker volumes a task left behind. */
  removeTaskVolumes(taskId: string): Promise<void>;
  /**
   * SIGTERM, then SIGKILL after the timeout (without one, the stop timeout the container was
   * created with). A stopped or missing container is fine.
   */
  stop(runtimeId: string, timeoutSeconds?: number): Promise<void>;
  remove(runtimeId: string): Promise<void>;
  inspect(runtimeId: string): Promise<ContainerObservation | null>;
  /** Every container labelled with this instance id, running or not. */
  list(instanceId: string): Promise<ContainerObservation[]>;
  /** One reading of a running container's counters; null when it is gone or not running. */
  stats(runtimeId: string): Promise<ContainerStatsReading | null>;
  /** Calls back with a container id whenever one of this instance's containers changes state. */
  watch(instanceId: string, onChange: (runtimeId: string) => void): () => void;
  /** When the container exited (Unix ms), null while it runs or when it is gone. */
  finishedAt(runtimeId: string): Promise<number | null>;
}

/** What part of a container's log to read (docs/observability.md). */
export interface LogsOptions {
  /** The last lines only; undefined: all. */
  tail?: number;
  /** Unix milliseconds; 0: no bound. */
  sinceMs: number;
  untilMs: number;
  follow: boolean;
  timestamps: boolean;
}

/**
 * A container's output as the engine streams it: with `tty` false, Docker's multiplexed frames
 * (stdout and stderr, see docker-frames.ts); with a tty, the bytes as the terminal wrote them.
 */
export interface OutputStream {
  stream: NodeJS.ReadableStream & { pause(): void; resume(): void; destroy(): void };
  tty: boolean;
}

export interface ExecSession extends OutputStream {
  /** stdin, when the exec is interactive. */
  input: NodeJS.WritableStream | null;
  resize(rows: number, cols: number): Promise<void>;
  /** Once the output has ended: the command's exit code. */
  exitCode(): Promise<number | null>;
}

/** A session asked for a container this instance does not have, or cannot serve now. */
export class SessionRefused extends Error {}

/** Reading logs and running commands in this host's containers, for the control plane's sessions. */
export interface ContainerSessions {
  /** Throws SessionRefused when this instance has no such container. */
  logs(dockerName: string, instanceId: string, options: LogsOptions): Promise<OutputStream>;
  /** Throws SessionRefused when this instance has no such container, or it does not run. */
  exec(
    dockerName: string,
    instanceId: string,
    command: string[],
    options: { interactive: boolean; tty: boolean },
  ): Promise<ExecSession>;
}

export const LABELS = {
  taskId: 'berth.task-id',
  taskArn: 'berth.task-arn',
  cluster: 'berth.cluster',
  instance: 'berth.container-instance-id',
  containerName: 'berth.container-name',
  volumeScope: 'berth.volume-scope',
  /** `true` or `false`: an adopting agent stops the task when an essential container has exited. */
  essential: 'berth.essential',
  /** Comma-separated names of the containers it depends on: the order an adopting agent stops in. */
  dependsOn: 'berth.depends-on',
  /** On a container: the task network it joined (bridge mode), removed with the task. */
  network: 'berth.network',
  /** On a network: `true` when the agent's network pool made it ahead of a task. */
  networkPool: 'berth.network-pool',
} as const;
