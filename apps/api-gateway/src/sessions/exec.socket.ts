import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { isBerthError } from '@berth/domain';
import { LOGGER, type Logger } from '../infra/providers.js';
import { ContainerSessionsRepository } from './container-sessions.repository.js';
import { ContainerSessionsService } from './container-sessions.service.js';
import { ExecService } from './exec.service.js';

const PATH = /^\/v1\/exec-sessions\/([0-9a-f-]{36})$/;
/** The biggest message a client may send (stdin or a resize): a paste, not a file transfer. */
const MAX_MESSAGE_BYTES = 1024 * 1024;

/**
 * The WebSocket end of exec (docs/observability.md): `GET /v1/exec-sessions/{id}?token=` upgrades
 * with the token ExecuteCommand answered, then carries the session. Server to client: binary
 * messages whose first byte is the stream (1 stdout, 2 stderr), then one text message
 * `{"exitCode": n}` (or `{"error": "..."}`) before a normal close. Client to server: binary
 * messages are stdin, a text message `{"resize": {"rows": r, "cols": c}}` resizes the tty.
 */
@Injectable()
export class ExecSocket implements OnApplicationShutdown {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });

  constructor(
    private readonly exec: ExecService,
    private readonly sessions: ContainerSessionsService,
    private readonly tasks: ContainerSessionsRepository,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  listen(server: Server): void {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      this.upgrade(req, socket, head).catch((err: unknown) => {
        this.logger.error({ err }, 'exec upgrade failed');
        refuse(socket, 500, 'ServerException', 'the exec session could not start');
      });
    });
  }

  onApplicationShutdown(): void {
    for (const client of this.wss.clients) client.terminate();
    this.wss.close();
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://gateway');
    const id = PATH.exec(url.pathname)?.[1];
    if (!id) return refuse(socket, 404, 'NotFoundException', `no WebSocket at ${url.pathname}`);
    const pending = await this.exec.take(id, url.searchParams.get('token') ?? '');
    if (!pending)
      return refuse(
        socket,
        401,
        'UnrecognizedClientException',
        'the session token is not valid, was used already, or expired (ExecuteCommand answers a new one)',
      );
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.run(ws, id, pending).catch((err: unknown) => {
        ws.send(JSON.stringify({ error: isBerthError(err) ? err.message : 'the exec session failed' }));
        ws.close(1011);
        if (!isBerthError(err)) this.logger.error({ err, session: id }, 'exec session failed');
      });
    });
  }

  private async run(ws: WebSocket, id: string, pending: Awaited<ReturnType<ExecService['take']>> & {}) {
    // What the client sends while the agent opens the exec (it may type at once) waits for it.
    const early: { data: RawData; isBinary: boolean }[] = [];
    let onMessage = (data: RawData, isBinary: boolean) => void early.push({ data, isBinary });
    ws.on('message', (data: RawData, isBinary: boolean) => onMessage(data, isBinary));
    const task = await this.tasks.task(pending.cluster, pending.taskId);
    const session = await this.sessions.open(
      task,
      {
        containerName: pending.containerName,
        kind: {
          $case: 'exec',
          value: { command: pending.command, interactive: pending.interactive, tty: pending.tty },
        },
      },
      id,
    );
    this.logger.info(
      { session: id, task: task.id, container: pending.containerName, accessKeyId: pending.accessKeyId },
      'exec session started',
    );
    ws.on('close', () => session.close());
    // The client may have left while the agent opened the exec.
    if (ws.readyState !== ws.OPEN) session.close();
    onMessage = (data, isBinary) => {
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer);
      if (isBinary) {
        if (pending.interactive) session.stdin(bytes);
        return;
      }
      const size = resizeOf(bytes.toString());
      if (size) session.resize(size.rows, size.cols);
    };
    for (const m of early.splice(0)) onMessage(m.data, m.isBinary);
    session.attach({
      onData: (stream, data) =>
        ws.send(Buffer.concat([Buffer.from([stream]), data]), { binary: true }, () =>
          session.consumed(data.length),
        ),
      onEnd: (end) => {
        ws.send(JSON.stringify(end.error ? { error: end.error } : { exitCode: end.exitCode ?? null }));
        ws.close(1000);
        this.logger.info({ session: id, exitCode: end.exitCode, error: end.error }, 'exec session ended');
      },
    });
  }
}

/** `{"resize": {"rows": 24, "cols": 80}}`, with sizes a terminal can have; anything else is ignored. */
export function resizeOf(text: string): { rows: number; cols: number } | undefined {
  try {
    const { resize } = JSON.parse(text) as { resize?: { rows?: unknown; cols?: unknown } };
    const ok = (n: unknown): n is number =>
      Number.isInteger(n) && (n as number) > 0 && (n as number) <= 10_000;
    if (resize && ok(resize.rows) && ok(resize.cols)) return { rows: resize.rows, cols: resize.cols };
  } catch {
    // Not JSON: ignored, as any message that is not a resize.
  }
  return undefined;
}

function refuse(socket: Duplex, status: number, error: string, message: string): void {
  const body = JSON.stringify({ error, message });
  socket.end(
    `HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : status === 404 ? 'Not Found' : 'Error'}\r\n` +
      `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}
