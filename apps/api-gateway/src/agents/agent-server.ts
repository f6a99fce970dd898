import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import * as grpc from '@grpc/grpc-js';
import DataLoader from 'dataloader';
import {
  AgentServiceService,
  type AgentMessage,
  type ControlMessage,
  type JoinRequest,
  type JoinResponse,
  type Register,
  type TaskStateReport,
  type TaskStatsReport,
  SessionDown,
  SessionUp,
} from '@berth/proto';
import { arns, type AgentIdentity, type ArnContext } from '@berth/domain';
import { subscribeAgentCommands, type AgentCommand, type Hints } from '@berth/queues';
import { CONFIG, type GatewayConfig } from '../config.js';
import { HINTS, LOGGER, REDIS_SUBSCRIBER, type Logger, type Redis } from '../infra/providers.js';
import { ARN_CONTEXT } from '../http/arn-context.js';
import { AgentsRepository, type ReportOutcome } from './agents.repository.js';
import { taskSpec, type TaskForAgent } from './protocol.js';
import { CertificateAuthority } from '../identity/certificate-authority.js';
import { AgentJoin, AgentRefusal } from '../identity/agent-join.js';
import { peerIdentity } from '../identity/peer-identity.js';
import { GatewayMetrics } from '../metrics/gateway-metrics.js';
import { StatsRepository, type ReportedTaskStats } from '../stats/stats.repository.js';
import { parseOpenRequest, SessionRelay } from '../sessions/session-relay.js';
import { adaptiveLoader } from './batching.js';

/** The gateway's own TLS certificate is made at each start; a year outlives any process. */
const SERVER_CERT_LIFETIME_MS = 365 * 24 * 3600 * 1000;

type AgentCall = grpc.ServerDuplexStream<AgentMessage, ControlMessage>;
type SessionCall = grpc.ServerDuplexStream<SessionUp, SessionDown>;

/** The `kind` label of berth_gateway_agent_messages_total for each message. */
const KINDS: Record<NonNullable<AgentMessage['payload']>['$case'], string> = {
  register: 'register',
  heartbeat: 'heartbeat',
  taskState: 'task_state',
  taskStats: 'task_stats',
};

/** Ends a stream with an error status; grpc-js turns an 'error' event on a server stream into one. */
function endWithStatus(call: AgentCall | SessionCall, code: grpc.status, details: string): void {
  call.emit('error', Object.assign(new Error(details), { code, details }));
}

/** The agent identity of the verified client certificate a call came over, if any. */
const callerOf = (
  call: AgentCall | SessionCall | grpc.ServerUnaryCall<JoinRequest, JoinResponse>,
): AgentIdentity | undefined => peerIdentity(call.getAuthContext()?.sslPeerCertificate);

/** One agent's stream on this gateway replica. */
interface AgentSession {
  id: string;
  instanceId: string;
  clusterId: string;
  call: AgentCall;
  /**
   * Outbound messages, each read from Postgres and written in turn: a desired-state snapshot
   * read before a placement can never reach the agent after that placement's StartTask.
   */
  outbound: Promise<void>;
}

/**
 * The gRPC end of the agent protocol. Each agent holds one stream to one gateway replica; this
 * replica forwards commands for the agents it holds, whichever replica (or app) decided them,
 * because every replica listens on the Redis "tell agent X" channel.
 */
@Injectable()
export class AgentServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly server = new grpc.Server({
    'grpc.keepalive_time_ms': 10_000,
    'grpc.keepalive_timeout_ms': 5_000,
    'grpc.keepalive_permit_without_calls': 1,
  });
  private readonly sessions = new Map<string, AgentSession>();
  private resyncTimer?: NodeJS.Timeout;
  port = 0;

  constructor(
    private readonly agents: AgentsRepository,
    @Inject(CONFIG) private readonly config: GatewayConfig,
    @Inject(ARN_CONTEXT) private readonly ctx: ArnContext,
    @Inject(HINTS) private readonly hints: Hints,
    @Inject(REDIS_SUBSCRIBER) private readonly subscriber: Redis,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly ca: CertificateAuthority,
    private readonly joins: AgentJoin,
    private readonly stats: StatsRepository,
    private readonly metrics: GatewayMetrics,
    private readonly relay: SessionRelay,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.server.addService(AgentServiceService, {
      connect: (call: AgentCall) => this.onConnect(call),
      join: (
        call: grpc.ServerUnaryCall<JoinRequest, JoinResponse>,
        callback: grpc.sendUnaryData<JoinResponse>,
      ) => this.onJoin(call, callback),
      session: (call: SessionCall) => this.onSession(call),
    });
    const own = await this.ca.issueServerCertificate(
      this.config.BERTH_GRPC_TLS_NAMES,
      SERVER_CERT_LIFETIME_MS,
    );
    // TLS only. Client certificates are asked for and checked, but not required by the handshake:
    // Join must work with a token alone; Connect refuses a stream without a valid one. createSsl
    // cannot say that (it asks for no certificate unless it requires one); a provider can.
    const identity = {
      certificate: Buffer.from(`${own.certificatePem}\n${this.ca.certificatePem}\n`),
      privateKey: Buffer.from(own.keyPem),
    };
    const ca = { caCertificate: Buffer.from(this.ca.certificatePem) };
    // Told after the listener is added: grpc-js applies an update only to servers already watching.
    const provider: grpc.experimental.CertificateProvider = {
      addCaCertificateListener: (listener) => setImmediate(() => listener(ca)),
      removeCaCertificateListener: () => undefined,
      // The chain carries the CA, so a joining agent can match it against its token's CA hash.
      addIdentityCertificateListener: (listener) => setImmediate(() => listener(identity)),
      removeIdentityCertificateListener: () => undefined,
    };
    const credentials = grpc.experimental.createCertificateProviderServerCredentials(
      provider,
      provider,
      false,
    );
    this.port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(
        `${this.config.BERTH_GRPC_HOST}:${this.config.BERTH_GRPC_PORT}`,
        credentials,
        (err, port) => (err ? reject(err) : resolve(port)),
      ),
    );
    const subscribed = subscribeAgentCommands(
      this.subscriber,
      this.config.BERTH_REDIS_PREFIX,
      (cmd) => this.forward(cmd),
      (message) => this.logger.warn({ message: message.slice(0, 200) }, 'dropped a malformed agent command'),
    )
      .then(() => this.relay.subscribe(this.relay.openChannel, (m) => this.openSession(m.toString())))
      .catch((err: unknown) => this.logger.warn({ err }, 'could not subscribe to agent commands'));
    // With Redis down at boot, serve anyway: agents get their desired state when they connect, and
    // the subscription completes once Redis is back.
    await Promise.race([subscribed, new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
    this.resyncTimer = setInterval(() => {
      for (const session of this.sessions.values()) this.sendDesiredState(session);
    }, this.config.BERTH_DESIRED_STATE_RESYNC_MS);
    this.logger.info({ port: this.port }, 'agent gRPC server listening');
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.resyncTimer);
    await new Promise<void>((resolve) => this.server.tryShutdown(() => resolve()));
  }

  private onJoin(
    call: grpc.ServerUnaryCall<JoinRequest, JoinResponse>,
    callback: grpc.sendUnaryData<JoinResponse>,
  ): void {
    this.joins.join(call.request, callerOf(call), call.getPeer()).then(
      (res) => {
        this.logger.info(
          {
            instance: call.request.containerInstanceId,
            cluster: call.request.cluster,
            renewal: !call.request.joinToken,
          },
          'agent certificate issued',
        );
        callback(null, res);
      },
      (err: unknown) => {
        if (err instanceof AgentRefusal) {
          this.logger.warn(
            {
              instance: call.request.containerInstanceId,
              cluster: call.request.cluster,
              reason: err.message,
            },
            'join refused',
          );
          callback({ code: err.code, details: err.message });
          return;
        }
        this.logger.error({ err }, 'join failed');
        callback({ code: grpc.status.UNAVAILABLE, details: 'control plane unavailable, retry' });
      },
    );
  }

  private onConnect(call: AgentCall): void {
    const caller = callerOf(call);
    if (!caller) {
      // Nothing about the cluster, not even whether it exists, without a certificate.
      endWithStatus(
        call,
        grpc.status.UNAUTHENTICATED,
        'a client certificate from the cluster CA is required',
      );
      return;
    }
    let session: AgentSession | undefined;
    // Messages of one stream are handled strictly in order: a STOPPED report must not overtake RUNNING.
    let chain = Promise.resolve();
    const fail = (err: unknown, what: string) => {
      this.logger.error(
        { err, instance: session?.instanceId },
        `${what}; closing the stream so the agent reconnects and resyncs`,
      );
      endWithStatus(call, grpc.status.UNAVAILABLE, 'control plane unavailable, reconnect');
    };

    call.on('data', (msg: AgentMessage) => {
      chain = chain
        .then(async () => {
          const payload = msg.payload;
          if (!payload) return;
          this.metrics.agentMessages.inc({ kind: KINDS[payload.$case] });
          if (payload.$case === 'register') {
            const refusal = await this.joins.checkRegister(caller, payload.value, call.getPeer());
            if (refusal) {
              this.logger.warn({ certificate: caller, reason: refusal }, 'registration refused');
              endWithStatus(call, grpc.status.PERMISSION_DENIED, refusal);
              return;
            }
            session = await this.register(call, payload.value);
            return;
          }
          if (!session) {
            endWithStatus(call, grpc.status.FAILED_PRECONDITION, 'register first');
            return;
          }
          if (payload.$case === 'heartbeat') await this.agents.heartbeat(session.instanceId, session.id);
          else if (payload.$case === 'taskStats') await this.recordStats(session, caller, payload.value);
          else await this.applyReport(session, payload.value);
        })
        .catch((err: unknown) => fail(err, 'agent message failed'));
    });
    const closed = () => {
      const s = session;
      session = undefined;
      if (!s) return;
      if (this.sessions.get(s.instanceId)?.id === s.id) this.sessions.delete(s.instanceId);
      this.metrics.agentStreams.set(this.sessions.size);
      this.agents
        .disconnect(s.instanceId, s.id)
        .catch((err: unknown) =>
          this.logger.warn({ err, instance: s.instanceId }, 'could not record the disconnect'),
        );
      this.logger.info({ instance: s.instanceId }, 'agent disconnected');
    };
    call.on('end', () => {
      closed();
      call.end();
    });
    call.on('error', closed);
    call.on('cancelled', closed);
  }

  private async register(call: AgentCall, reg: Register): Promise<AgentSession | undefined> {
    const sessionId = randomUUID();
    const outcome = await this.agents.register(reg, sessionId);
    if (!outcome.ok) {
      this.logger.warn(
        { instance: reg.containerInstanceId, cluster: reg.cluster, reason: outcome.reason },
        'registration refused',
      );
      call.write({ payload: { $case: 'registerRejected', value: { reason: outcome.reason } } });
      call.end();
      return undefined;
    }
    const { instance, clusterName } = outcome;
    const session: AgentSession = {
      id: sessionId,
      instanceId: instance.id,
      clusterId: instance.clusterId,
      call,
      outbound: Promise.resolve(),
    };
    const previous = this.sessions.get(instance.id);
    this.sessions.set(instance.id, session);
    if (previous && previous.call !== call) previous.call.end();
    this.metrics.agentStreams.set(this.sessions.size);
    call.write({
      payload: {
        $case: 'registered',
        value: {
          containerInstanceArn: arns.containerInstance(this.ctx, clusterName, instance.id),
          heartbeatIntervalMs: this.config.BERTH_HEARTBEAT_INTERVAL_MS,
        },
      },
    });
    this.logger.info(
      {
        instance: instance.id,
        cluster: clusterName,
        hostAddress: instance.hostAddress,
        cpu: instance.registeredCpu,
        memory: instance.registeredMemory,
      },
      'agent registered',
    );
    // What the agent runs now may be news (it adopted containers while we were away).
    for (const report of reg.tasks) await this.applyReport(session, report);
    this.sendDesiredState(session);
    await this.hint(() => this.hints.placeInCluster(instance.clusterId));
    // A DAEMON service follows its cluster's instances: one that (re)joins may need its task now
    // rather than at the next services-sweep.
    await this.hint(async () => {
      for (const id of await this.agents.daemonServiceIds(instance.clusterId))
        await this.hints.serviceChanged(id);
    });
    return session;
  }

  /**
   * Reports from all agents are written in batches, and their hints sent in bulk: at a thousand
   * agents, per-report round trips would be the bottleneck. A report that arrives while no batch
   * is being written goes at once (a RUNNING report on an idle cluster waits for nothing). Each
   * stream still waits for its own report to be written before handling its next message.
   */
  private readonly reportBatches = adaptiveLoader<
    { instanceId: string; report: TaskStateReport },
    ReportOutcome | null
  >((keys) => this.agents.applyTaskReports([...keys]), { windowMs: 5, maxBatchSize: 500 });
  private readonly tasksForAgents = adaptiveLoader<string, TaskForAgent | null>(
    async (ids) => {
      const tasks = new Map((await this.agents.tasksForAgents(ids)).map((t) => [t.id, t]));
      return ids.map((id) => tasks.get(id) ?? null);
    },
    { windowMs: 2, maxBatchSize: 500 },
  );
  private readonly changedTasks = new DataLoader<string, void>(
    async (ids) => {
      await this.hints.tasksChanged([...new Set(ids)]);
      return ids.map(() => undefined);
    },
    { cache: false, maxBatchSize: 500, batchScheduleFn: (run) => setTimeout(run, 5) },
  );

  private async applyReport(session: AgentSession, report: Register['tasks'][number]): Promise<void> {
    const outcome = await this.reportBatches.load({ instanceId: session.instanceId, report });
    if (!outcome?.changed) return;
    await this.hint(() => this.changedTasks.load(outcome.taskId));
    // A stopped task freed room: tasks waiting for placement in this cluster may fit now.
    if (outcome.stopped) await this.hint(() => this.hints.placeInCluster(outcome.clusterId));
  }

  private readonly statsBatches = new DataLoader<ReportedTaskStats, void>(
    async (keys) => {
      this.metrics.statsSamples.inc(await this.stats.record(keys));
      return keys.map(() => undefined);
    },
    { cache: false, maxBatchSize: 500, batchScheduleFn: (run) => setTimeout(run, 5) },
  );

  /**
   * Stores a stats report's samples, if it speaks for the instance the stream's certificate names.
   * Samples are best effort: one that cannot be written is lost, and the stream goes on.
   */
  private async recordStats(session: AgentSession, caller: AgentIdentity, report: TaskStatsReport) {
    if (
      report.containerInstanceId !== caller.containerInstanceId ||
      report.containerInstanceId !== session.instanceId
    ) {
      this.logger.warn(
        { instance: session.instanceId, claimed: report.containerInstanceId },
        'dropped a stats report for another instance',
      );
      return;
    }
    await Promise.all(
      report.tasks.map((t) =>
        this.statsBatches.load({
          instanceId: session.instanceId,
          taskId: t.taskId,
          containers: t.containers,
        }),
      ),
    ).catch((err: unknown) =>
      this.logger.warn(
        { err, instance: session.instanceId },
        'could not store task stats; the samples are lost',
      ),
    );
  }

  /** Hints are only hints: without Redis, the report is still written and the sweeps find it. */
  private async hint(send: () => Promise<void>): Promise<void> {
    await send().catch((err: unknown) =>
      this.logger.warn({ err }, 'could not enqueue a hint; the sweeps will pick the change up'),
    );
  }

  private sendOrdered(session: AgentSession, what: string, step: () => Promise<void>): void {
    session.outbound = session.outbound.then(step).catch((err: unknown) => {
      this.logger.warn(
        { err, instance: session.instanceId },
        `could not send ${what}; the next resync will deliver it`,
      );
    });
  }

  private sendDesiredState(session: AgentSession): void {
    this.sendOrdered(session, 'the desired state', async () => {
      const tasks = await this.agents.desiredTasks(session.instanceId);
      session.call.write({
        payload: { $case: 'desiredState', value: { tasks: tasks.map((t) => taskSpec(this.ctx, t)) } },
      });
    });
  }

  /** Passes "agent X, open this session" to X's stream if this replica holds it. */
  private openSession(message: string): void {
    const request = parseOpenRequest(message);
    if (!request) {
      this.logger.warn({ message: message.slice(0, 200) }, 'dropped a malformed session request');
      return;
    }
    this.sessions
      .get(request.containerInstanceId)
      ?.call.write({ payload: { $case: 'openSession', value: request.open } });
  }

  /**
   * An agent's Session RPC: its first frame names the instance (it must be the certificate's) and
   * the session. From then on its frames go up to the session's channel, and the client's frames
   * come down from the other, whichever replica holds the client's request.
   */
  private onSession(call: SessionCall): void {
    const caller = callerOf(call);
    if (!caller) {
      endWithStatus(
        call,
        grpc.status.UNAUTHENTICATED,
        'a client certificate from the cluster CA is required',
      );
      return;
    }
    let sessionId: string | undefined;
    let upChannel = '';
    let ended = false;
    let unsubscribe: (() => void) | undefined;
    // Frames go up in the order they came, and only once the down channel is listened to.
    let chain = Promise.resolve();
    const up = (frame: SessionUp) => {
      const bytes = Buffer.from(SessionUp.encode(frame).finish());
      chain = chain
        .then(() => this.relay.publish(upChannel, bytes))
        .catch((err: unknown) => {
          this.logger.warn({ err, session: sessionId }, 'could not relay a session frame; ending it');
          call.end();
        });
    };
    call.on('data', (frame: SessionUp) => {
      if (ended) return;
      if (sessionId) {
        if (frame.payload?.$case === 'end') ended = true;
        up(frame);
        return;
      }
      const hello = frame.payload?.$case === 'hello' ? frame.payload.value : undefined;
      if (!hello || !/^[0-9a-f-]{36}$/i.test(hello.sessionId)) {
        endWithStatus(call, grpc.status.FAILED_PRECONDITION, 'a session begins with a SessionHello');
        return;
      }
      if (hello.containerInstanceId !== caller.containerInstanceId) {
        this.logger.warn({ certificate: caller, claimed: hello.containerInstanceId }, 'session refused');
        endWithStatus(
          call,
          grpc.status.PERMISSION_DENIED,
          `the certificate is for container instance ${caller.containerInstanceId}`,
        );
        return;
      }
      sessionId = hello.sessionId;
      upChannel = this.relay.upChannel(sessionId);
      chain = this.relay
        .subscribe(this.relay.downChannel(sessionId), (m) => {
          if (!call.writableEnded) call.write(SessionDown.decode(m));
        })
        .then((stop) => {
          unsubscribe = stop;
        });
      up(frame);
    });
    const closed = () => {
      if (sessionId && !ended)
        up({ payload: { $case: 'end', value: { error: 'the agent closed the session' } } });
      ended = true;
      void chain.then(() => unsubscribe?.());
    };
    call.on('end', () => {
      closed();
      call.end();
    });
    call.on('error', closed);
    call.on('cancelled', closed);
  }

  /** Forwards "tell agent X" to X's stream if this replica holds it; other replicas ignore it. */
  private forward(cmd: AgentCommand): void {
    const session = this.sessions.get(cmd.containerInstanceId);
    if (!session) return;
    this.sendOrdered(session, 'a command', async () => {
      const tasks = (await Promise.all(cmd.taskIds.map((id) => this.tasksForAgents.load(id)))).filter(
        (t): t is TaskForAgent => t !== null && t.containerInstanceId === session.instanceId,
      );
      for (const t of tasks) {
        if (t.lastStatus === 'STOPPED') continue;
        if (t.desiredStatus === 'RUNNING') {
          session.call.write({ payload: { $case: 'startTask', value: { task: taskSpec(this.ctx, t) } } });
        } else {
          session.call.write({
            payload: { $case: 'stopTask', value: { taskId: t.id, reason: t.stoppedReason ?? '' } },
          });
        }
      }
    });
  }
}
