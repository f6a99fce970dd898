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
  type CreateContainerSpec,
  type NetworkBinding,
} from './runtime/container-runtime.js';
import { judgeDependency } from './dependencies.js';
import { TaskNetworkPool } from './network-pool.js';
import {
  containerState,
  exitDecision,
  mayRestart,
  stopWaves,
  taskState,
  type ContainerState,
  type ContainerView,
  type TaskState,
} from './container-lifecycle.js';
import type { HostPolicy } from './host-policy.js';

interface LocalContainer {
  name: string;
  /** From the spec, or from the labels of an adopted container; unknown for older containers. */
  essential?: boolean;
  dependsOn: string[];
  runtimeId?: string;
  status: ContainerState;
  /** Started by Docker at least once (a dependency's START condition). */
  started: boolean;
  /** When this process last started it; restartPolicy counts its attempt period from here. */
  startedAt?: number;
  /** A restart in place is under way: its exit is not a stop. */
  restarting?: boolean;
  restartCount: number;
  exitCode?: number;
  reason?: string;
  bindings: NetworkBinding[];
  health: 'UNKNOWN' | 'HEALTHY' | 'UNHEALTHY';
}

/** A running container as the stats sampler sees it: what to read, and its metrics' labels. */
export interface RunningContainer {
  taskId: string;
  /** The task's service name, empty for a task of no service (or one the agent adopted and has no spec for yet). */
  service: string;
  container: string;
  runtimeId: string;
  /** Times this agent restarted it in place (restartPolicy). */
  restartCount: number;
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
  /** The start trace: when this agent learned of the task, Docker's times, when it saw it RUNNING. */
  receivedAt?: number;
  /** Its network (bridge mode), taken from the pool at launch or read back from its containers. */
  network?: string;
  containersCreatedAt?: number;
  containersStartedAt?: number;
  runningAt?: number;
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
  /**
   * Stopped tasks the control plane no longer lists, whose containers stay on the host (for their
   * logs) until `removeAt`. Rebuilt after a restart: adoption finds the containers again, and the
   * wait counts from when Docker says they exited.
   */
  private readonly retained = new Map<
    string,
    { runtimeIds: string[]; network: string | undefined; removeAt: number }
  >();

  constructor(
    private readonly runtime: ContainerRuntime,
    private readonly instanceId: string,
    private readonly hostAddress: string,
    private readonly policy: HostPolicy,
    private readonly report: (r: TaskStateReport) => void,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
    private readonly pollMs = 250,
    /** How long a stopped task's containers stay on the host after it stopped (--task-cleanup-wait). */
    private readonly cleanupWaitMs = 0,
    private readonly networks = new TaskNetworkPool(runtime, instanceId, logger, 0),
  ) {}

  /** Rebuilds known tasks from the labelled containers on this host (after an agent restart). */
  async adopt(): Promise<void> {
    for (const o of await this.runtime.list(this.instanceId)) {
      if (!o.taskId || !o.containerName) continue;
      const task = this.ensureLocal(o.taskId);
      const essential = o.labels[LABELS.essential];
      task.containers.set(o.containerName, {
        ...newContainer(o.containerName),
        essential: essential === undefined ? undefined : essential === 'true',
        dependsOn: o.labels[LABELS.dependsOn]?.split(',').filter(Boolean) ?? [],
        // Its start time is unknown: count the restart attempt period from now, to be safe.
        startedAt: this.now(),
      });
      this.observe(task, o);
    }
    if (this.tasks.size) this.logger.info({ tasks: [...this.tasks.keys()] }, 'adopted running tasks');
    // Level-triggered: an essential container that exited while no agent ran stops its task now,
    // whether or not the control plane can be reached.
    for (const task of this.tasks.values()) this.changed(task);
  }

  /** Current reports of every known task, sent with Register so the control plane catches up. */
  reports(): TaskStateReport[] {
    return [...this.tasks.values()].map((t) => this.toReport(t));
  }

  /** Its running containers, for the stats sampler. */
  runningContainers(): RunningContainer[] {
    const out: RunningContainer[] = [];
    for (const task of this.tasks.values())
      for (const c of task.containers.values())
        if (c.status === 'RUNNING' && c.runtimeId)
          out.push({
            taskId: task.id,
            service: task.spec?.serviceName ?? '',
            container: c.name,
            runtimeId: c.runtimeId,
            restartCount: c.restartCount,
          });
    return out;
  }

  /** How many of its tasks are in each state, for the agent's metrics. */
  taskCounts(): Record<TaskState, number> {
    const counts: Record<TaskState, number> = { PENDING: 0, RUNNING: 0, STOPPING: 0, STOPPED: 0 };
    for (const task of this.tasks.values()) counts[this.status(task)]++;
    return counts;
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
      learnSpec(task, spec);
      if (spec.desiredStatus === 'RUNNING' && spec.lastStatus === 'PENDING') {
        this.startLaunch(task);
        return;
      }
      // Never started here, or its containers are gone: running it now would run it twice.
      for (const c of task.containers.values()) c.status = 'STOPPED';
      task.wantStop = true;
      if (spec.desiredStatus === 'RUNNING') task.reason = 'Task containers were not found on the host';
      this.emit(task);
      return;
    }
    learnSpec(task, spec);
    if (spec.desiredStatus === 'STOPPED') {
      this.stopTask(spec.taskId);
      return;
    }
    // An adopted container without labels learns only now whether it is essential.
    this.changed(task);
    // Adopted after an agent crash in the middle of a launch: finish it (creates are idempotent).
    const unfinished = [...task.containers.values()].some((c) => c.status === 'PENDING');
    if (!task.launched && !task.wantStop && unfinished) this.startLaunch(task);
  }

  private startLaunch(task: LocalTask): void {
    task.launched = true;
    task.receivedAt ??= this.now();
    this.enqueue(task, () => this.launch(task));
  }

  /** Idempotent: a task already stopping (asked to, or after an essential exit) is left as it is. */
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
    this.changed(task);
  }

  /** Level-triggered safety net for missed events: look at every container again. */
  async resync(): Promise<void> {
    for (const runtimeId of [...this.byRuntimeId.keys()]) await this.onContainerChange(runtimeId);
    for (const [taskId, { runtimeIds, network, removeAt }] of this.retained) {
      if (removeAt > this.now()) continue;
      await this.removeContainers(taskId, runtimeIds, network);
      this.retained.delete(taskId);
    }
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

  /**
   * Starts the task's containers, each as soon as its dependsOn conditions hold (independent ones
   * at once). Any failure fails the whole task: it never runs half-started.
   */
  private async launch(task: LocalTask): Promise<void> {
    const spec = task.spec!;
    if (spec.launchError) {
      this.failLaunch(task, null, spec.launchError);
      return;
    }
    // Before anything of the task exists on this host: a refused task leaves nothing behind.
    const refusal = await this.policy.refusal(spec);
    if (refusal) {
      this.failLaunch(task, null, refusal);
      return;
    }
    // The task's network and volumes are made while its images are checked (or pulled): neither
    // waits for the other.
    const prepared = this.prepareTask(task, spec).catch((err: unknown) => {
      this.failLaunch(task, null, reasonOf(err));
    });
    await Promise.all(spec.containers.map((c) => this.launchContainer(task, c, prepared)));
    this.changed(task);
    if (task.wantStop) await this.stopContainers(task);
  }

  /** The task's own network and its Docker volumes, before any container needs them. */
  private async prepareTask(task: LocalTask, spec: TaskSpec): Promise<void> {
    const labels = { [LABELS.taskId]: spec.taskId, [LABELS.instance]: this.instanceId };
    if (networkModeOf(spec) === 'bridge') task.network ??= await this.networks.take();
    for (const v of spec.volumes) {
      if (v.type !== 'docker') continue;
      const options = { driver: v.driver || 'local', driverOpts: v.driverOpts };
      if (v.scope === 'shared') {
        await this.runtime.ensureVolume(
          v.name,
          { ...options, labels: { ...v.labels, [LABELS.volumeScope]: 'shared' } },
          v.autoprovision,
        );
      } else {
        await this.runtime.ensureVolume(
          taskVolumeName(spec.taskId, v.name),
          { ...options, labels: { ...v.labels, ...labels, [LABELS.volumeScope]: 'task' } },
          true,
        );
      }
    }
  }

  private async launchContainer(task: LocalTask, c: ContainerSpec, prepared: Promise<void>): Promise<void> {
    const spec = task.spec!;
    const local = task.containers.get(c.name)!;
    if (local.status !== 'PENDING' || task.wantStop) return;
    try {
      task.pullStartedAt ??= this.now();
      await this.runtime.ensureImage(c.image, c.registryAuth);
      task.pullStoppedAt = Math.max(task.pullStoppedAt ?? 0, this.now());
      await prepared;
      if (task.wantStop) return;
      await this.waitForDependencies(task, c);
      if (task.wantStop) return;
      const o = await this.runtime.createAndStart(this.createSpec(task, spec, c));
      const now = this.now();
      Object.assign(local, { started: true, startedAt: now });
      task.containersCreatedAt = Math.max(task.containersCreatedAt ?? 0, o.createdAtMs ?? now);
      task.containersStartedAt = Math.max(task.containersStartedAt ?? 0, o.startedAtMs ?? now);
      this.observe(task, o);
      this.logger.info(
        { task: task.id, container: c.name, runtimeId: o.runtimeId, cluster: spec.cluster },
        'container started',
      );
      this.changed(task);
    } catch (err) {
      this.failLaunch(task, local, reasonOf(err));
    }
  }

  /** Waits until every dependsOn condition holds and every volumesFrom source exists. */
  private async waitForDependencies(task: LocalTask, c: ContainerSpec): Promise<void> {
    if (!c.dependsOn.length && !c.volumesFrom.length) return;
    const timeoutSeconds = c.startTimeoutSeconds || 180;
    const deadline = this.now() + timeoutSeconds * 1000;
    for (;;) {
      if (task.wantStop) return;
      const unmet: string[] = [];
      for (const d of c.dependsOn) {
        const dep = task.containers.get(d.containerName);
        if (!dep)
          throw new DependencyError(`container ${c.name} depends on unknown container ${d.containerName}`);
        if (dep.runtimeId && dep.status !== 'STOPPED') {
          const o = await this.runtime.inspect(dep.runtimeId);
          if (o) this.observe(task, o);
        }
        const verdict = judgeDependency(d.condition, dep);
        if (verdict.state === 'failed') throw new DependencyError(`container ${c.name}: ${verdict.reason}`);
        if (verdict.state === 'waiting') unmet.push(`${d.containerName} to be ${d.condition}`);
      }
      for (const v of c.volumesFrom)
        if (!task.containers.get(v.sourceContainer)?.runtimeId)
          unmet.push(`${v.sourceContainer} to be created`);
      if (!unmet.length) return;
      if (this.now() >= deadline)
        throw new DependencyError(
          `container ${c.name} waited ${timeoutSeconds} s (startTimeout) for ${unmet.join(' and ')}`,
        );
      await new Promise((r) => setTimeout(r, this.pollMs));
    }
  }

  /** The first failure of a launch stops the task; later ones only add to it. */
  private failLaunch(task: LocalTask, local: LocalContainer | null, reason: string): void {
    this.logger.warn({ task: task.id, container: local?.name, reason }, 'task failed to start');
    if (local && local.status !== 'STOPPED') Object.assign(local, { status: 'STOPPED', reason });
    if (task.reason) return;
    task.reason = reason;
    for (const other of task.containers.values()) if (other.status === 'PENDING') other.status = 'STOPPED';
    task.wantStop = true;
    this.emit(task);
  }

  /** restartPolicy: the same container started again; the task and its other containers carry on. */
  private async restartContainer(task: LocalTask, c: LocalContainer): Promise<void> {
    try {
      const stopping = task.wantStop;
      const o = await (stopping ? this.runtime.inspect(c.runtimeId!) : this.runtime.restart(c.runtimeId!));
      c.restarting = false;
      if (!o) {
        Object.assign(c, { status: 'STOPPED', reason: c.reason ?? 'Container removed' });
      } else if (stopping) {
        // The task began to stop meanwhile (an essential exit, a StopTask): this exit is final.
        this.observe(task, o);
      } else {
        c.restartCount++;
        c.startedAt = this.now();
        this.logger.info(
          { task: task.id, container: c.name, restarts: c.restartCount },
          'container restarted',
        );
        this.observe(task, o);
      }
    } catch (err) {
      Object.assign(c, { restarting: false, status: 'STOPPED', reason: reasonOf(err) });
    }
    this.changed(task);
  }

  /** Stops what still runs of the task, dependents before what they depend on. */
  private async stopContainers(task: LocalTask): Promise<void> {
    // Without the spec (adopted, control plane not heard from), Docker uses the stop timeout the
    // container was created with, which is the definition's.
    const timeouts = new Map(task.spec?.containers.map((c) => [c.name, c.stopTimeoutSeconds]) ?? []);
    for (const wave of stopWaves(views(task))) {
      await Promise.all(
        wave.map(async (name) => {
          const c = task.containers.get(name)!;
          if (!c.runtimeId) {
            c.status = 'STOPPED';
            return;
          }
          await this.runtime.stop(c.runtimeId, timeouts.get(name));
          const o = await this.runtime.inspect(c.runtimeId);
          if (o) this.observe(task, o);
          // Gone, or created but never started: either way it will not run.
          if (!o || (!o.running && o.exitCode === null)) c.status = 'STOPPED';
        }),
      );
    }
    this.emit(task);
  }

  /**
   * The control plane no longer lists the task: make sure nothing of it runs, then forget it. Its
   * containers are removed once the cleanup wait has passed since the last of them exited, so that
   * their logs can still be read (docs/observability.md).
   */
  private async forget(task: LocalTask): Promise<void> {
    task.wantStop = true;
    await this.stopContainers(task);
    const runtimeIds = [...task.containers.values()].flatMap((c) => (c.runtimeId ? [c.runtimeId] : []));
    for (const id of runtimeIds) this.byRuntimeId.delete(id);
    this.tasks.delete(task.id);
    if (this.cleanupWaitMs > 0) {
      let stoppedAt = 0;
      for (const id of runtimeIds)
        stoppedAt = Math.max(stoppedAt, (await this.runtime.finishedAt(id)) ?? this.now());
      const removeAt = (stoppedAt || this.now()) + this.cleanupWaitMs;
      if (removeAt > this.now()) {
        this.retained.set(task.id, { runtimeIds, network: task.network, removeAt });
        this.logger.info(
          { task: task.id, removeAt: new Date(removeAt) },
          'task stopped; containers kept for their logs',
        );
        return;
      }
    }
    await this.removeContainers(task.id, runtimeIds, task.network);
  }

  private async removeContainers(taskId: string, runtimeIds: string[], network?: string): Promise<void> {
    for (const id of runtimeIds) await this.runtime.remove(id);
    await this.runtime.removeTaskVolumes(taskId);
    // A task whose containers predate the network pool had a network named after it.
    await this.networks.release(network ?? `berth-task-${taskId}`);
    this.logger.info({ task: taskId }, 'task removed from host');
  }

  private observe(task: LocalTask, o: ContainerObservation): void {
    const c = task.containers.get(o.containerName);
    if (!c) return;
    c.runtimeId = o.runtimeId;
    this.byRuntimeId.set(o.runtimeId, { taskId: task.id, name: c.name });
    task.network ??= o.labels[LABELS.network];
    if (o.bindings.length) c.bindings = o.bindings;
    c.health = o.health;
    if (o.exitCode !== null && !o.running) {
      if (c.restarting) return;
      const restartPolicy = task.spec?.containers.find((x) => x.name === c.name)?.restartPolicy;
      const ranMs = this.now() - (c.startedAt ?? 0);
      if (mayRestart(task.wantStop, { restartPolicy, state: c.status, exitCode: o.exitCode, ranMs })) {
        c.restarting = true;
        // Not on the task's chain: a launch still waiting on dependencies must not hold it up.
        void this.restartContainer(task, c);
        return;
      }
      c.exitCode = o.exitCode;
      if (o.error) c.reason = o.error;
    }
    if (o.running || o.exitCode !== null) c.started = true;
    c.status = containerState(c.status, o);
  }

  /**
   * Something about the task changed: act on what its exits mean, then report. An essential
   * container that exited stops the task here and now, as the ECS agent does, so that it stops
   * even while the control plane cannot be reached; the controller still records the stop code
   * from the reports. Level-triggered and idempotent: once the task is stopping nothing more is
   * decided, and a StopTask that arrives later finds it stopping already.
   */
  private changed(task: LocalTask): void {
    const decision = exitDecision(task.wantStop, views(task));
    if (decision) task.reason ??= decision.reason;
    // What happened is reported before the stop: whether the control plane saw the task RUNNING
    // decides between EssentialContainerExited and TaskFailedToStart.
    this.emit(task);
    if (!decision) return;
    this.logger.info({ task: task.id, ...decision }, 'essential container exited: stopping the task');
    this.stopTask(task.id);
  }

  private status(task: LocalTask) {
    return taskState(
      task.wantStop,
      [...task.containers.values()].map((c) => c.status),
    );
  }

  private toReport(task: LocalTask): TaskStateReport {
    const status = this.status(task);
    if (status === 'RUNNING') task.runningAt ??= this.now();
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
      receivedAtMs: task.receivedAt,
      containersCreatedAtMs: task.containersCreatedAt,
      containersStartedAtMs: task.containersStartedAt,
      runningAtMs: task.runningAt,
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

  private createSpec(task: LocalTask, spec: TaskSpec, c: ContainerSpec): CreateContainerSpec {
    const volumes = new Map(spec.volumes.map((v) => [v.name, v]));
    const ro = (readOnly: boolean) => (readOnly ? ':ro' : '');
    const networkMode = networkModeOf(spec);
    return {
      name: containerName(spec.taskId, c.name),
      image: c.image,
      labels: {
        ...c.dockerLabels,
        [LABELS.taskId]: spec.taskId,
        [LABELS.taskArn]: spec.taskArn,
        [LABELS.cluster]: spec.cluster,
        [LABELS.instance]: this.instanceId,
        [LABELS.containerName]: c.name,
        [LABELS.essential]: String(c.essential),
        [LABELS.dependsOn]: c.dependsOn.map((d) => d.containerName).join(','),
        ...(task.network ? { [LABELS.network]: task.network } : {}),
      },
      command: c.command,
      entryPoint: c.entryPoint,
      environment: withSecrets(c.environment, c.secrets),
      cpuShares: c.cpu,
      memoryMiB: c.memory,
      memoryReservationMiB: c.memoryReservation,
      portMappings: c.portMappings,
      hostAddress: this.hostAddress,
      stopTimeoutSeconds: c.stopTimeoutSeconds,
      init: c.initProcessEnabled,
      healthCheck: c.healthCheck,
      networkMode,
      network: task.network ?? '',
      alias: c.name,
      binds: c.mountPoints.map((m) => {
        const v = volumes.get(m.sourceVolume);
        const source =
          v?.type === 'host'
            ? v.sourcePath
            : v?.scope === 'shared'
              ? v.name
              : taskVolumeName(spec.taskId, m.sourceVolume);
        return `${source}:${m.containerPath}${ro(m.readOnly)}`;
      }),
      volumesFrom: c.volumesFrom.map(
        (v) => `${containerName(spec.taskId, v.sourceContainer)}${ro(v.readOnly)}`,
      ),
      workingDirectory: c.workingDirectory,
      user: c.user,
      ulimits: c.ulimits,
      capAdd: c.capabilitiesAdd,
      capDrop: c.capabilitiesDrop,
      readonlyRootFilesystem: c.readonlyRootFilesystem,
      privileged: c.privileged,
      ...this.policy.confinement(spec),
      logConfiguration: c.logConfiguration,
      hostname: c.hostname,
      extraHosts: c.extraHosts.map((h) => `${h.hostname}:${h.ipAddress}`),
    };
  }
}

// One name per task and container: a retried create finds the first one instead of a twin.
export const containerName = (taskId: string, name: string) => `berth-${taskId}-${name}`;
// An empty mode (a gateway that predates network modes) is bridge, as in ECS.
const networkModeOf = (spec: TaskSpec): CreateContainerSpec['networkMode'] =>
  spec.networkMode === 'host' || spec.networkMode === 'none' ? spec.networkMode : 'bridge';
const taskVolumeName = (taskId: string, volume: string) => `berth-${taskId}-${volume}`;

const newContainer = (name: string): LocalContainer => ({
  name,
  dependsOn: [],
  status: 'PENDING',
  started: false,
  restartCount: 0,
  bindings: [],
  health: 'UNKNOWN',
});

/** The spec is the authority on what each container is; it may add containers an adoption missed. */
function learnSpec(task: LocalTask, spec: TaskSpec): void {
  task.spec = spec;
  for (const c of spec.containers) {
    const local = task.containers.get(c.name) ?? newContainer(c.name);
    local.essential = c.essential;
    local.dependsOn = c.dependsOn.map((d) => d.containerName);
    task.containers.set(c.name, local);
  }
}

const views = (task: LocalTask): ContainerView[] =>
  [...task.containers.values()].map((c) => ({
    name: c.name,
    state: c.status,
    essential: c.essential,
    exitCode: c.exitCode,
    dependsOn: c.dependsOn,
  }));

/** Secrets join the environment only here, at create: a secret wins over a variable of its name. */
function withSecrets(
  environment: ContainerSpec['environment'],
  secrets: ContainerSpec['secrets'],
): CreateContainerSpec['environment'] {
  const names = new Set(secrets.map((s) => s.name));
  return [...environment.filter((e) => !names.has(e.name)), ...secrets];
}

/** A dependsOn condition that failed or timed out: the task cannot start. */
class DependencyError extends Error {}

function reasonOf(err: unknown): string {
  if (err instanceof ContainerRuntimeError) return err.message;
  if (err instanceof DependencyError) return `DependencyError: ${err.message}`;
  return `CannotStartContainerError: ${(err as Error).message}`;
}
