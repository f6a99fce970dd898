import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import {
  ClientError,
  NotFoundError,
  ServiceUnavailableError,
  chooseContainer,
  parseResourceId,
} from '@berth/domain';
import { SessionDown, SessionUp, type OpenSession, type SessionEnd, type SessionStream } from '@berth/proto';
import { LOGGER, type Logger } from '../infra/providers.js';
import { ContainerSessionsRepository, type SessionTask } from './container-sessions.repository.js';
import { encodeOpenRequest, SessionRelay } from './session-relay.js';

/** How long the agent has to answer an open request (its hello) before the client gets a 504-like error. */
export const SESSION_OPEN_TIMEOUT_MS = 10_000;
/** An ack at least this often, even with nothing read: the agent abandons a session it hears nothing of. */
export const SESSION_KEEPALIVE_MS = 15_000;

export interface SessionHandlers {
  onData(stream: SessionStream, data: Buffer): void;
  onEnd(end: SessionEnd): void;
}

/**
 * The client's end of a session, on the replica that holds the client's request. Frames that
 * arrive before `attach` wait for it. `consumed` acks what the client has taken, which lets the
 * agent send more.
 */
export class ClientSession {
  private handlers?: SessionHandlers;
  private early: SessionUp[] = [];
  private consumedBytes = 0;
  private ackScheduled = false;
  private closed = false;
  private readonly keepalive: NodeJS.Timeout;

  constructor(
    readonly id: string,
    private readonly send: (frame: SessionDown) => void,
    private readonly release: () => void,
  ) {
    this.keepalive = setInterval(() => this.ack(), SESSION_KEEPALIVE_MS);
  }

  /** A frame from the agent. */
  receive(frame: SessionUp): void {
    if (this.closed) return;
    if (!this.handlers) {
      this.early.push(frame);
      return;
    }
    const p = frame.payload;
    if (p?.$case === 'data') this.handlers.onData(p.value.stream, Buffer.from(p.value.data));
    else if (p?.$case === 'end') {
      this.handlers.onEnd(p.value);
      this.finish();
    }
  }

  attach(handlers: SessionHandlers): void {
    this.handlers = handlers;
    const early = this.early;
    this.early = [];
    for (const frame of early) this.receive(frame);
  }

  consumed(bytes: number): void {
    this.consumedBytes += bytes;
    if (this.ackScheduled) return;
    this.ackScheduled = true;
    // One ack for everything a burst of writes consumed.
    setImmediate(() => {
      this.ackScheduled = false;
      this.ack();
    });
  }

  stdin(data: Buffer): void {
    this.send({ payload: { $case: 'data', value: { stream: 3, data } } });
  }

  resize(rows: number, cols: number): void {
    this.send({ payload: { $case: 'resize', value: { rows, cols } } });
  }

  /** The gateway stops: the client hears why, the agent is told to stop. */
  interrupt(reason: string): void {
    if (this.closed) return;
    this.handlers?.onEnd({ error: reason });
    this.close();
  }

  /** The client left: tell the agent to stop. */
  close(): void {
    if (this.closed) return;
    this.send({ payload: { $case: 'end', value: { error: '' } } });
    this.finish();
  }

  private ack(): void {
    if (!this.closed) this.send({ payload: { $case: 'ack', value: { consumedBytes: this.consumedBytes } } });
  }

  private finish(): void {
    this.closed = true;
    clearInterval(this.keepalive);
    this.release();
  }
}

/**
 * Opens sessions with the agent that runs a task's container, from whichever replica took the
 * request: it listens on the session's up channel, asks on `agent-sessions`, and waits for the
 * agent's hello, relayed by whichever replica holds the agent's Session RPC.
 */
@Injectable()
export class ContainerSessionsService implements BeforeApplicationShutdown {
  /** Open sessions: a followed log or a shell would otherwise hold a stopping gateway open. */
  private readonly live = new Set<ClientSession>();

  constructor(
    private readonly repository: ContainerSessionsRepository,
    private readonly relay: SessionRelay,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** The task, with the container the request means, where a session can reach it. */
  async target(clusterName: string, taskRef: string, container: string | undefined) {
    const task = await this.repository.task(clusterName, parseResourceId(taskRef, 'task', 'task'));
    const containerName = chooseContainer(task.containers, container);
    return { task, containerName };
  }

  beforeApplicationShutdown(): void {
    for (const session of [...this.live]) session.interrupt('the gateway is shutting down; ask again');
  }

  /** Refuses at once what open() would refuse later: a task not placed, or its agent away. */
  checkReachable(task: SessionTask): string {
    if (!task.containerInstanceId)
      throw new ClientError(
        'InvalidParameterException',
        `task ${task.id} has not been placed on a container instance yet: it has no containers`,
      );
    if (!task.agentConnected)
      throw new ServiceUnavailableError(
        `the agent of container instance ${task.containerInstanceId} is not connected; the task's containers are on that host`,
      );
    return task.containerInstanceId;
  }

  async open(
    task: SessionTask,
    kind: Omit<OpenSession, 'sessionId' | 'taskId'>,
    sessionId: string = randomUUID(),
  ): Promise<ClientSession> {
    const instanceId = this.checkReachable(task);
    const downChannel = this.relay.downChannel(sessionId);
    let session: ClientSession | undefined;
    let hello: ((frame: SessionUp) => void) | undefined;
    const answered = new Promise<SessionUp>((resolve) => (hello = resolve));
    // Frames after the hello that arrive before the session exists (one Redis read may carry many).
    const early: SessionUp[] = [];
    const unsubscribe = await this.relay
      .subscribe(this.relay.upChannel(sessionId), (message) => {
        const frame = SessionUp.decode(message);
        if (session) session.receive(frame);
        else if (hello) {
          hello(frame);
          hello = undefined;
        } else early.push(frame);
      })
      .catch((err: unknown) => {
        this.logger.warn({ err }, 'could not open a session channel');
        throw new ServiceUnavailableError('Redis cannot be reached: sessions need it; retry');
      });
    const send = (frame: SessionDown) => {
      this.relay
        .publish(downChannel, Buffer.from(SessionDown.encode(frame).finish()))
        .catch((err: unknown) =>
          this.logger.warn({ err, session: sessionId }, 'could not relay a session frame'),
        );
    };
    try {
      await this.relay.publish(
        this.relay.openChannel,
        encodeOpenRequest({ containerInstanceId: instanceId, open: { ...kind, sessionId, taskId: task.id } }),
      );
      let timer: NodeJS.Timeout | undefined;
      const first = await Promise.race([
        answered,
        new Promise<undefined>(
          (resolve) => (timer = setTimeout(() => resolve(undefined), SESSION_OPEN_TIMEOUT_MS)),
        ),
      ]);
      clearTimeout(timer);
      if (!first)
        throw new ServiceUnavailableError(
          `the agent of container instance ${instanceId} did not answer within ${SESSION_OPEN_TIMEOUT_MS / 1000} s`,
        );
      const h = first.payload?.$case === 'hello' ? first.payload.value : undefined;
      // The replica that relayed it checked the name against the agent's certificate.
      if (!h || h.containerInstanceId !== instanceId || h.sessionId !== sessionId)
        throw new ServiceUnavailableError('the session was answered by another instance than the task’s');
      if (h.error)
        throw new NotFoundError(
          'ResourceNotFoundException',
          `container ${kind.containerName} of task ${task.id}: ${h.error}`,
        );
      const opened = new ClientSession(sessionId, send, () => {
        this.live.delete(opened);
        unsubscribe();
      });
      session = opened;
      this.live.add(session);
      for (const frame of early) session.receive(frame);
      return session;
    } catch (error) {
      unsubscribe();
      throw error;
    }
  }
}
