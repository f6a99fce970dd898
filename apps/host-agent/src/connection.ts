import * as grpc from '@grpc/grpc-js';
import type { Logger } from '@berth/config';
import {
  AgentServiceClient,
  type AgentMessage,
  type ControlMessage,
  type TaskStateReport,
  type TaskStats,
} from '@berth/proto';
import { renewalDueAt } from '@berth/domain';
import type { AgentConfig } from './config.js';
import type { TaskEngine } from './task-engine.js';
import type { SessionServer } from './sessions.js';
import { newKeyAndCsr, saveCredentials, validityOf, type Credentials } from './identity.js';
import { AGENT_VERSION } from './version.js';

const RECONNECT_MIN_MS = 250;
const RECONNECT_MAX_MS = 5_000;
const JOIN_DEADLINE_MS = 10_000;
/**
 * A dial that has not reached the gateway by then is abandoned for a new one. grpc-js sets no
 * connect timeout, so a dial begun while the network was down waits on the kernel's SYN
 * retransmissions, which back off to a minute: after an outage the agent would come back tens of
 * seconds after its network did, and its instance would be declared lost once the others' return
 * released the brake.
 */
const DIAL_TIMEOUT_MS = 5_000;
/** setTimeout's longest delay; a renewal further away is scheduled again when it fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const CHANNEL_OPTIONS = {
  'grpc.keepalive_time_ms': 10_000,
  'grpc.keepalive_timeout_ms': 5_000,
  // The channel's own reconnect backoff (up to 120 s by default) would keep an agent away long
  // after a gateway outage ends, past the grace before its instance is declared lost: a retry
  // every 2 s at most (a refused TCP connection costs the gateway nothing).
  'grpc.initial_reconnect_backoff_ms': RECONNECT_MIN_MS,
  'grpc.max_reconnect_backoff_ms': 2_000,
  // Each channel has its own certificate, so no two share a subchannel; the global pool would
  // only compare every new channel's options with all the others' (quadratic for hollow agents).
  'grpc.use_local_subchannel_pool': 1,
};

/** A client over mutual TLS: the gateway checked against the cluster CA, the agent by its certificate. */
export function agentClient(
  gateway: string,
  creds: Partial<Credentials> & { caPem: string },
): AgentServiceClient {
  const tls = grpc.credentials.createSsl(
    Buffer.from(creds.caPem),
    creds.keyPem ? Buffer.from(creds.keyPem) : null,
    creds.certificatePem ? Buffer.from(creds.certificatePem) : null,
  );
  return new AgentServiceClient(gateway, tls, CHANNEL_OPTIONS);
}

/**
 * The agent's one stream to the control plane. Registers on every connect (with what it runs
 * now), heartbeats, forwards reports, applies commands; reconnects with backoff to whichever
 * gateway answers. Renews its certificate at two thirds of its lifetime over the same channel; the
 * stream stays up, and the next reconnect uses the new certificate.
 */
export class ControlPlaneConnection {
  private client: AgentServiceClient;
  /**
   * The client is rebuilt at the next reconnect: for a renewed certificate it does not use yet, or
   * to drop a dial that is stuck.
   */
  private rebuild = false;
  private renewTimer?: NodeJS.Timeout;
  private call?: grpc.ClientDuplexStream<AgentMessage, ControlMessage>;
  private heartbeat?: NodeJS.Timeout;
  private closed = false;
  private backoff = RECONNECT_MIN_MS;
  registered = false;

  constructor(
    private readonly config: AgentConfig,
    private readonly instanceId: string,
    private readonly engine: () => TaskEngine,
    private readonly logger: Logger,
    private credentials: Credentials,
    private readonly sessions: SessionServer,
    private readonly dialTimeoutMs = DIAL_TIMEOUT_MS,
  ) {
    this.client = agentClient(config.gateway, credentials);
  }

  start(): void {
    this.connect();
    this.scheduleRenewal();
  }

  send(report: TaskStateReport): void {
    // While disconnected, reports are dropped: the next Register carries the current state of all.
    if (this.registered) this.call?.write({ payload: { $case: 'taskState', value: report } });
  }

  /** A stats sample; dropped while disconnected (the next one comes an interval later). */
  sendStats(tasks: TaskStats[]): void {
    if (this.registered)
      this.call?.write({
        payload: { $case: 'taskStats', value: { containerInstanceId: this.instanceId, tasks } },
      });
  }

  close(): void {
    this.closed = true;
    clearInterval(this.heartbeat);
    clearTimeout(this.renewTimer);
    this.call?.end();
    this.client.close();
  }

  private connect(): void {
    if (this.closed) return;
    if (this.rebuild) {
      this.client.close();
      this.client = agentClient(this.config.gateway, this.credentials);
      this.rebuild = false;
    }
    // waitForReady: the stream opens the moment the channel reconnects, rather than failing while
    // the gateway is away and then sitting out a backoff of its own.
    const call = this.client.connect(new grpc.Metadata({ waitForReady: true }));
    this.call = call;
    this.registered = false;
    call.write({
      payload: {
        $case: 'register',
        value: {
          cluster: this.config.cluster,
          containerInstanceId: this.instanceId,
          resources: { cpu: this.config.cpu, memory: this.config.memory },
          hostAddress: this.config.hostAddress,
          attributes: this.config.attributes,
          agentVersion: AGENT_VERSION,
          tasks: this.engine().reports(),
        },
      },
    });
    call.on('data', (msg: ControlMessage) => this.onMessage(msg));
    let ended = false;
    let dialTimedOut = false;
    const reconnect = (why: string, err?: unknown) => {
      if (ended) return;
      ended = true;
      clearInterval(this.heartbeat);
      this.registered = false;
      if (this.closed) return;
      if (!dialTimedOut)
        this.logger.warn({ err, retryInMs: this.backoff }, `control plane stream ${why}; reconnecting`);
      setTimeout(() => this.connect(), this.backoff);
      this.backoff = Math.min(this.backoff * 2, RECONNECT_MAX_MS);
    };
    call.on('error', (err) => reconnect('failed', err));
    call.on('end', () => reconnect('ended'));
    this.client.waitForReady(Date.now() + this.dialTimeoutMs, (err) => {
      if (!err || ended || this.closed) return;
      this.logger.warn({ timeoutMs: this.dialTimeoutMs }, 'gateway not reached; dialling again');
      dialTimedOut = true;
      this.rebuild = true;
      this.backoff = RECONNECT_MIN_MS;
      call.cancel();
    });
  }

  private onMessage(msg: ControlMessage): void {
    const p = msg.payload;
    if (!p) return;
    switch (p.$case) {
      case 'registered':
        this.registered = true;
        this.backoff = RECONNECT_MIN_MS;
        this.logger.info({ arn: p.value.containerInstanceArn }, 'registered');
        // Changes between Register and now were not sent: send every task's current state once.
        for (const report of this.engine().reports()) this.send(report);
        clearInterval(this.heartbeat);
        this.heartbeat = setInterval(
          () =>
            this.call?.write({
              payload: { $case: 'heartbeat', value: { runningTasks: this.engine().runningCount() } },
            }),
          p.value.heartbeatIntervalMs || 2000,
        );
        return;
      case 'registerRejected':
        this.logger.error({ reason: p.value.reason }, 'registration refused; will retry');
        return;
      case 'desiredState':
        this.engine().applyDesiredState(p.value.tasks);
        return;
      case 'startTask':
        if (p.value.task) this.engine().applyTask(p.value.task);
        return;
      case 'stopTask':
        this.engine().stopTask(p.value.taskId);
        return;
      case 'openSession':
        this.sessions.open(p.value, this.client);
        return;
    }
  }

  private scheduleRenewal(): void {
    if (this.closed) return;
    const { notAfter } = validityOf(this.credentials.certificatePem);
    const due = renewalDueAt({ receivedAt: this.credentials.receivedAt, notAfter }).getTime();
    this.renewTimer = setTimeout(
      () => (Date.now() < due ? this.scheduleRenewal() : this.renew()),
      Math.min(Math.max(0, due - Date.now()), MAX_TIMER_MS),
    );
  }

  /** A new key and certificate, asked for over the authenticated channel the agent holds. */
  private renew(): void {
    const { notAfter } = validityOf(this.credentials.certificatePem);
    // Retries come often enough to land well before expiry, whatever the lifetime.
    const retryMs = Math.min(30_000, Math.max(1_000, (notAfter.getTime() - Date.now()) / 10));
    const retry = (err: unknown) => {
      this.logger.warn({ err, retryInMs: retryMs, notAfter }, 'certificate renewal failed; retrying');
      if (!this.closed) this.renewTimer = setTimeout(() => this.renew(), retryMs);
    };
    newKeyAndCsr()
      .then(
        ({ keyPem, csrPem }) =>
          new Promise<Credentials>((resolve, reject) =>
            this.client.join(
              { cluster: this.config.cluster, containerInstanceId: this.instanceId, csrPem, joinToken: '' },
              new grpc.Metadata(),
              { deadline: Date.now() + JOIN_DEADLINE_MS },
              (err, res) =>
                err
                  ? reject(err)
                  : resolve({
                      keyPem,
                      certificatePem: res.certificatePem,
                      caPem: this.credentials.caPem,
                      receivedAt: new Date(),
                    }),
            ),
          ),
      )
      .then(async (next) => {
        await saveCredentials(this.config.dataDir, next);
        this.credentials = next;
        this.rebuild = true;
        this.logger.info({ notAfter: validityOf(next.certificatePem).notAfter }, 'certificate renewed');
        this.scheduleRenewal();
      })
      .catch(retry);
  }
}
