import * as grpc from '@grpc/grpc-js';
import type { Logger } from '@berth/config';
import {
  AgentServiceClient,
  type AgentMessage,
  type ControlMessage,
  type TaskStateReport,
} from '@berth/proto';
import type { AgentConfig } from './config.js';
import type { TaskEngine } from './task-engine.js';

const AGENT_VERSION = '0.1.0';
const RECONNECT_MIN_MS = 250;
const RECONNECT_MAX_MS = 5_000;

/**
 * The agent's one stream to the control plane. Registers on every connect (with what it runs
 * now), heartbeats, forwards reports, applies commands; reconnects with backoff to whichever
 * gateway answers.
 */
export class ControlPlaneConnection {
  private readonly client: AgentServiceClient;
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
  ) {
    this.client = new AgentServiceClient(config.gateway, grpc.credentials.createInsecure(), {
      'grpc.keepalive_time_ms': 10_000,
      'grpc.keepalive_timeout_ms': 5_000,
    });
  }

  start(): void {
    this.connect();
  }

  send(report: TaskStateReport): void {
    // While disconnected, reports are dropped: the next Register carries the current state of all.
    if (this.registered) this.call?.write({ payload: { $case: 'taskState', value: report } });
  }

  close(): void {
    this.closed = true;
    clearInterval(this.heartbeat);
    this.call?.end();
    this.client.close();
  }

  private connect(): void {
    if (this.closed) return;
    const call = this.client.connect();
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
    const reconnect = (why: string, err?: unknown) => {
      if (ended) return;
      ended = true;
      clearInterval(this.heartbeat);
      this.registered = false;
      if (this.closed) return;
      this.logger.warn({ err, retryInMs: this.backoff }, `control plane stream ${why}; reconnecting`);
      setTimeout(() => this.connect(), this.backoff);
      this.backoff = Math.min(this.backoff * 2, RECONNECT_MAX_MS);
    };
    call.on('error', (err) => reconnect('failed', err));
    call.on('end', () => reconnect('ended'));
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
    }
  }
}
