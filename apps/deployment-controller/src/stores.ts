import type {
  DaemonInstanceView,
  DeploymentView,
  InstanceLivenessRow,
  CapacityChange,
  DueFiring,
  ScalingDecision,
  ScheduledAction,
  ScheduledFirings,
  ServiceAction,
  ServiceSpec,
  ServiceTaskView,
  StopDecision,
  TargetTrackingPolicy,
  TaskReservation,
  TargetGroupRequests,
  TaskSample,
  TaskView,
} from '@berth/domain';

/**
 * What each reconciler needs from storage, and nothing more. The Prisma repositories implement
 * these against Postgres, where every write is guarded or locked so that two controller replicas
 * are safe; `testing/in-memory-stores.ts` implements them in memory, with the same guards, for
 * fast tests of the reconcilers.
 */

export type TaskRecord = TaskView & {
  id: string;
  clusterId: string;
  containerInstanceId: string | null;
  serviceId: string | null;
};

export interface TaskStore {
  get(taskId: string): Promise<TaskRecord | null>;
  /** Tasks that should run although an essential container has stopped: what the sweep re-examines. */
  withStoppedEssentialContainer(limit?: number): Promise<string[]>;
  /**
   * Asks the task to stop as a failure (what the circuit breaker counts), keeping a stop reason
   * the agent already gave. Guarded: only a task still desired RUNNING changes, so a repeat or a
   * second replica is a no-op. Returns whether this call changed it.
   */
  requestStop(taskId: string, decision: StopDecision): Promise<boolean>;
}

/** A service as its reconcile sees it, read under its lock. */
export interface ServiceSnapshot {
  id: string;
  name: string;
  clusterId: string;
  spec: ServiceSpec;
  deployments: DeploymentView[];
  tasks: ServiceTaskView[];
  /** A DAEMON service's view of its cluster's ACTIVE and DRAINING instances; empty for REPLICA. */
  instances: DaemonInstanceView[];
}

/** What applying a plan did, for the edges that run after the commit (hints, agent commands). */
export interface Applied {
  clusterId: string;
  startedTaskIds: string[];
  /** Placed tasks asked to stop, by the instance that must be told. */
  stoppedByInstance: Map<string, string[]>;
}

export interface ServiceStore {
  /** Services that are not INACTIVE: what the sweep reconciles. */
  liveServiceIds(): Promise<string[]>;
  /**
   * Reads the service under its lock, asks `plan` what to do, and applies the actions in the same
   * transaction, with the service's events: two replicas reconcile one service in turn, each on
   * fresh data. Null when the service is INACTIVE or gone, or the plan is empty.
   */
  applyPlan(serviceId: string, plan: (snapshot: ServiceSnapshot) => ServiceAction[]): Promise<Applied | null>;
}

export interface LostTasks {
  instanceId: string;
  clusterId: string;
  taskIds: string[];
  serviceIds: string[];
}

/**
 * Every write is guarded on the instance being exactly as silent as in the snapshot (same last
 * heartbeat), so a returning agent and several controller replicas are safe.
 */
export interface InstanceStore {
  /** The store's `now` (the database's clock) and every instance that is not deregistered. */
  snapshot(): Promise<{ now: Date; instances: InstanceLivenessRow[] }>;
  /** Marks them disconnected; returns those that were connected and still as silent as in the snapshot. */
  markDisconnected(instances: readonly InstanceLivenessRow[]): Promise<string[]>;
  /** Remembers when the controller first saw these silences. */
  observeSilence(instances: readonly InstanceLivenessRow[], now: Date): Promise<void>;
  /**
   * Unguarded: a mark on an agent that has just come back is older than its new heartbeat, and
   * only marks newer than the last heartbeat count.
   */
  markBrakeHeld(instanceIds: string[], now: Date): Promise<void>;
  /** The services with live tasks on these instances, for their events. */
  servicesOn(instanceIds: string[]): Promise<{ id: string; name: string }[]>;
  addServiceEvents(events: { serviceId: string; message: string }[]): Promise<void>;
  /**
   * Stops with InstanceLost, and frees the reservations of, the tasks that these instances' loss
   * stops: standalone ones and those of services that REPLACE (WAIT keeps them). One transaction
   * for all of them, so a sweep that loses a rack is not one round trip per task. Returns one entry
   * per instance that was still as silent as in the snapshot and had something to stop.
   */
  stopTasksOfLostInstances(instances: readonly InstanceLivenessRow[], now: Date): Promise<LostTasks[]>;
}

/** What a target sweep did, for the edges that run after it (agent commands, service hints). */
export interface TargetSweep {
  /** DEACTIVATING tasks whose drain has ended, by the instance that must be told to stop them. */
  stopByInstance: Map<string, string[]>;
  /** Services whose targets changed (registered, or a drain ended): their gate may have opened. */
  serviceIds: string[];
}

export interface TargetStore {
  /**
   * One level-triggered pass over load-balancer targets: the targets of tasks that stop without a
   * drain go at once (targetLeavesAtOnce: STOPPED, an essential container exited, or asked to stop
   * with no drain), with the event "deregistered N targets"; RUNNING tasks of services with
   * loadBalancers get theirs (one per entry, at the published host port);
   * draining targets whose drain ended (drainEnded) go, with the service event "deregistered N
   * targets"; DEACTIVATING tasks left with no target are returned to be stopped.
   */
  sweep(): Promise<TargetSweep>;
}

/** A scalable service as the autoscaler reads it, unlocked: `scale` checks it is still so. */
export interface ScalingTarget {
  serviceId: string;
  serviceName: string;
  desiredCount: number;
  minCapacity: number;
  maxCapacity: number;
  policies: TargetTrackingPolicy[];
  lastScaleOutAt: Date | null;
  lastScaleInAt: Date | null;
  scheduledActions: ScheduledAction[];
  /** The last firing each scheduled action applied. */
  scheduledActionsFired: ScheduledFirings;
  /** When the scaling was last written (by the API or a scaling): the version `scale` checks. */
  updatedAt: Date;
  /** The PRIMARY deployment is IN_PROGRESS. */
  deploymentInProgress: boolean;
  /** The service's RUNNING tasks, each with its samples of the window read. */
  tasks: (TaskReservation & { samples: TaskSample[] })[];
  /**
   * The request counters of the service's target groups over the window, and their targets
   * (empty unless a policy tracks ALBRequestCountPerTarget).
   */
  requests: TargetGroupRequests;
  /** The database's clock. */
  now: Date;
}

export interface ScalingStore {
  /** ACTIVE REPLICA services that have a scaling: what the sweep evaluates. */
  scalableServiceIds(): Promise<string[]>;
  /** The service, its scaling and its tasks' samples of the last `windowSeconds`; null if not scalable. */
  read(serviceId: string, windowSeconds: number): Promise<ScalingTarget | null>;
  /**
   * Applies a decision made on `seen`, in one transaction under the service's row lock: a
   * conditional update of the scaling (still at `seen.updatedAt`, the service still ACTIVE at
   * `seen.desiredCount`) that only one of two controllers wins, the new desiredCount as
   * UpdateService sets it, and the service event. Returns whether this call applied it.
   */
  scale(seen: ScalingTarget, decision: ScalingDecision): Promise<boolean>;
  /**
   * Applies due scheduled action firings decided on `seen`, with the same guard and lock as
   * `scale`: the new bounds, the firings recorded as the last of each action (what decides that
   * they are not due again), the desiredCount if it moved, one service event per firing. Returns
   * whether this call applied them: of two controllers, one does, and the firing is applied once.
   */
  applyScheduled(seen: ScalingTarget, due: readonly DueFiring[], change: CapacityChange): Promise<boolean>;
}
