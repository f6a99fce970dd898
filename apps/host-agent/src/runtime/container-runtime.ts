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
}

export interface RegistryAuth {
  serverAddress: string;
  username: string;
  password: string;
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
  /** SIGTERM, then SIGKILL after the timeout. A stopped or missing container is fine. */
  stop(runtimeId: string, timeoutSeconds: number): Promise<void>;
  remove(runtimeId: string): Promise<void>;
  inspect(runtimeId: string): Promise<ContainerObservation | null>;
  /** Every container labelled with this instance id, running or not. */
  list(instanceId: string): Promise<ContainerObservation[]>;
  /** Calls back with a container id whenever one of this instance's containers changes state. */
  watch(instanceId: string, onChange: (runtimeId: string) => void): () => void;
}

export const LABELS = {
  taskId: 'berth.task-id',
  taskArn: 'berth.task-arn',
  cluster: 'berth.cluster',
  instance: 'berth.container-instance-id',
  containerName: 'berth.container-name',
} as const;
