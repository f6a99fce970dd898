import { Inject, Injectable } from '@nestjs/common';
import {
  isCheckViolation,
  Prisma,
  releaseTaskReservations,
  sqlOf,
  statement,
  TASK_COLUMNS,
  RevisionCache,
  TASK_WITH_CONTAINERS,
  TASKS_WITH_CONTAINERS_BY_ID,
  type ClusterModel,
  type ContainerInstanceModel,
  type SqlExecutor,
  type TaskContainerModel,
  type TaskDefinitionModel,
  type TaskModel,
} from '@berth/db';
import {
  decideEssentialStop,
  isContainerStatusAdvance,
  isTaskStatusAdvance,
  resolveTaskSecrets,
  parseStatus,
  readTaskDefinition,
  secretNamesOf,
} from '@berth/domain';
import type { Register, TaskStateReport } from '@berth/proto';
import { PRISMA, type PrismaClient } from '../infra/providers.js';
import { ClustersRepository } from '../clusters/clusters.repository.js';
import { RegistryCredentialsRepository } from '../registry-credentials/registry-credentials.repository.js';
import { SecretsRepository } from '../secrets/secrets.repository.js';
import {
  bindingsFromProto,
  containerStatusFromProto,
  healthFromProto,
  taskStatusFromProto,
  type TaskForAgent,
} from './protocol.js';

const NO_CREDENTIALS: TaskForAgent['pullCredentials'] = new Map();
const NO_SECRETS = new Map();

/**
 * Only a task that may still be launched gets its secrets opened: the agent creates containers
 * for nothing else, so values are not sent around again at every resync of a running task.
 */
const mayLaunch = (t: TaskModel) => t.lastStatus === 'PENDING' && t.desiredStatus === 'RUNNING';
const containersOf = (td: TaskDefinitionModel) =>
  readTaskDefinition(td.definition, `${td.family}:${td.revision}`).containerDefinitions;

export type RegisterOutcome =
  { ok: true; instance: ContainerInstanceModel; clusterName: string } | { ok: false; reason: string };

export interface ReportOutcome {
  taskId: string;
  clusterId: string;
  changed: boolean;
  stopped: boolean;
}

/** Everything the gateway writes on behalf of agents: registration, liveness and observed state. */
@Injectable()
export class AgentsRepository {
  constructor(
    @Inject(PRISMA) private readonly db: PrismaClient,
    private readonly clusters: ClustersRepository,
    private readonly credentials: RegistryCredentialsRepository,
    private readonly secrets: SecretsRepository,
  ) {}

  /**
   * At every (re)connect of every agent: plain SQL, one statement when the agent may register (the
   * instance row written and its heartbeat stamped), and one more read to say why when it may not.
   */
  async register(reg: Register, sessionId: string): Promise<RegisterOutcome> {
    const sql = sqlOf(this.db);
    const now = new Date();
    const values = [
      reg.containerInstanceId,
      reg.cluster,
      reg.hostAddress,
      reg.resources?.cpu ?? 0,
      reg.resources?.memory ?? 0,
      JSON.stringify(reg.attributes),
      reg.agentVersion,
      sessionId,
      now,
    ];
    for (let attempt = 0; attempt < 3; attempt++) {
      let instance: ContainerInstanceModel | undefined;
      try {
        [instance] = await sql.rows<ContainerInstanceModel>(REGISTER, values);
      } catch (error) {
        if (isCheckViolation(error)) {
          return {
            ok: false,
            reason: 'registered CPU or memory is less than what running tasks already reserve',
          };
        }
        throw error;
      }
      if (instance) return { ok: true, instance, clusterName: reg.cluster };
      const [state] = await sql.rows<RegistrationState>(REGISTRATION_STATE, [
        reg.cluster,
        reg.containerInstanceId,
      ]);
      if (state!.clusterStatus !== 'ACTIVE') {
        // ECS creates the default cluster for an agent that joins it; any other must exist (and be
        // ACTIVE: a deleted cluster stays, INACTIVE).
        if (reg.cluster !== 'default') return { ok: false, reason: `cluster ${reg.cluster} does not exist` };
        await this.clusters.create('default');
        continue;
      }
      const id = reg.containerInstanceId;
      if (state!.instanceClusterId !== null && state!.instanceClusterId !== state!.clusterId) {
        return { ok: false, reason: `container instance ${id} is registered in another cluster` };
      }
      if (state!.instanceStatus === 'INACTIVE') {
        return {
          ok: false,
          reason: `container instance ${id} was deregistered; start the agent with a new instance id`,
        };
      }
      // The cluster or the instance changed between the two statements: once more.
    }
    throw new Error(`registration of container instance ${reg.containerInstanceId} kept racing; retry`);
  }

  /** The cluster's ACTIVE DAEMON services, which follow its instances. */
  async daemonServiceIds(clusterId: string): Promise<string[]> {
    const rows = await this.db.service.findMany({
      where: { clusterId, status: 'ACTIVE', schedulingStrategy: 'DAEMON' },
      select: { id: true },
    });
    return rows.map((r) => r.id);
  }

  /** Every agent's, every 2 s by default: plain SQL. */
  async heartbeat(instanceId: string, sessionId: string): Promise<void> {
    await sqlOf(this.db).rows(HEARTBEAT, [instanceId, sessionId]);
  }

  /** Only the session that still owns the instance may mark it disconnected. */
  async disconnect(instanceId: string, sessionId: string): Promise<void> {
    await sqlOf(this.db).rows(DISCONNECT, [instanceId, sessionId, new Date()]);
  }

  /** What should exist on the instance: every task placed there that has not yet STOPPED. */
  async desiredTasks(instanceId: string): Promise<TaskForAgent[]> {
    return this.withDefinitions(await sqlOf(this.db).rows<TaskModel>(DESIRED_TASKS, [instanceId]));
  }

  /** Tasks by id, for commands to agents (batched across agents by the caller). */
  async tasksForAgents(taskIds: readonly string[]): Promise<TaskForAgent[]> {
    const ids = taskIds.filter((id) => UUID.test(id));
    return this.withDefinitions(await sqlOf(this.db).rows<TaskModel>(TASKS_BY_ID, [ids]));
  }

  private readonly revisions = new RevisionCache();

  private async withDefinitions(tasks: TaskModel[]): Promise<TaskForAgent[]> {
    const definitions = await this.revisions.get(
      sqlOf(this.db),
      tasks.map((t) => t.taskDefinitionId),
    );
    const clusterIds = [...new Set(tasks.map((t) => t.clusterId))];
    const wanted = new Map<string, Set<string>>();
    for (const t of tasks.filter(mayLaunch)) {
      const names = wanted.get(t.clusterId) ?? new Set();
      for (const name of secretNamesOf(containersOf(definitions.get(t.taskDefinitionId)!))) names.add(name);
      wanted.set(t.clusterId, names);
    }
    // Not cached: a container policy, credential or secret changed through any replica must reach
    // the next launch. The four reads are independent: at once, on the start path's critical way.
    const [clusterRows, credentials, secrets, draining] = await Promise.all([
      clusterIds.length ? sqlOf(this.db).rows<AgentCluster>(CLUSTERS_FOR_AGENTS, [clusterIds]) : [],
      this.credentials.forClusters(clusterIds),
      this.secrets.openForLaunch(wanted),
      this.stillDraining(tasks),
    ]);
    const clusters = new Map(clusterRows.map((c) => [c.id, c]));
    return tasks.map((task) => {
      // A DEACTIVATING task leaves its load balancers first: the agent keeps it RUNNING until
      // the controller ends the drain (deletes its targets). The agent never sees DEACTIVATING.
      const t: TaskModel =
        task.lastStatus === 'DEACTIVATING'
          ? { ...task, lastStatus: 'RUNNING', ...(draining.has(task.id) ? { desiredStatus: 'RUNNING' } : {}) }
          : task;
      const taskDefinition = definitions.get(t.taskDefinitionId)!;
      const cluster = clusters.get(t.clusterId)!;
      const clusterName = cluster.name;
      return {
        ...t,
        taskDefinition,
        cluster,
        pullCredentials: credentials.get(t.clusterId) ?? NO_CREDENTIALS,
        secrets: mayLaunch(t)
          ? resolveTaskSecrets(
              containersOf(taskDefinition),
              clusterName,
              secrets.get(t.clusterId) ?? NO_SECRETS,
            )
          : null,
      };
    });
  }

  /** The DEACTIVATING tasks among these that still have load-balancer targets (draining). */
  private async stillDraining(tasks: readonly TaskModel[]): Promise<Set<string>> {
    const ids = tasks.filter((t) => t.lastStatus === 'DEACTIVATING').map((t) => t.id);
    if (!ids.length) return new Set();
    const rows = await this.db.target.findMany({
      where: { taskId: { in: ids } },
      select: { taskId: true },
      distinct: ['taskId'],
    });
    return new Set(rows.map((r) => r.taskId!));
  }

  /**
   * Writes what an agent observed. Observed state only moves forward: a report older than what
   * is stored changes nothing, so reports may repeat or arrive twice. Writes are guarded by the
   * state they were computed from; a task reaching STOPPED gives back its reservation in the same
   * transaction. Most reports cost one read and one or two writes (the hot path at scale).
   */
  async applyTaskReport(instanceId: string, report: TaskStateReport): Promise<ReportOutcome | null> {
    if (!UUID.test(report.taskId)) return null;
    const sql = sqlOf(this.db);
    for (let attempt = 0; attempt < 3; attempt++) {
      const [task] = await sql.rows<StoredTask>(TASK_WITH_CONTAINERS_ON, [report.taskId, instanceId]);
      if (!task) return null;
      const writes = reportWrites(task, report, new Date());
      if (!writes.task && writes.containers.length === 0) {
        return { taskId: task.id, clusterId: task.clusterId, changed: false, stopped: false };
      }
      const apply = async (db: SqlExecutor) => {
        if (writes.containers.length) await db.rows(UPDATE_CONTAINERS, containerColumns(writes.containers));
        if (!writes.task) return true;
        const d = writes.task;
        const at = (v: unknown) => (v instanceof Date ? v : null);
        const moved = await db.rows(UPDATE_TASK, [
          task.id,
          instanceId,
          // desiredStatus too: a StopTask meanwhile changes which stop code this report may set.
          task.lastStatus,
          task.desiredStatus,
          d.lastStatus,
          at(d.pullStartedAt),
          at(d.pullStoppedAt),
          at(d.startedAt),
          d.startTrace ? JSON.stringify(d.startTrace) : null,
          at(d.stoppingAt),
          at(d.stoppedAt),
          d.stoppedReason ?? null,
          d.desiredStatus ?? null,
          d.stopCode ?? null,
          d.failed ?? null,
        ]);
        if (moved.length !== 1) return false;
        if (writes.stopped) {
          // Containers the agent never got to are stopped too, as far as anyone will ever see.
          await db.rows(STOP_CONTAINERS, [task.id]);
          await releaseTaskReservations(db, [task.id]);
        }
        return true;
      };
      const applied = writes.stopped ? await sql.transaction((tx) => apply(tx)) : await apply(sql);
      // Another writer moved the task meanwhile: read again and recompute.
      if (!applied) continue;
      return { taskId: task.id, clusterId: task.clusterId, changed: true, stopped: writes.stopped };
    }
    return null;
  }

  /**
   * Many agents' reports at once, with set-based statements: one read for every task, one update
   * for all container changes and one for all task moves. Reports that stop a task, or whose guarded
   * update finds the task moved meanwhile, take the one-by-one path above.
   */
  async applyTaskReports(
    batch: { instanceId: string; report: TaskStateReport }[],
  ): Promise<(ReportOutcome | null)[]> {
    // Reports are full snapshots: the last one per task supersedes the earlier ones.
    const last = new Map<string, { instanceId: string; report: TaskStateReport }>();
    for (const item of batch) last.set(item.report.taskId, item);
    const ids = [...last.keys()].filter((id) => UUID.test(id));
    const tasks = await sqlOf(this.db).rows<StoredTask>(TASKS_WITH_CONTAINERS_BY_ID, [ids]);
    const now = new Date();
    const outcomes = new Map<string, ReportOutcome | null>();
    const slow: { instanceId: string; report: TaskStateReport }[] = [];
    const containerRows: ContainerWrite[] = [];
    const taskRows: {
      id: string;
      instanceId: string;
      from: string;
      data: Prisma.TaskUpdateManyMutationInput;
    }[] = [];
    for (const task of tasks) {
      const { instanceId, report } = last.get(task.id)!;
      if (task.containerInstanceId !== instanceId) continue;
      const writes = reportWrites(task, report, now);
      if (writes.stopped) {
        slow.push({ instanceId, report });
        continue;
      }
      containerRows.push(...writes.containers);
      if (writes.task) taskRows.push({ id: task.id, instanceId, from: task.lastStatus, data: writes.task });
      const changed = writes.containers.length > 0 || writes.task !== null;
      outcomes.set(task.id, { taskId: task.id, clusterId: task.clusterId, changed, stopped: false });
    }
    const sql = sqlOf(this.db);
    if (containerRows.length) await sql.rows(UPDATE_CONTAINERS, containerColumns(containerRows));
    if (taskRows.length) {
      const at = (v: unknown) => (v instanceof Date ? v : null);
      const moved = await sql.rows<{ id: string }>(MOVE_TASKS, [
        taskRows.map((r) => r.id),
        taskRows.map((r) => r.instanceId),
        taskRows.map((r) => r.from),
        taskRows.map((r) => r.data.lastStatus as string),
        taskRows.map((r) => at(r.data.pullStartedAt)),
        taskRows.map((r) => at(r.data.pullStoppedAt)),
        taskRows.map((r) => at(r.data.startedAt)),
        taskRows.map((r) => at(r.data.stoppingAt)),
        taskRows.map((r) => (r.data.startTrace ? JSON.stringify(r.data.startTrace) : null)),
      ]);
      const done = new Set(moved.map((r) => r.id));
      for (const r of taskRows) if (!done.has(r.id)) slow.push(last.get(r.id)!);
    }
    for (const item of slow)
      outcomes.set(item.report.taskId, await this.applyTaskReport(item.instanceId, item.report));
    return batch.map((item) => outcomes.get(item.report.taskId) ?? null);
  }
}

const HEARTBEAT = statement(
  'agent_heartbeat',
  `UPDATE container_instance SET last_heartbeat_at = now(), agent_connected = true
    WHERE id = $1::uuid AND agent_session_id = $2`,
);
/**
 * Registration's one write: the instance's facts and heartbeat, if its cluster and status allow.
 * Heartbeats are stamped with the database's clock, the one the controller judges silence by: a
 * gateway whose clock drifts can neither hide a dead host nor condemn a live one.
 */
const REGISTER = statement(
  'agent_register',
  `INSERT INTO container_instance AS ci (id, cluster_id, host_address, registered_cpu, registered_memory,
          attributes, agent_version, agent_connected, agent_session_id, last_heartbeat_at, registered_at,
          updated_at)
   SELECT $1::uuid, c.id, $3, $4, $5, $6::jsonb, $7, true, $8, now(), $9::timestamp(3), $9::timestamp(3)
     FROM cluster c WHERE c.name = $2 AND c.status = 'ACTIVE'
   ON CONFLICT (id) DO UPDATE SET host_address = excluded.host_address,
          registered_cpu = excluded.registered_cpu, registered_memory = excluded.registered_memory,
          attributes = excluded.attributes, agent_version = excluded.agent_version, agent_connected = true,
          agent_session_id = excluded.agent_session_id, last_heartbeat_at = now(), updated_at = excluded.updated_at
    WHERE ci.cluster_id = excluded.cluster_id AND ci.status <> 'INACTIVE'
   RETURNING ci.id, ci.cluster_id AS "clusterId", ci.status, ci.agent_connected AS "agentConnected",
          ci.agent_session_id AS "agentSessionId", ci.agent_version AS "agentVersion",
          ci.last_heartbeat_at AS "lastHeartbeatAt", ci.host_address AS "hostAddress",
          ci.registered_cpu AS "registeredCpu", ci.registered_memory AS "registeredMemory",
          ci.reserved_cpu AS "reservedCpu", ci.reserved_memory AS "reservedMemory", ci.attributes,
          ci.api_attributes AS "apiAttributes", ci.tags, ci.registered_at AS "registeredAt",
          ci.updated_at AS "updatedAt", ci.silent_since AS "silentSince",
          ci.silence_seen_at AS "silenceSeenAt", ci.brake_held_at AS "brakeHeldAt"`,
);
interface RegistrationState {
  clusterId: string | null;
  clusterStatus: string | null;
  instanceClusterId: string | null;
  instanceStatus: string | null;
}
/** Why REGISTER wrote nothing: the cluster by name, and the instance if it exists. */
const REGISTRATION_STATE = statement(
  'agent_registration_state',
  `SELECT c.id AS "clusterId", c.status AS "clusterStatus", ci.cluster_id AS "instanceClusterId",
          ci.status AS "instanceStatus"
     FROM (SELECT 1) one
     LEFT JOIN cluster c ON c.name = $1
     LEFT JOIN container_instance ci ON ci.id = $2::uuid`,
);
const DISCONNECT = statement(
  'agent_disconnect',
  `UPDATE container_instance SET agent_connected = false, updated_at = $3::timestamp(3)
    WHERE id = $1::uuid AND agent_session_id = $2`,
);
const TASK_WITH_CONTAINERS_ON = statement(
  'agent_task_with_containers',
  `${TASK_WITH_CONTAINERS} WHERE t.id = $1::uuid AND t.container_instance_id = $2::uuid`,
);
/** Containers' observed state, each guarded on the status its write was computed from. */
const UPDATE_CONTAINERS = statement(
  'agent_update_containers',
  `UPDATE task_container tc SET last_status = v.last_status, health_status = v.health_status,
          runtime_id = v.runtime_id, exit_code = v.exit_code, reason = v.reason,
          network_bindings = v.network_bindings
     FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::text[], $8::jsonb[])
          AS v(id, from_status, last_status, health_status, runtime_id, exit_code, reason, network_bindings)
    WHERE tc.id = v.id AND tc.last_status = v.from_status`,
);
/** One report's task move, guarded on the state it was computed from; a null leaves a column as is. */
const UPDATE_TASK = statement(
  'agent_update_task',
  `UPDATE task t SET last_status = $5, updated_at = now(),
          pull_started_at = coalesce($6::timestamp(3), t.pull_started_at),
          pull_stopped_at = coalesce($7::timestamp(3), t.pull_stopped_at),
          started_at = coalesce($8::timestamp(3), t.started_at),
          start_trace = coalesce($9::jsonb, t.start_trace),
          stopping_at = coalesce($10::timestamp(3), t.stopping_at),
          stopped_at = coalesce($11::timestamp(3), t.stopped_at),
          stopped_reason = coalesce($12, t.stopped_reason),
          desired_status = coalesce($13, t.desired_status),
          stop_code = coalesce($14, t.stop_code),
          failed = coalesce($15::boolean, t.failed)
    WHERE t.id = $1::uuid AND t.container_instance_id = $2::uuid AND t.last_status = $3
      AND t.desired_status = $4
   RETURNING t.id`,
);
const STOP_CONTAINERS = statement(
  'agent_stop_containers',
  `UPDATE task_container SET last_status = 'STOPPED' WHERE task_id = $1::uuid`,
);
/** Many reports' task moves short of STOPPED, each guarded on the status it was computed from. */
const MOVE_TASKS = statement(
  'agent_move_tasks',
  `UPDATE task t SET last_status = v.last_status, updated_at = now(),
          pull_started_at = coalesce(v.pull_started_at, t.pull_started_at),
          pull_stopped_at = coalesce(v.pull_stopped_at, t.pull_stopped_at),
          started_at = coalesce(t.started_at, v.started_at),
          stopping_at = coalesce(t.stopping_at, v.stopping_at),
          start_trace = coalesce(t.start_trace, v.start_trace)
     FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::timestamp(3)[], $6::timestamp(3)[],
                 $7::timestamp(3)[], $8::timestamp(3)[], $9::jsonb[])
          AS v(id, instance_id, from_status, last_status, pull_started_at, pull_stopped_at, started_at,
               stopping_at, start_trace)
    WHERE t.id = v.id AND t.container_instance_id = v.instance_id AND t.last_status = v.from_status
   RETURNING t.id`,
);

type ContainerWrite = ReturnType<typeof reportWrites>['containers'][number];

/** UPDATE_CONTAINERS' arrays, column by column. */
function containerColumns(rows: readonly ContainerWrite[]): unknown[] {
  const col = <T>(f: (d: ContainerWrite['data']) => T) => rows.map((r) => f(r.data));
  return [
    rows.map((r) => r.id),
    rows.map((r) => r.from),
    col((d) => d.lastStatus as string),
    col((d) => d.healthStatus as string),
    col((d) => (d.runtimeId as string | null) ?? null),
    col((d) => (d.exitCode as number | null) ?? null),
    col((d) => (d.reason as string | null) ?? null),
    col((d) => JSON.stringify(d.networkBindings)),
  ];
}

const DESIRED_TASKS = statement(
  'agent_desired_tasks',
  `SELECT ${TASK_COLUMNS} FROM task t WHERE t.container_instance_id = $1::uuid AND t.last_status <> 'STOPPED'`,
);
const TASKS_BY_ID = statement(
  'agent_tasks_by_id',
  `SELECT ${TASK_COLUMNS} FROM task t WHERE t.id = ANY($1::uuid[])`,
);
type AgentCluster = Pick<ClusterModel, 'id' | 'name' | 'containerPolicyLevel' | 'allowedHostPathPrefixes'>;
const CLUSTERS_FOR_AGENTS = statement(
  'clusters_for_agents',
  `SELECT id, name, container_policy_level AS "containerPolicyLevel",
          allowed_host_path_prefixes AS "allowedHostPathPrefixes"
     FROM cluster WHERE id = ANY($1::uuid[])`,
);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type StoredTask = TaskModel & { containers: TaskContainerModel[] };

/** What a report changes, computed from the stored task: only forward moves, only real changes. */
export function reportWrites(task: StoredTask, report: TaskStateReport, now: Date) {
  const containers: { id: string; from: string; data: Prisma.TaskContainerUpdateManyMutationInput }[] = [];
  for (const c of report.containers) {
    const stored = task.containers.find((x) => x.name === c.name);
    const status = containerStatusFromProto(c.status);
    if (!stored || !status) continue;
    const from = parseStatus.container(stored.lastStatus);
    if (from === 'STOPPED' || (from !== status && !isContainerStatusAdvance(from, status))) continue;
    const bindings = bindingsFromProto(c);
    // Health may go either way (HEALTHY, then UNHEALTHY); it is only ever what Docker said last.
    const health =
      status === 'RUNNING' ? (healthFromProto(c.healthStatus) ?? stored.healthStatus) : stored.healthStatus;
    const data = {
      lastStatus: status,
      healthStatus: health,
      runtimeId: c.runtimeId || stored.runtimeId,
      exitCode: c.exitCode ?? stored.exitCode,
      reason: c.reason || stored.reason,
      networkBindings: (bindings.length ? bindings : stored.networkBindings) as Prisma.InputJsonValue,
    };
    if (
      data.lastStatus !== stored.lastStatus ||
      data.healthStatus !== stored.healthStatus ||
      data.runtimeId !== stored.runtimeId ||
      data.exitCode !== stored.exitCode ||
      data.reason !== stored.reason ||
      JSON.stringify(data.networkBindings) !== JSON.stringify(stored.networkBindings)
    ) {
      containers.push({ id: stored.id, from, data });
    }
  }
  const to = taskStatusFromProto(report.status);
  const from = parseStatus.taskLast(task.lastStatus);
  if (!to || !isTaskStatusAdvance(from, to)) return { containers, task: null, stopped: false };
  const taskData: Prisma.TaskUpdateManyMutationInput = {
    lastStatus: to,
    ...(report.pullStartedAtMs ? { pullStartedAt: new Date(report.pullStartedAtMs) } : {}),
    ...(report.pullStoppedAtMs ? { pullStoppedAt: new Date(report.pullStoppedAtMs) } : {}),
    ...(to === 'RUNNING' ? { startedAt: task.startedAt ?? now } : {}),
    ...(to === 'RUNNING' && !task.startTrace ? startTraceOf(report) : {}),
    ...(to === 'STOPPING' || to === 'STOPPED' ? { stoppingAt: task.stoppingAt ?? now } : {}),
    ...(to === 'STOPPED' ? { stoppedAt: now } : {}),
    ...(to === 'STOPPED' && !task.stoppedReason && report.reason ? { stoppedReason: report.reason } : {}),
    ...(to === 'STOPPED' ? essentialStopOnReport(task, report) : {}),
  };
  return { containers, task: taskData, stopped: to === 'STOPPED' };
}

/** The agent's stages of the start path, kept with the RUNNING transition (bench/latency reads them). */
function startTraceOf(report: TaskStateReport): { startTrace?: Prisma.InputJsonValue } {
  const at = (ms: number | undefined) => (ms ? new Date(ms).toISOString() : undefined);
  if (!report.runningAtMs) return {};
  return {
    startTrace: {
      receivedAt: at(report.receivedAtMs),
      containersCreatedAt: at(report.containersCreatedAtMs),
      containersStartedAt: at(report.containersStartedAtMs),
      runningAt: at(report.runningAtMs),
    },
  };
}

/**
 * The agent stops a task itself when an essential container exits, so its STOPPED report can be
 * the first the control plane hears of it. The controller's decision (stop code, failure) is then
 * made in the same write, so that no reader sees STOPPED without its stopCode; the controller
 * still decides for tasks whose container stopped while the task had not.
 */
function essentialStopOnReport(
  task: StoredTask,
  report: TaskStateReport,
): Prisma.TaskUpdateManyMutationInput {
  if (task.stopCode) return {};
  const reported = new Map(report.containers.map((c) => [c.name, c]));
  const decision = decideEssentialStop({
    lastStatus: parseStatus.taskLast(task.lastStatus),
    desiredStatus: parseStatus.taskDesired(task.desiredStatus),
    startedAt: task.startedAt,
    containers: task.containers.map((c) => {
      const r = reported.get(c.name);
      return {
        name: c.name,
        essential: c.essential,
        lastStatus: (r && containerStatusFromProto(r.status)) || parseStatus.container(c.lastStatus),
        exitCode: r?.exitCode ?? c.exitCode,
        reason: r?.reason || c.reason,
      };
    }),
  });
  if (!decision) return {};
  return {
    desiredStatus: 'STOPPED',
    stopCode: decision.stopCode,
    // Every essential stop is a failure: it is what the deployment circuit breaker counts.
    failed: true,
    stoppedReason: task.stoppedReason ?? (report.reason || decision.stoppedReason),
  };
}
