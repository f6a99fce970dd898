import { randomUUID } from 'node:crypto';
import {
  clusterPolicyRefusal,
  drainEnded,
  instanceAttributes,
  loadBalancingEvents,
  targetLeavesAtOnce,
  targetState,
  taskLoadBalancerHealth,
  taskTargets,
  type TargetHealthReport,
  type TargetState,
  readTaskDefinition,
  serviceEvents,
  taskHealth,
  type ContainerLastStatus,
  type DeploymentStatus,
  type HealthStatus,
  type InstanceLivenessRow,
  type RolloutState,
  type SchedulingStrategy,
  type ServiceAction,
  type StopDecision,
  type TaskDesiredStatus,
  type TaskLastStatus,
} from '@berth/domain';
import { parseConstraints, SERVICE_DEFAULT_STRATEGY } from '@berth/scheduler-core';
import { daemonInstances, type DaemonInstanceRow } from '../daemon-instances.js';
import type {
  Applied,
  InstanceStore,
  LostTasks,
  ServiceSnapshot,
  ServiceStore,
  TargetStore,
  TargetSweep,
  TaskRecord,
  TaskStore,
} from '../stores.js';

/**
 * The controller's tables in memory, with a clock the test moves, and the three stores over
 * them: a harness for fast reconciler tests, as Nomad's scheduler has. The stores keep the
 * repositories' semantics that correctness rests on: every guarded write applies only if the row
 * is still as expected, reads return copies (a snapshot does not change under the reconciler),
 * and `applyPlan` reads and writes without yielding, so it is atomic like the locked transaction.
 * The helpers below play the API, the scheduler and the agents.
 */

export interface MemCluster {
  id: string;
  name: string;
  containerPolicyLevel: string;
  allowedHostPathPrefixes: string[];
}

export interface MemInstance {
  id: string;
  clusterId: string;
  status: 'ACTIVE' | 'DRAINING' | 'INACTIVE';
  agentConnected: boolean;
  lastHeartbeatAt: Date | null;
  silentSince: Date | null;
  silenceSeenAt: Date | null;
  brakeHeldAt: Date | null;
  reservedCpu: number;
  reservedMemory: number;
  registeredCpu: number;
  registeredMemory: number;
  attributes: Record<string, string>;
}

interface ContainerDefinitionLike {
  name: string;
  essential?: boolean;
  healthCheck?: unknown;
  [field: string]: unknown;
}

export interface MemTaskDefinition {
  id: string;
  family: string;
  revision: number;
  cpu: number;
  memory: number;
  definition: { family: string; containerDefinitions: ContainerDefinitionLike[] };
}

export interface MemContainer {
  name: string;
  essential: boolean;
  hasHealthCheck: boolean;
  lastStatus: ContainerLastStatus;
  exitCode: number | null;
  reason: string | null;
  healthStatus: HealthStatus;
  /** As agents report them: [{bindIP, containerPort, hostPort, protocol}]. */
  networkBindings?: unknown;
}

export interface MemTargetGroup {
  id: string;
  name: string;
  deregistrationDelaySeconds: number;
  intervalSeconds: number;
  unhealthyThresholdCount: number;
  /** Whether a listener sends traffic to it. */
  inUse: boolean;
}

export interface MemTarget {
  id: string;
  targetGroupId: string;
  taskId: string | null;
  host: string;
  port: number;
  drainingSince: Date | null;
  createdAt: Date;
  /** The load balancers' reports, by reporter. */
  health: TargetHealthReport[];
}

export interface MemTask {
  id: string;
  clusterId: string;
  taskDefinitionId: string;
  containerInstanceId: string | null;
  serviceId: string | null;
  deploymentId: string | null;
  startedBy: string | null;
  group: string;
  lastStatus: TaskLastStatus;
  desiredStatus: TaskDesiredStatus;
  failed: boolean;
  cpu: number;
  memory: number;
  holdsReservation: boolean;
  placementConstraints: unknown[];
  placementStrategy: unknown[];
  provisioningReason: string | null;
  stopCode: string | null;
  stoppedReason: string | null;
  createdAt: Date;
  startedAt: Date | null;
  stoppingAt: Date | null;
  stoppedAt: Date | null;
  containers: MemContainer[];
  protectedUntil: Date | null;
  /** Placed only there (DAEMON services, StartTask). */
  targetInstanceId: string | null;
}

export interface MemService {
  id: string;
  clusterId: string;
  name: string;
  status: 'ACTIVE' | 'DRAINING' | 'INACTIVE';
  taskDefinitionId: string;
  desiredCount: number;
  minimumHealthyPercent: number;
  maximumPercent: number;
  circuitBreakerEnable: boolean;
  circuitBreakerRollback: boolean;
  healthCheckGracePeriodSeconds: number;
  placementConstraints: unknown[];
  placementStrategy: unknown[];
  disconnectedTaskBehavior: 'REPLACE' | 'WAIT';
  steady: boolean;
  schedulingStrategy: SchedulingStrategy;
}

/** A loadBalancers entry (service_load_balancer, deployment_load_balancer). */
export interface MemBinding {
  targetGroupId: string;
  containerName: string;
  containerPort: number;
}

export interface MemDeployment {
  id: string;
  serviceId: string;
  status: DeploymentStatus;
  taskDefinitionId: string;
  desiredCount: number;
  rolloutState: RolloutState;
  rolloutStateReason: string | null;
  rolledBackFrom: string | null;
  createdAt: Date;
  /** The service's loadBalancers when it began: what its tasks register in. */
  loadBalancers: MemBinding[];
}

export interface MemServiceEvent {
  serviceId: string;
  message: string;
  createdAt: Date;
}

const copyTask = (t: MemTask): MemTask => ({ ...t, containers: t.containers.map((c) => ({ ...c })) });

export class InMemoryBerth {
  /** The database's clock. */
  now = new Date('2026-01-01T00:00:00Z');
  readonly clusters = new Map<string, MemCluster>();
  readonly instances = new Map<string, MemInstance>();
  readonly taskDefinitions = new Map<string, MemTaskDefinition>();
  readonly tasks = new Map<string, MemTask>();
  readonly services = new Map<string, MemService>();
  readonly deployments = new Map<string, MemDeployment>();
  readonly events: MemServiceEvent[] = [];
  readonly targetGroups = new Map<string, MemTargetGroup>();
  readonly serviceLoadBalancers: (MemBinding & { serviceId: string })[] = [];
  readonly targets = new Map<string, MemTarget>();

  readonly taskStore: TaskStore = new InMemoryTaskStore(this);
  readonly serviceStore: ServiceStore = new InMemoryServiceStore(this);
  readonly instanceStore: InstanceStore = new InMemoryInstanceStore(this);
  readonly targetStore: TargetStore = new InMemoryTargetStore(this);

  advance(ms: number): void {
    this.now = new Date(this.now.getTime() + ms);
  }

  // The API: what users and agents create.

  addCluster(name = 'default', over: Partial<MemCluster> = {}): MemCluster {
    const c = {
      id: randomUUID(),
      name,
      containerPolicyLevel: 'baseline',
      allowedHostPathPrefixes: [],
      ...over,
    };
    this.clusters.set(c.id, c);
    return c;
  }

  /** A registered instance whose agent has just sent a heartbeat. */
  addInstance(clusterId: string, over: Partial<MemInstance> = {}): MemInstance {
    const i: MemInstance = {
      id: randomUUID(),
      clusterId,
      status: 'ACTIVE',
      agentConnected: true,
      lastHeartbeatAt: this.now,
      silentSince: null,
      silenceSeenAt: null,
      brakeHeldAt: null,
      reservedCpu: 0,
      reservedMemory: 0,
      registeredCpu: 1024,
      registeredMemory: 1024,
      attributes: {},
      ...over,
    };
    this.instances.set(i.id, i);
    return i;
  }

  addTaskDefinition(
    family: string,
    containerDefinitions: ContainerDefinitionLike[] = [{ name: 'app', image: 'busybox', memory: 64 }],
  ): MemTaskDefinition {
    const revision = [...this.taskDefinitions.values()].filter((d) => d.family === family).length + 1;
    const td = {
      id: randomUUID(),
      family,
      revision,
      cpu: 128,
      memory: 64,
      // Stored as registered: every container has an image.
      definition: {
        family,
        containerDefinitions: containerDefinitions.map((c) => ({ image: 'busybox', ...c })),
      },
    };
    this.taskDefinitions.set(td.id, td);
    return td;
  }

  /** CreateService: the service and its first PRIMARY deployment. */
  addService(
    clusterId: string,
    taskDefinitionId: string,
    over: Partial<Omit<MemService, 'id' | 'clusterId' | 'taskDefinitionId'>> = {},
  ): MemService {
    const s: MemService = {
      id: randomUUID(),
      clusterId,
      name: 'web',
      status: 'ACTIVE',
      taskDefinitionId,
      desiredCount: 1,
      minimumHealthyPercent: 100,
      maximumPercent: 200,
      circuitBreakerEnable: false,
      circuitBreakerRollback: false,
      healthCheckGracePeriodSeconds: 0,
      placementConstraints: [],
      placementStrategy: [],
      disconnectedTaskBehavior: 'REPLACE',
      steady: false,
      schedulingStrategy: 'REPLICA',
      ...over,
    };
    this.services.set(s.id, s);
    this.addDeployment(s.id, taskDefinitionId, s.desiredCount);
    return s;
  }

  /**
   * UpdateService: a new task definition or new loadBalancers start a new PRIMARY; a new count
   * changes the current one.
   */
  updateService(
    serviceId: string,
    change: { taskDefinitionId?: string; desiredCount?: number; loadBalancers?: MemBinding[] },
  ): void {
    const s = this.services.get(serviceId)!;
    const desiredCount = change.desiredCount ?? s.desiredCount;
    const primary = this.rowsOfDeployments(serviceId).find((d) => d.status === 'PRIMARY');
    const key = (b: MemBinding) => `${b.targetGroupId}/${b.containerName}/${b.containerPort}`;
    const current = this.serviceLoadBalancers.filter((b) => b.serviceId === serviceId);
    const newBindings =
      change.loadBalancers !== undefined &&
      current.map(key).sort().join() !== change.loadBalancers.map(key).sort().join();
    if (change.loadBalancers) {
      this.serviceLoadBalancers.splice(
        0,
        this.serviceLoadBalancers.length,
        ...this.serviceLoadBalancers.filter((b) => b.serviceId !== serviceId),
        ...change.loadBalancers.map((b) => ({ ...b, serviceId })),
      );
    }
    if ((change.taskDefinitionId && change.taskDefinitionId !== s.taskDefinitionId) || newBindings) {
      if (primary) primary.status = 'ACTIVE';
      s.taskDefinitionId = change.taskDefinitionId ?? s.taskDefinitionId;
      this.addDeployment(serviceId, s.taskDefinitionId, desiredCount);
    } else if (primary) {
      primary.desiredCount = desiredCount;
    }
    Object.assign(s, { desiredCount, steady: false });
  }

  /** DeleteService: DRAINING with no desired tasks. */
  deleteService(serviceId: string): void {
    Object.assign(this.services.get(serviceId)!, { status: 'DRAINING', desiredCount: 0 });
    for (const d of this.rowsOfDeployments(serviceId)) if (d.status !== 'INACTIVE') d.desiredCount = 0;
  }

  /** RunTask: standalone PROVISIONING tasks. */
  runTask(clusterId: string, taskDefinitionId: string, count = 1): MemTask[] {
    const td = this.taskDefinitions.get(taskDefinitionId)!;
    return this.createTasks({ clusterId, td, count, startedBy: null, group: `family:${td.family}` });
  }

  // The scheduler and the agents.

  /** The scheduler places a task: PENDING on the instance, holding its reservation. */
  place(taskId: string, instanceId: string): void {
    const t = this.tasks.get(taskId)!;
    const i = this.instances.get(instanceId)!;
    if (t.lastStatus !== 'PROVISIONING' || t.desiredStatus !== 'RUNNING') return;
    Object.assign(t, { lastStatus: 'PENDING', containerInstanceId: i.id, holdsReservation: true });
    i.reservedCpu += t.cpu;
    i.reservedMemory += t.memory;
  }

  /** The agent reports every container running. */
  start(taskId: string): void {
    const t = this.tasks.get(taskId)!;
    Object.assign(t, { lastStatus: 'RUNNING', startedAt: this.now });
    for (const c of t.containers) c.lastStatus = 'RUNNING';
  }

  /** The agent reports the task gone, maybe saying why: every container STOPPED, the reservation released. */
  stopped(taskId: string, reason?: string): void {
    const t = this.tasks.get(taskId)!;
    Object.assign(t, {
      lastStatus: 'STOPPED',
      stoppedAt: this.now,
      stoppedReason: t.stoppedReason ?? reason ?? null,
    });
    for (const c of t.containers) c.lastStatus = 'STOPPED';
    this.releaseReservation(t);
  }

  /** The agent reports one container stopped, on its own. */
  containerStopped(taskId: string, name: string, exit: { exitCode?: number; reason?: string } = {}): void {
    const c = this.tasks.get(taskId)!.containers.find((x) => x.name === name)!;
    Object.assign(c, { lastStatus: 'STOPPED', exitCode: exit.exitCode ?? null, reason: exit.reason ?? null });
  }

  /** UpdateTaskProtection: protected for `minutes` from now; 0 clears it. */
  protect(taskId: string, minutes = 120): void {
    this.tasks.get(taskId)!.protectedUntil =
      minutes > 0 ? new Date(this.now.getTime() + minutes * 60_000) : null;
  }

  setHealth(taskId: string, name: string, healthStatus: HealthStatus): void {
    this.tasks.get(taskId)!.containers.find((c) => c.name === name)!.healthStatus = healthStatus;
  }

  // Load balancing: the API's target groups and loadBalancers, the data plane's reports.

  addTargetGroup(name: string, over: Partial<Omit<MemTargetGroup, 'id' | 'name'>> = {}): MemTargetGroup {
    const tg = {
      id: randomUUID(),
      name,
      deregistrationDelaySeconds: 30,
      intervalSeconds: 10,
      unhealthyThresholdCount: 2,
      inUse: true,
      ...over,
    };
    this.targetGroups.set(tg.id, tg);
    return tg;
  }

  /** A service's loadBalancers entry, as if the service had been created with it (its live deployments too). */
  bindService(serviceId: string, targetGroupId: string, containerName: string, containerPort: number): void {
    const binding = { targetGroupId, containerName, containerPort };
    this.serviceLoadBalancers.push({ serviceId, ...binding });
    for (const d of this.rowsOfDeployments(serviceId))
      if (d.status !== 'INACTIVE') d.loadBalancers.push(binding);
  }

  /** The agent reports a container's port published on the host. */
  publish(taskId: string, name: string, containerPort: number, hostPort: number): void {
    this.tasks.get(taskId)!.containers.find((c) => c.name === name)!.networkBindings = [
      { bindIP: '0.0.0.0', containerPort, hostPort, protocol: 'tcp' },
    ];
  }

  targetsOf(taskId: string): MemTarget[] {
    return [...this.targets.values()].filter((t) => t.taskId === taskId);
  }

  /** A load-balancer app reports on every target of the task. */
  reportTargets(taskId: string, reporter: string, state: string, activeSessions = 0): void {
    for (const t of this.targetsOf(taskId)) {
      // As the load-balancer app reports a target it has drained.
      const reason = t.drainingSince ? 'Target.DeregistrationInProgress' : null;
      t.health = [
        ...t.health.filter((h) => h.reporter !== reporter),
        { reporter, state, reason, activeSessions, reportedAt: this.now },
      ];
    }
  }

  /** What the planner sees of each RUNNING task's targets, as loadBalancerHealth reads it. */
  loadBalancerHealth(tasks: readonly MemTask[]): Map<string, ReturnType<typeof taskLoadBalancerHealth>> {
    const expectedOf = (t: MemTask) =>
      (t.deploymentId ? this.deployments.get(t.deploymentId)?.loadBalancers.length : 0) ?? 0;
    return new Map(
      tasks
        .filter((t) => t.lastStatus === 'RUNNING' && expectedOf(t) > 0)
        .map((t) => {
          const targets = this.targetsOf(t.id).map((target) => {
            const tg = this.targetGroups.get(target.targetGroupId)!;
            const state: TargetState = targetState({
              drainingSince: target.drainingSince,
              registeredAt: target.createdAt,
              groupInUse: tg.inUse,
              intervalSeconds: tg.intervalSeconds,
              unhealthyThresholdCount: tg.unhealthyThresholdCount,
              reports: target.health,
              now: this.now,
            }).state;
            return { targetGroup: tg.name, state };
          });
          return [t.id, taskLoadBalancerHealth(targets, expectedOf(t))];
        }),
    );
  }

  heartbeat(instanceId: string): void {
    Object.assign(this.instances.get(instanceId)!, { agentConnected: true, lastHeartbeatAt: this.now });
  }

  /**
   * The scheduler and agents catch up: waiting tasks are placed round-robin on the instances
   * given (or run unplaced without any), and start; tasks asked to stop are gone.
   */
  converge(instanceIds: string[] = []): void {
    let next = 0;
    for (const t of this.tasks.values()) {
      // A draining task is kept RUNNING on its agent (the gateway sends it so) until its targets go.
      if (t.lastStatus === 'DEACTIVATING' && this.targetsOf(t.id).length) continue;
      if (t.desiredStatus === 'STOPPED' && t.lastStatus !== 'STOPPED') this.stopped(t.id);
      else if (t.desiredStatus === 'RUNNING' && t.lastStatus === 'PROVISIONING' && t.targetInstanceId) {
        // A targeted task goes on its instance or waits.
        const target = this.instances.get(t.targetInstanceId);
        if (target?.status === 'ACTIVE' && target.agentConnected) this.place(t.id, target.id);
        else continue;
      } else if (t.desiredStatus === 'RUNNING' && t.lastStatus === 'PROVISIONING' && instanceIds.length) {
        this.place(t.id, instanceIds[next++ % instanceIds.length]!);
      }
      if (t.desiredStatus === 'RUNNING' && (t.lastStatus === 'PENDING' || t.lastStatus === 'PROVISIONING'))
        this.start(t.id);
    }
  }

  // Reads for assertions.

  task(id: string): MemTask {
    return copyTask(this.tasks.get(id)!);
  }

  tasksOf(serviceId: string): MemTask[] {
    return [...this.tasks.values()].filter((t) => t.serviceId === serviceId).map(copyTask);
  }

  liveTasksOf(serviceId: string): MemTask[] {
    return this.tasksOf(serviceId).filter((t) => t.lastStatus !== 'STOPPED');
  }

  tasksOn(instanceId: string): MemTask[] {
    return [...this.tasks.values()].filter((t) => t.containerInstanceId === instanceId).map(copyTask);
  }

  /** Oldest first, as copies. */
  deploymentsOf(serviceId: string): MemDeployment[] {
    return this.rowsOfDeployments(serviceId).map((d) => ({ ...d }));
  }

  eventsOf(serviceId: string): string[] {
    return this.events.filter((e) => e.serviceId === serviceId).map((e) => e.message);
  }

  // Shared by the API helpers and the stores: what packages/db does.

  /** The rows themselves, oldest first, for writes. */
  rowsOfDeployments(serviceId: string): MemDeployment[] {
    return [...this.deployments.values()]
      .filter((d) => d.serviceId === serviceId)
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  }

  addDeployment(
    serviceId: string,
    taskDefinitionId: string,
    desiredCount: number,
    reason: string | null = null,
    rolledBackFrom: string | null = null,
  ) {
    const d: MemDeployment = {
      id: randomUUID(),
      serviceId,
      status: 'PRIMARY',
      taskDefinitionId,
      desiredCount,
      rolloutState: 'IN_PROGRESS',
      rolloutStateReason: reason,
      rolledBackFrom,
      createdAt: this.now,
      loadBalancers: this.serviceLoadBalancers
        .filter((b) => b.serviceId === serviceId)
        .map(({ targetGroupId, containerName, containerPort }) => ({
          targetGroupId,
          containerName,
          containerPort,
        })),
    };
    this.deployments.set(d.id, d);
    return d;
  }

  createTasks(t: {
    clusterId: string;
    td: MemTaskDefinition;
    count: number;
    startedBy: string | null;
    group: string;
    serviceId?: string;
    deploymentId?: string;
    placementConstraints?: unknown[];
    placementStrategy?: unknown[];
    targetInstanceIds?: string[];
  }): MemTask[] {
    return Array.from({ length: t.count }, (_, index) => {
      const task: MemTask = {
        id: randomUUID(),
        clusterId: t.clusterId,
        taskDefinitionId: t.td.id,
        containerInstanceId: null,
        serviceId: t.serviceId ?? null,
        deploymentId: t.deploymentId ?? null,
        startedBy: t.startedBy,
        group: t.group,
        lastStatus: 'PROVISIONING',
        desiredStatus: 'RUNNING',
        failed: false,
        cpu: t.td.cpu,
        memory: t.td.memory,
        holdsReservation: false,
        placementConstraints: t.placementConstraints ?? [],
        placementStrategy: t.placementStrategy ?? [],
        provisioningReason: null,
        stopCode: null,
        stoppedReason: null,
        createdAt: this.now,
        startedAt: null,
        stoppingAt: null,
        stoppedAt: null,
        protectedUntil: null,
        targetInstanceId: t.targetInstanceIds?.[index] ?? null,
        containers: t.td.definition.containerDefinitions.map((c) => ({
          name: c.name,
          essential: c.essential !== false,
          hasHealthCheck: c.healthCheck !== undefined,
          lastStatus: 'PENDING',
          exitCode: null,
          reason: null,
          healthStatus: 'UNKNOWN',
        })),
      };
      this.tasks.set(task.id, task);
      return copyTask(task);
    });
  }

  /** requestTaskStop: only the first request sets the stop code; an unplaced task stops at once. */
  requestTaskStop(taskId: string, stop: { stopCode: string; reason: string; failed?: boolean }): boolean {
    const t = this.tasks.get(taskId);
    if (!t) return false;
    const changed = t.desiredStatus === 'RUNNING';
    if (changed) {
      Object.assign(t, {
        desiredStatus: 'STOPPED',
        stopCode: stop.stopCode,
        stoppedReason: stop.reason,
        stoppingAt: this.now,
        ...(stop.failed ? { failed: true } : {}),
      });
    }
    if (t.lastStatus === 'PROVISIONING') {
      Object.assign(t, { lastStatus: 'STOPPED', stoppedAt: this.now, provisioningReason: null });
    }
    if (t.lastStatus === 'STOPPED') for (const c of t.containers) c.lastStatus = 'STOPPED';
    // startTaskDrain: a task with targets leaves them first, DEACTIVATING.
    const targets = this.targetsOf(taskId);
    if (changed && targets.length) {
      for (const target of targets) target.drainingSince ??= this.now;
      if (t.lastStatus === 'RUNNING') t.lastStatus = 'DEACTIVATING';
    }
    return changed;
  }

  /** releaseTaskReservations: once, guarded on the task's flag. */
  releaseReservation(t: MemTask): void {
    if (!t.holdsReservation) return;
    t.holdsReservation = false;
    const i = t.containerInstanceId ? this.instances.get(t.containerInstanceId) : undefined;
    if (!i) return;
    i.reservedCpu -= t.cpu;
    i.reservedMemory -= t.memory;
  }

  addEvents(serviceId: string, messages: string[]): void {
    // Distinct timestamps keep one reconcile's order, as the repository's do.
    messages.forEach((message, i) =>
      this.events.push({ serviceId, message, createdAt: new Date(this.now.getTime() + i) }),
    );
  }

  /** Tasks an instance's loss stops: standalone ones, and those of services that REPLACE. */
  stopsOnLoss(t: MemTask): boolean {
    if (t.lastStatus === 'STOPPED') return false;
    return !t.serviceId || this.services.get(t.serviceId)?.disconnectedTaskBehavior !== 'WAIT';
  }
}

class InMemoryTaskStore implements TaskStore {
  constructor(private readonly w: InMemoryBerth) {}

  async get(taskId: string): Promise<TaskRecord | null> {
    const t = this.w.tasks.get(taskId);
    if (!t) return null;
    return {
      id: t.id,
      clusterId: t.clusterId,
      containerInstanceId: t.containerInstanceId,
      serviceId: t.serviceId,
      lastStatus: t.lastStatus,
      desiredStatus: t.desiredStatus,
      startedAt: t.startedAt,
      containers: t.containers.map((c) => ({
        name: c.name,
        essential: c.essential,
        lastStatus: c.lastStatus,
        exitCode: c.exitCode,
        reason: c.reason,
      })),
    };
  }

  async withStoppedEssentialContainer(limit = 500): Promise<string[]> {
    return [...this.w.tasks.values()]
      .filter(
        (t) =>
          t.desiredStatus === 'RUNNING' &&
          t.containers.some((c) => c.essential && c.lastStatus === 'STOPPED'),
      )
      .slice(0, limit)
      .map((t) => t.id);
  }

  async requestStop(taskId: string, decision: StopDecision): Promise<boolean> {
    const t = this.w.tasks.get(taskId);
    if (!t || t.desiredStatus !== 'RUNNING') return false;
    Object.assign(t, {
      desiredStatus: 'STOPPED',
      stopCode: decision.stopCode,
      stoppingAt: this.w.now,
      failed: true,
      stoppedReason: t.stoppedReason ?? decision.stoppedReason,
    });
    return true;
  }
}

class InMemoryServiceStore implements ServiceStore {
  constructor(private readonly w: InMemoryBerth) {}

  async liveServiceIds(): Promise<string[]> {
    return [...this.w.services.values()].filter((s) => s.status !== 'INACTIVE').map((s) => s.id);
  }

  // No await from the read to the last write: nothing else runs in between, as under the row lock.
  async applyPlan(
    serviceId: string,
    plan: (snapshot: ServiceSnapshot) => ServiceAction[],
  ): Promise<Applied | null> {
    const s = this.w.services.get(serviceId);
    if (!s || s.status === 'INACTIVE') return null;
    const actions = plan(this.snapshot(s));
    return actions.length === 0 ? null : this.apply(s, actions);
  }

  private snapshot(s: MemService): ServiceSnapshot {
    const tasks = [...this.w.tasks.values()].filter((t) => t.serviceId === s.id);
    const lbHealth = this.w.loadBalancerHealth(tasks);
    return {
      id: s.id,
      name: s.name,
      clusterId: s.clusterId,
      spec: {
        name: s.name,
        status: s.status as 'ACTIVE' | 'DRAINING',
        desiredCount: s.desiredCount,
        minimumHealthyPercent: s.minimumHealthyPercent,
        maximumPercent: s.maximumPercent,
        circuitBreaker: { enable: s.circuitBreakerEnable, rollback: s.circuitBreakerRollback },
        healthCheckGracePeriodSeconds: s.healthCheckGracePeriodSeconds,
        steady: s.steady,
        schedulingStrategy: s.schedulingStrategy,
      },
      instances: this.daemonInstances(s),
      deployments: this.w.deploymentsOf(s.id).map((d) => ({
        id: d.id,
        status: d.status,
        taskDefinitionId: d.taskDefinitionId,
        desiredCount: d.desiredCount,
        rolloutState: d.rolloutState,
        createdAt: d.createdAt,
        failedTasks: tasks.filter((t) => t.failed && t.deploymentId === d.id).length,
        rolledBackFrom: d.rolledBackFrom,
      })),
      tasks: tasks
        .filter((t) => t.lastStatus !== 'STOPPED')
        .map((t) => ({
          id: t.id,
          deploymentId: t.deploymentId,
          lastStatus: t.lastStatus,
          desiredStatus: t.desiredStatus,
          healthStatus: taskHealth(t.containers),
          hasHealthCheck: t.containers.some((c) => c.essential && c.hasHealthCheck),
          startedAt: t.startedAt,
          createdAt: t.createdAt,
          onDrainingInstance:
            (t.containerInstanceId && this.w.instances.get(t.containerInstanceId)?.status) === 'DRAINING',
          protectedUntil: t.protectedUntil,
          instanceId: t.containerInstanceId ?? t.targetInstanceId,
          ...lbHealth.get(t.id),
        })),
    };
  }

  /** As the repository computes it, without ports (the world does not model them). */
  private daemonInstances(s: MemService) {
    const primary = this.w.deploymentsOf(s.id).find((d) => d.status === 'PRIMARY');
    if (s.schedulingStrategy !== 'DAEMON' || s.status !== 'ACTIVE' || !primary) return [];
    const td = this.w.taskDefinitions.get(primary.taskDefinitionId)!;
    const live = [...this.w.tasks.values()].filter(
      (t) => t.lastStatus !== 'STOPPED' && t.containerInstanceId,
    );
    const isDaemonTask = (t: MemTask) =>
      !!t.serviceId && this.w.services.get(t.serviceId)?.schedulingStrategy === 'DAEMON';
    const rows: DaemonInstanceRow[] = [...this.w.instances.values()]
      .filter((i) => i.clusterId === s.clusterId && i.status !== 'INACTIVE')
      .map((i) => {
        const here = live.filter((t) => t.containerInstanceId === i.id);
        const groupCounts = new Map<string, number>();
        for (const t of here) groupCounts.set(t.group, (groupCounts.get(t.group) ?? 0) + 1);
        return {
          id: i.id,
          status: i.status as DaemonInstanceRow['status'],
          agentConnected: i.agentConnected,
          hostAddress: '127.0.0.1',
          agentVersion: null,
          registeredCpu: i.registeredCpu,
          registeredMemory: i.registeredMemory,
          reservedCpu: i.reservedCpu,
          reservedMemory: i.reservedMemory,
          reservedPorts: new Set<string>(),
          attributes: instanceAttributes({ attributes: i.attributes, apiAttributes: {} }),
          groupCounts,
          otherLiveTasks: here.filter((t) => !isDaemonTask(t)).length,
        };
      });
    return daemonInstances(rows, {
      cpu: td.cpu,
      memory: td.memory,
      hostPorts: [],
      group: `service:${s.name}`,
      constraints: parseConstraints(s.placementConstraints),
    });
  }

  private apply(s: MemService, actions: ServiceAction[]): Applied {
    const applied: Applied = { clusterId: s.clusterId, startedTaskIds: [], stoppedByInstance: new Map() };
    const stoppedIds: string[] = [];
    const events: string[] = [];
    for (const action of actions) {
      switch (action.type) {
        case 'startTasks': {
          const deployment = this.w.deployments.get(action.deploymentId)!;
          const td = this.w.taskDefinitions.get(deployment.taskDefinitionId)!;
          const cluster = this.w.clusters.get(s.clusterId)!;
          const refusal = clusterPolicyRefusal(
            cluster,
            `${td.family}:${td.revision}`,
            readTaskDefinition(td.definition, `${td.family}:${td.revision}`),
          );
          if (refusal) {
            const message = serviceEvents.unableToStart(s.name, refusal);
            if (this.w.eventsOf(s.id).at(-1) !== message) events.push(message);
            break;
          }
          const created = this.w.createTasks({
            clusterId: s.clusterId,
            td,
            count: action.count,
            startedBy: `ecs-svc/${deployment.id}`,
            group: `service:${s.name}`,
            serviceId: s.id,
            deploymentId: deployment.id,
            placementConstraints: s.placementConstraints,
            placementStrategy:
              s.placementStrategy.length || action.instanceIds
                ? s.placementStrategy
                : [...SERVICE_DEFAULT_STRATEGY],
            ...(action.instanceIds ? { targetInstanceIds: action.instanceIds } : {}),
          });
          applied.startedTaskIds.push(...created.map((t) => t.id));
          break;
        }
        case 'stopTask': {
          const changed = this.w.requestTaskStop(action.taskId, {
            stopCode: 'ServiceSchedulerInitiated',
            reason: action.reason,
            failed: action.failed,
          });
          if (!changed) break;
          stoppedIds.push(action.taskId);
          const t = this.w.tasks.get(action.taskId)!;
          if (t.containerInstanceId && t.lastStatus !== 'STOPPED') {
            applied.stoppedByInstance.set(t.containerInstanceId, [
              ...(applied.stoppedByInstance.get(t.containerInstanceId) ?? []),
              action.taskId,
            ]);
          }
          break;
        }
        case 'updateDeployment': {
          const d = this.w.deployments.get(action.deploymentId)!;
          if (action.status) d.status = action.status;
          if (action.rolloutState) d.rolloutState = action.rolloutState;
          if (action.rolloutStateReason) d.rolloutStateReason = action.rolloutStateReason;
          break;
        }
        case 'createDeployment':
          for (const d of this.w.rowsOfDeployments(s.id)) if (d.status === 'PRIMARY') d.status = 'ACTIVE';
          {
            // The restored deployment's loadBalancers, for the service and the new deployment.
            const restored = this.w.deployments.get(action.restores)!.loadBalancers;
            this.w.serviceLoadBalancers.splice(
              0,
              this.w.serviceLoadBalancers.length,
              ...this.w.serviceLoadBalancers.filter((b) => b.serviceId !== s.id),
              ...restored.map((b) => ({ ...b, serviceId: s.id })),
            );
            this.w.addDeployment(
              s.id,
              action.taskDefinitionId,
              s.desiredCount,
              action.rolloutStateReason,
              action.rolledBackFrom,
            );
          }
          s.taskDefinitionId = action.taskDefinitionId;
          break;
        case 'setSteady':
          s.steady = action.steady;
          break;
        case 'setDesiredCount':
          s.desiredCount = action.desiredCount;
          for (const d of this.w.rowsOfDeployments(s.id))
            if (d.status === 'PRIMARY') d.desiredCount = action.desiredCount;
          break;
        case 'markInactive':
          Object.assign(s, { status: 'INACTIVE', steady: false });
          for (const d of this.w.rowsOfDeployments(s.id)) d.status = 'INACTIVE';
          break;
        case 'event':
          events.push(action.message);
          break;
      }
    }
    this.w.addEvents(s.id, [
      ...(stoppedIds.length ? [serviceEvents.stopped(s.name, stoppedIds)] : []),
      ...(applied.startedTaskIds.length ? [serviceEvents.started(s.name, applied.startedTaskIds)] : []),
      ...events,
    ]);
    return applied;
  }
}

class InMemoryInstanceStore implements InstanceStore {
  constructor(private readonly w: InMemoryBerth) {}

  async snapshot(): Promise<{ now: Date; instances: InstanceLivenessRow[] }> {
    const tasks = [...this.w.tasks.values()];
    return {
      now: this.w.now,
      instances: [...this.w.instances.values()]
        .filter((i) => i.status !== 'INACTIVE')
        .map((i) => ({
          id: i.id,
          clusterId: i.clusterId,
          agentConnected: i.agentConnected,
          lastHeartbeatAt: i.lastHeartbeatAt,
          silentSince: i.silentSince,
          silenceSeenAt: i.silenceSeenAt,
          brakeHeldAt: i.brakeHeldAt,
          hasTasksToStop: tasks.some((t) => t.containerInstanceId === i.id && this.w.stopsOnLoss(t)),
        })),
    };
  }

  /** The guard of every write: the instance's last heartbeat has not moved since the snapshot. */
  private stillSilent(row: InstanceLivenessRow): MemInstance | null {
    const i = this.w.instances.get(row.id);
    return i && i.lastHeartbeatAt?.getTime() === row.lastHeartbeatAt?.getTime() ? i : null;
  }

  async markDisconnected(rows: readonly InstanceLivenessRow[]): Promise<string[]> {
    return rows.flatMap((row) => {
      const i = this.stillSilent(row);
      if (!i?.agentConnected) return [];
      i.agentConnected = false;
      return [i.id];
    });
  }

  async observeSilence(rows: readonly InstanceLivenessRow[], now: Date): Promise<void> {
    for (const row of rows) {
      const i = this.stillSilent(row);
      if (i) Object.assign(i, { silentSince: row.lastHeartbeatAt, silenceSeenAt: now });
    }
  }

  async markBrakeHeld(instanceIds: string[], now: Date): Promise<void> {
    for (const id of instanceIds) {
      const i = this.w.instances.get(id);
      if (i) i.brakeHeldAt = now;
    }
  }

  async servicesOn(instanceIds: string[]): Promise<{ id: string; name: string }[]> {
    const ids = new Set(instanceIds);
    return [...this.w.services.values()]
      .filter((s) =>
        [...this.w.tasks.values()].some(
          (t) =>
            t.serviceId === s.id &&
            t.containerInstanceId !== null &&
            ids.has(t.containerInstanceId) &&
            t.lastStatus !== 'STOPPED',
        ),
      )
      .map((s) => ({ id: s.id, name: s.name }));
  }

  async addServiceEvents(events: { serviceId: string; message: string }[]): Promise<void> {
    for (const e of events) this.w.addEvents(e.serviceId, [e.message]);
  }

  async stopTasksOfLostInstances(rows: readonly InstanceLivenessRow[], now: Date): Promise<LostTasks[]> {
    return rows.flatMap((row) => this.stopTasksOfLostInstance(row, now) ?? []);
  }

  private stopTasksOfLostInstance(row: InstanceLivenessRow, now: Date): LostTasks | null {
    const i = this.stillSilent(row);
    if (!i || i.agentConnected) return null;
    const reason =
      row.lastHeartbeatAt === null
        ? 'Container instance lost: its agent never sent a heartbeat'
        : `Container instance lost: its agent has been silent for ${Math.round((now.getTime() - row.lastHeartbeatAt.getTime()) / 1000)} s`;
    const tasks = [...this.w.tasks.values()].filter(
      (t) => t.containerInstanceId === i.id && this.w.stopsOnLoss(t),
    );
    if (tasks.length === 0) return null;
    for (const t of tasks) {
      Object.assign(t, {
        desiredStatus: 'STOPPED',
        lastStatus: 'STOPPED',
        stopCode: t.stopCode ?? 'InstanceLost',
        stoppedReason: t.stoppedReason ?? reason,
        stoppingAt: t.stoppingAt ?? this.w.now,
        stoppedAt: this.w.now,
      });
      for (const c of t.containers) c.lastStatus = 'STOPPED';
      this.w.releaseReservation(t);
    }
    return {
      instanceId: i.id,
      clusterId: i.clusterId,
      taskIds: tasks.map((t) => t.id),
      serviceIds: [...new Set(tasks.flatMap((t) => t.serviceId ?? []))],
    };
  }
}

/** TargetsRepository's sweep, over the world's targets. */
class InMemoryTargetStore implements TargetStore {
  constructor(private readonly w: InMemoryBerth) {}

  async sweep(): Promise<TargetSweep> {
    const w = this.w;
    const services = new Set<string>();
    const stopByInstance = new Map<string, string[]>();
    const counts = new Map<string, { serviceId: string; service: string; group: string; n: number }>();
    const deregistered = (target: MemTarget) => {
      w.targets.delete(target.id);
      const task = target.taskId ? w.tasks.get(target.taskId) : undefined;
      const service = task?.serviceId ? w.services.get(task.serviceId) : undefined;
      if (!service) return;
      const group = w.targetGroups.get(target.targetGroupId)!.name;
      const key = `${service.id}/${group}`;
      const c = counts.get(key) ?? { serviceId: service.id, service: service.name, group, n: 0 };
      c.n += 1;
      counts.set(key, c);
      services.add(service.id);
    };
    for (const target of [...w.targets.values()]) {
      const task = target.taskId ? w.tasks.get(target.taskId) : undefined;
      if (!task) continue;
      const essentialContainerStopped = task.containers.some(
        (c) => c.essential && c.lastStatus === 'STOPPED',
      );
      if (targetLeavesAtOnce(target, { ...task, essentialContainerStopped })) deregistered(target);
    }
    for (const t of w.tasks.values()) {
      if (t.lastStatus !== 'RUNNING' || t.desiredStatus !== 'RUNNING' || !t.serviceId) continue;
      if (t.containers.some((c) => c.essential && c.lastStatus === 'STOPPED')) continue;
      const bindings = t.deploymentId ? (w.deployments.get(t.deploymentId)?.loadBalancers ?? []) : [];
      if (!bindings.length || w.targetsOf(t.id).length >= bindings.length) continue;
      const service = w.services.get(t.serviceId)!;
      for (const want of taskTargets(bindings, t.containers, '10.0.0.1')) {
        const taken = [...w.targets.values()].some(
          (x) => x.targetGroupId === want.targetGroupId && x.host === want.host && x.port === want.port,
        );
        if (taken) continue;
        const id = randomUUID();
        w.targets.set(id, { id, ...want, taskId: t.id, drainingSince: null, createdAt: w.now, health: [] });
        w.addEvents(t.serviceId, [
          loadBalancingEvents.registered(service.name, 1, w.targetGroups.get(want.targetGroupId)!.name),
        ]);
        services.add(t.serviceId);
      }
    }
    for (const target of [...w.targets.values()]) {
      if (!target.drainingSince) continue;
      const tg = w.targetGroups.get(target.targetGroupId)!;
      const ended = drainEnded({
        drainingSince: target.drainingSince,
        deregistrationDelaySeconds: tg.deregistrationDelaySeconds,
        intervalSeconds: tg.intervalSeconds,
        reports: target.health,
        now: w.now,
      });
      if (ended) deregistered(target);
    }
    for (const c of counts.values())
      w.addEvents(c.serviceId, [loadBalancingEvents.deregistered(c.service, c.n, c.group)]);
    for (const t of w.tasks.values()) {
      if (t.lastStatus !== 'DEACTIVATING' || t.desiredStatus !== 'STOPPED' || !t.containerInstanceId)
        continue;
      if (w.targetsOf(t.id).length) continue;
      stopByInstance.set(t.containerInstanceId, [...(stopByInstance.get(t.containerInstanceId) ?? []), t.id]);
    }
    return { stopByInstance, serviceIds: [...services] };
  }
}
