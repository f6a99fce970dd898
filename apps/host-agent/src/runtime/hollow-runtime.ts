import {
  ContainerRuntimeError,
  LABELS,
  type ContainerObservation,
  type ContainerRuntime,
  type CreateContainerSpec,
} from './container-runtime.js';

/**
 * A simulated container runtime for scale tests and benchmarks (like Kubernetes' kubemark): the
 * agent speaks the real protocol to the control plane, but containers are entries in memory that
 * "start" after a configurable latency and fail at a configurable rate. Nothing runs. Not for
 * production: a hollow agent reports tasks RUNNING that do nothing.
 */
export interface HollowOptions {
  startLatencyMs: number;
  /** Probability in [0, 1] that a container fails to start. */
  failureRate: number;
  random?: () => number;
}

interface HollowContainer extends ContainerObservation {
  name: string;
  instanceId: string;
  finishedAt?: number;
}

export class HollowRuntime implements ContainerRuntime {
  private readonly containers = new Map<string, HollowContainer>();
  private readonly watchers = new Map<string, Set<(id: string) => void>>();
  private nextPort = 40000;
  private nextId = 0;

  constructor(private readonly options: HollowOptions) {}

  async ensureImage(): Promise<void> {}

  async createAndStart(spec: CreateContainerSpec): Promise<ContainerObservation> {
    const existing = [...this.containers.values()].find((c) => c.name === spec.name);
    if (existing) return existing;
    if (this.options.startLatencyMs > 0) await new Promise((r) => setTimeout(r, this.options.startLatencyMs));
    if ((this.options.random ?? Math.random)() < this.options.failureRate) {
      throw new ContainerRuntimeError(
        'CannotStartContainerError',
        'simulated start failure (hollow runtime)',
      );
    }
    const container: HollowContainer = {
      name: spec.name,
      instanceId: spec.labels[LABELS.instance] ?? '',
      runtimeId: `hollow-${(this.nextId++).toString(16).padStart(12, '0')}`,
      taskId: spec.labels[LABELS.taskId] ?? '',
      containerName: spec.labels[LABELS.containerName] ?? '',
      running: true,
      exitCode: null,
      error: null,
      health: spec.healthCheck ? 'HEALTHY' : 'UNKNOWN',
      labels: spec.labels,
      createdAtMs: Date.now(),
      startedAtMs: Date.now(),
      bindings: spec.portMappings.map((p) => ({
        bindIp: spec.hostAddress,
        containerPort: p.containerPort,
        hostPort: p.hostPort || this.nextPort++,
        protocol: p.protocol,
      })),
    };
    this.containers.set(container.runtimeId, container);
    return container;
  }

  async restart(runtimeId: string): Promise<ContainerObservation | null> {
    const c = this.containers.get(runtimeId);
    if (c) Object.assign(c, { running: true, exitCode: null });
    return c ?? null;
  }

  // Hollow tasks have no network or volumes to make.
  async ensureNetwork(): Promise<void> {}
  async freeNetworks(): Promise<string[]> {
    return [];
  }
  async ensureVolume(): Promise<void> {}
  async isNetworkFree(): Promise<boolean> {
    return false;
  }
  async removeNetwork(): Promise<void> {}
  async removeTaskVolumes(): Promise<void> {}

  async stop(runtimeId: string, _timeoutSeconds?: number): Promise<void> {
    const c = this.containers.get(runtimeId);
    if (!c?.running) return;
    Object.assign(c, { running: false, exitCode: 143, finishedAt: Date.now() });
    for (const notify of this.watchers.get(c.instanceId) ?? []) notify(runtimeId);
  }

  async remove(runtimeId: string): Promise<void> {
    this.containers.delete(runtimeId);
  }

  async inspect(runtimeId: string): Promise<ContainerObservation | null> {
    return this.containers.get(runtimeId) ?? null;
  }

  async list(instanceId: string): Promise<ContainerObservation[]> {
    return [...this.containers.values()].filter((c) => c.instanceId === instanceId);
  }

  /** Simulated containers use nothing: no samples, so hollow agents send no stats reports. */
  async stats(): Promise<null> {
    return null;
  }

  async finishedAt(runtimeId: string): Promise<number | null> {
    return this.containers.get(runtimeId)?.finishedAt ?? null;
  }

  watch(instanceId: string, onChange: (runtimeId: string) => void): () => void {
    const set = this.watchers.get(instanceId) ?? new Set();
    set.add(onChange);
    this.watchers.set(instanceId, set);
    return () => set.delete(onChange);
  }
}
