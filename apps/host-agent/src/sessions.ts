import type * as grpc from '@grpc/grpc-js';
import type { Logger } from '@berth/config';
import {
  SessionStream,
  type AgentServiceClient,
  type OpenSession,
  type SessionDown,
  type SessionUp,
} from '@berth/proto';
import {
  SessionRefused,
  type ContainerSessions,
  type ExecSession,
  type OutputStream,
} from './runtime/container-runtime.js';
import { CreditWindow, DockerFrameSplitter, type OutputChunk } from './docker-frames.js';
import { containerName } from './task-engine.js';

/** Bytes sent and not yet consumed by the reader, per session: what a slow reader can hold up. */
export const SESSION_WINDOW_BYTES = 256 * 1024;
/** The gateway acks at least every 15 s; a session that hears nothing for this long is abandoned. */
export const SESSION_IDLE_MS = 60_000;

/**
 * Serves the control plane's sessions (docs/agent-protocol.md, "Sessions"): for each OpenSession
 * it opens the container's logs or an exec in Docker, then a Session RPC whose first frame names
 * this instance, and streams the output up, never more than a window ahead of the reader. A slow
 * reader pauses its own Docker stream, and nothing else: the Connect stream and other sessions go
 * on.
 */
export class SessionServer {
  constructor(
    private readonly runtime: ContainerSessions | null,
    private readonly instanceId: string,
    private readonly logger: Logger,
  ) {}

  open(req: OpenSession, client: AgentServiceClient): void {
    this.serve(req, client).catch((err: unknown) =>
      this.logger.warn({ err, session: req.sessionId }, 'session failed'),
    );
  }

  private async start(req: OpenSession): Promise<OutputStream | ExecSession> {
    if (!this.runtime) throw new SessionRefused('a hollow agent has no container logs or exec');
    const name = containerName(req.taskId, req.containerName);
    const kind = req.kind;
    if (kind?.$case === 'logs') return this.runtime.logs(name, this.instanceId, kind.value);
    if (kind?.$case === 'exec')
      return this.runtime.exec(name, this.instanceId, kind.value.command, kind.value);
    throw new SessionRefused('this agent does not know the kind of session asked for');
  }

  private async serve(req: OpenSession, client: AgentServiceClient): Promise<void> {
    let source: OutputStream | ExecSession | undefined;
    let error = '';
    try {
      source = await this.start(req);
    } catch (err) {
      error = err instanceof SessionRefused ? err.message : `docker: ${(err as Error).message}`;
    }
    const call: grpc.ClientDuplexStream<SessionUp, SessionDown> = client.session();
    call.on('error', () => source?.stream.destroy());
    call.write({
      payload: {
        $case: 'hello',
        value: { containerInstanceId: this.instanceId, sessionId: req.sessionId, error },
      },
    });
    if (!source) {
      call.end();
      return;
    }
    this.logger.info(
      { session: req.sessionId, task: req.taskId, container: req.containerName, kind: req.kind?.$case },
      'session opened',
    );
    this.pump(req, source, call);
  }

  private pump(
    req: OpenSession,
    source: OutputStream | ExecSession,
    call: grpc.ClientDuplexStream<SessionUp, SessionDown>,
  ): void {
    const window = new CreditWindow(SESSION_WINDOW_BYTES);
    const splitter = source.tty ? null : new DockerFrameSplitter();
    const exec = 'exitCode' in source ? source : null;
    let grpcBlocked = false;
    let done = false;
    const flow = () => {
      if (window.open && !grpcBlocked) source.stream.resume();
      else source.stream.pause();
    };
    let idle: NodeJS.Timeout | undefined;
    const finish = (end: { exitCode?: number; error: string }) => {
      if (done) return;
      done = true;
      clearTimeout(idle);
      source.stream.destroy();
      try {
        call.write({ payload: { $case: 'end', value: end } });
        call.end();
      } catch {
        // The RPC is gone already: nobody is left to tell.
      }
      this.logger.info({ session: req.sessionId, ...end }, 'session ended');
    };
    const alive = () => {
      clearTimeout(idle);
      idle = setTimeout(() => finish({ error: 'no word from the control plane' }), SESSION_IDLE_MS);
    };
    alive();

    source.stream.on('data', (chunk: Buffer) => {
      const parts: OutputChunk[] = splitter ? splitter.push(chunk) : [{ stream: 'stdout', data: chunk }];
      for (const part of parts) {
        window.onSent(part.data.length);
        const ok = call.write({
          payload: {
            $case: 'data',
            value: {
              stream:
                part.stream === 'stderr'
                  ? SessionStream.SESSION_STREAM_STDERR
                  : SessionStream.SESSION_STREAM_STDOUT,
              data: part.data,
            },
          },
        });
        if (!ok) grpcBlocked = true;
      }
      flow();
    });
    call.on('drain', () => {
      grpcBlocked = false;
      flow();
    });
    let ending = false;
    const ended = () => {
      if (done || ending) return;
      ending = true;
      if (!exec) return finish({ error: '' });
      exec.exitCode().then(
        (exitCode) => finish({ exitCode: exitCode ?? undefined, error: '' }),
        (err: unknown) => finish({ error: `docker: ${(err as Error).message}` }),
      );
    };
    source.stream.on('end', ended);
    source.stream.on('close', ended);
    source.stream.on('error', (err: Error) => finish({ error: `docker: ${err.message}` }));

    call.on('data', (msg: SessionDown) => {
      alive();
      const p = msg.payload;
      if (!p) return;
      switch (p.$case) {
        case 'ack':
          if (window.onAck(p.value.consumedBytes)) flow();
          return;
        case 'data':
          exec?.input?.write(p.value.data);
          return;
        case 'resize':
          exec?.resize(p.value.rows, p.value.cols).catch(() => undefined);
          return;
        case 'end':
          finish({ error: '' });
          return;
      }
    });
    call.on('end', () => finish({ error: '' }));
  }
}
