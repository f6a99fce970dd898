import type { Logger } from '@berth/config';
import {
  ContainerStatus,
  HealthStatus,
  TaskStatus,
  type ContainerSpec,
  type TaskSpec,
  type TaskStateReport,
} from '@berth/proto';
import {
  ContainerRuntimeError,
  LABELS,
  type ContainerObservation,
  type ContainerRuntime,
  type NetworkBinding,
} from './runtime/container-runtime.js';

type ContainerState = 'PENDING' | 'RUNNING' | 'STOPPED';
type TaskState = 'PENDING' | 'RUNNING' | 'STOPPING' | 'STOPPED';

interface LocalContainer {
  name: string;
  runtimeId?: string;
  status: ContainerState;
  exitCode?: number;
  reason?: string;
  bindings: NetworkBinding[];
  health: 'UNKNOWN' | 'HEALTHY' | 'UNHEALTHY';
}

interface LocalTask {
  id: string;
  spec?: TaskSpec;
  containers: Map<string, LocalContainer>;
  wantStop: boolean;
  /** A launch was started by this process; adopted tasks have none until they need one. */
  launched: boolean;
  reason?: string;
  pullStartedAt?: number;
  pullStoppedAt?: number;
  /** Operations on one task run one after another: a stop waits for a launch in progress. */
  chain: Promise<void>;
  lastReported?: string;
}

/**
 * The agent's view of its tasks, and the only writer of their observed state. It converges the
 * containers on this host to the desired state the control plane sends, and reports every
 * change up. Known state is rebuilt from container labels after a restart.
 */
export class TaskEngine {
  private readonly tasks = new Map<string, LocalTask>();
  private readonly byRuntimeId = new Map<string, { taskId: string; name: string }>();

  constructor(
    private readonly runtime: ContainerRuntime,
    private readonly instanceId: string,
    private readonly hostAddress: string,
    private readonly report: (r: TaskStateReport) => void,
    private readonly logger: Logger,
  ) {}

  /** Rebuilds known tasks from the labelled containers on this host (after an agent restart). */
  async adopt(): Promise<void> {
    for (const o of await this.runtime.list(this.instanceId)) {
      if (!o.taskId || !o.containerName) continue;
      const task = this.ensureLocal(o.taskId);
      task.containers.set(o.containerName, {
        name: o.containerName,
        status: 'PENDING',
        bindings: [],
        health: 'UNKNOWN',
      });
      this.observe(task, o);
    }
    if (this.tasks.size) this.logger.info({ tasks: [...this.tasks.keys()] }, 'adopted running tasks');
  }

  /** Current reports of every known task, sent with Register so the control plane catches up. */
  reports(): TaskStateReport[] {
    return [...this.tasks.values()].map((t) => this.toReport(t));
  }

  runningCount(): number {
    return [...this.tasks.values()].filter((t) => this.status(t) === 'RUNNING').length;
  }

  /** The full desired state: converge every listed task; tasks not listed must not exist here. */
  applyDesiredState(specs: TaskSpec[]): void {
    const listed = new Set(specs.map((s) => s.taskId));
    for (const spec of specs) this.applyTask(spec);
    for (const task of this.tasks.values()) {
      if (!listed.has(task.id)) this.enqueue(task, () => this.forget(task));
    }
  }

  applyTask(spec: TaskSpec): void {
    let task = this.tasks.get(spec.taskId);
    if (!task) {
      task = this.ensureLocal(spec.taskId);
      task.spec = spec;
      for (const c of spec.containers)
        task.containers.set(c.name, { name: c.name, status: 'PENDING', bindings: [], health: 'UNKNOWN' });
      if (spec.desiredStatus === 'RUNNING' && spec.lastStatus === 'PENDING') {
        this.startLaunch(task);
        return;
      }
      // Never started here, or its containers are gone: running it now would run it twice.
      for (const c of task.containers.values()) c.status = 'STOPPED';
      if (spec.desiredStatus === 'RUNNING') task.reason = 'Task containers were not found on the host';
      this.emit(task);
      return;
    }
    task.spec = spec;
    for (const c of spec.containers) {
      if (!task.containers.has(c.name))
        task.containers.set(c.name, { name: c.name, status: 'PENDING', bindings: [], health: 'UNKNOWN' });
    }
    if (spec.desiredStatus === 'STOPPED') {
      this.stopTask(spec.taskId);
      return;
    }
    // Adopted after an agent crash in the middle of a launch: finish it (creates are idempotent).
    const unfinished = [...task.containers.values()].some((c) => c.status === 'PENDING');
    if (!task.launched && !task.wantStop && unfinished) this.startLaunch(task);
  }

  private startLaunch(task: LocalTask): void {
    task.launched = true;
    this.enqueue(task, () => this.launch(task));
  }

  stopTask(taskId: string): void {
    const task = this.tasks.get(taskId);
    if (!task || task.wantStop) return;
    task.wantStop = true;
    this.emit(task);
    this.enqueue(task, () => this.stopContainers(task));
  }

  /** A container changed state (a Docker event, or the periodic resync): observe it again. */
  async onContainerChange(runtimeId: string): Promise<void> {
    const ref = this.byRuntimeId.get(runtimeId);
    if (!ref) return;
    const task = this.tasks.get(ref.taskId);
    if (!task) return;
    const o = await this.runtime.inspect(runtimeId);
    if (o) this.observe(task, o);
    else {
      const c = task.containers.get(ref.name);
      if (c && c.status !== 'STOPPED')
        Object.assign(c, { status: 'STOPPED', reason: c.reason ?? 'Container removed' });
    }
    this.emit(task);
  }

  /** Level-triggered safety net for missed events: look at every container again. */
  async resync(): Promise<void> {
    for (const runtimeId of [...this.byRuntimeId.keys()]) await this.onContainerChange(runtimeId);
  }

  private ensureLocal(taskId: string): LocalTask {
    let task = this.tasks.get(taskId);
    if (!task) {
      task = {
        id: taskId,
        containers: new Map(),
        wantStop: false,
        launched: false,
        chain: Promise.resolve(),
      };
      this.tasks.set(taskId, task);
    }
    return task;
  }

  private enqueue(task: LocalTask, op: () => Promise<void>): void {
    task.chain = task.chain.then(op).catch((err: unknown) => {
      this.logger.error({ err, task: task.id }, 'task operation failed');
    });
  }

  private async launch(task: LocalTask): Promise<void> {
    const spec = task.spec!;
    for (const c of spec.containers) {
      if (task.wantStop) break;
      const local = task.containers.get(c.name)!;
      if (local.status !== 'PENDING') continue;
      try {
        task.pullStartedAt ??= Date.now();
        await this.runtime.ensureImage(c.image, c.registryAuth);
        task.pullStoppedAt = Date.now();
        const o = await this.runtime.createAndStart(this.createSpec(spec, c));
        this.observe(task, o);
        this.logger.info(
          { task: task.id, container: c.name, runtimeId: o.runtimeId, cluster: spec.cluster },
          'container started',
        );
      } catch (err) {
        const reason =
          err instanceof ContainerRuntimeError
            ? err.message
            : `CannotStartContainerError: ${(err as Error).message}`;
        this.logger.warn({ task: task.id, container: c.name, reason }, 'container failed to start');
        Object.assign(local, { status: 'STOPPED', reason });
        task.reason = reason;
        // A task that cannot start all its containers does not run half-started.
        for (const other of task.containers.values())
          if (other.status === 'PENDING') other.status = 'STOPPED';
        task.wantStop = true;
        await this.stopContainers(task);
        return;
      }
    }
    this.emit(task);
    if (task.wantStop) await this.stopContainers(task);
  }

  private async stopContainers(task: LocalTask): Promise<void> {
    const timeouts = new Map(task.spec?.containers.map((c) => [c.name, c.stopTimeoutSeconds]) ?? []);
    await Promise.all(
      [...task.containers.values()].map(async (c) => {
        if (!c.runtimeId) {
          if (c.status === 'PENDING') c.status = 'STOPPED';
          return;
        }
        await this.runtime.stop(c.runtimeId, timeouts.get(c.name) ?? 30);
        const o = await this.runtime.inspect(c.runtimeId);
        if (o) this.observe(task, o);
        else c.status = 'STOPPED';
      }),
    );
    this.emit(task);
  }

  /** The control plane no longer lists the task: make sure nothing of it runs, then remove it. */
  private async forget(task: LocalTask): Promise<void> {
    task.wantStop = true;
    await this.stopContainers(task);
    for (const c of task.containers.values()) {
      if (c.runtimeId) {
        await this.runtime.remove(c.runtimeId);
        this.byRuntimeId.delete(c.runtimeId);
      }
    }
    this.tasks.delete(task.id);
    this.logger.info({ task: task.id }, 'task removed from host');
  }

  private observe(task: LocalTask, o: ContainerObservation): void {
    const c = task.containers.get(o.containerName);
    if (!c) return;
    c.runtimeId = o.runtimeId;
    this.byRuntimeId.set(o.runtimeId, { taskId: task.id, name: c.name });
    if (o.bindings.length) c.bindings = o.bindings;
    c.health = o.health;
    if (o.running) {
      if (c.status === 'PENDING') c.status = 'RUNNING';
    } else if (o.exitCode !== null) {
      c.status = 'STOPPED';
      c.exitCode = o.exitCode;
      if (o.error) c.reason = o.error;
    }
  }

  private status(task: LocalTask): TaskState {
    const states = [...task.containers.values()].map((c) => c.status);
    if (states.every((s) => s === 'STOPPED')) return 'STOPPED';
    if (task.wantStop) return 'STOPPING';
    if (states.some((s) => s === 'PENDING')) return 'PENDING';
    return 'RUNNING';
  }

  private toReport(task: LocalTask): TaskStateReport {
    const status = this.status(task);
    return {
      taskId: task.id,
      status: {
        PENDING: TaskStatus.TASK_STATUS_PENDING,
        RUNNING: TaskStatus.TASK_STATUS_RUNNING,
        STOPPING: TaskStatus.TASK_STATUS_STOPPING,
        STOPPED: TaskStatus.TASK_STATUS_STOPPED,
      }[status],
      reason: task.reason ?? '',
      pullStartedAtMs: task.pullStartedAt,
      pullStoppedAtMs: task.pullStoppedAt,
      containers: [...task.containers.values()].map((c) => ({
        name: c.name,
        runtimeId: c.runtimeId ?? '',
        status: {
          PENDING: ContainerStatus.CONTAINER_STATUS_PENDING,
          RUNNING: ContainerStatus.CONTAINER_STATUS_RUNNING,
          STOPPED: ContainerStatus.CONTAINER_STATUS_STOPPED,
        }[c.status],
        exitCode: c.exitCode,
        reason: c.reason ?? '',
        networkBindings: c.bindings,
        healthStatus: {
          UNKNOWN: HealthStatus.HEALTH_STATUS_UNKNOWN,
          HEALTHY: HealthStatus.HEALTH_STATUS_HEALTHY,
          UNHEALTHY: HealthStatus.HEALTH_STATUS_UNHEALTHY,
        }[c.health],
      })),
    };
  }

  /** Reports the task if anything about it changed since the last report. */
  private emit(task: LocalTask): void {
    const report = this.toReport(task);
    const key = JSON.stringify(report);
    if (key === task.lastReported) return;
    task.lastReported = key;
    this.report(report);
  }

  private createSpec(spec: TaskSpec, c: ContainerSpec) {
    return {
      // One name per task and container: a retried create finds the first one instead of a twin.
      name: `berth-${spec.taskId}-${c.name}`,
      image: c.image,
      labels: {
        [LABELS.taskId]: spec.taskId,
        [LABELS.taskArn]: spec.taskArn,
        [LABELS.cluster]: spec.cluster,
        [LABELS.instance]: this.instanceId,
        [LABELS.containerName]: c.name,
      },
      command: c.command,
      entryPoint: c.entryPoint,
      environment: c.environment,
      cpuShares: c.cpu,
      memoryMiB: c.memory,
      memoryReservationMiB: c.memoryReservation,
      portMappings: c.portMappings,
      hostAddress: this.hostAddress,
      stopTimeoutSeconds: c.stopTimeoutSeconds,
      init: c.initProcessEnabled,
      healthCheck: c.healthCheck,
    };
  }
}
