import { Inject, Injectable } from '@nestjs/common';
import { OpenSession } from '@berth/proto';
import { CONFIG, type GatewayConfig } from '../config.js';
import { REDIS, REDIS_SUBSCRIBER, type Redis } from '../infra/providers.js';

/** "Agent X, open this session": the replica that holds X's stream passes it on. */
export interface OpenRequest {
  containerInstanceId: string;
  open: OpenSession;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An open request from the channel, or undefined if it is not one (anyone with Redis can publish). */
export function parseOpenRequest(message: string): OpenRequest | undefined {
  try {
    const value = JSON.parse(message) as { containerInstanceId?: unknown; open?: unknown };
    if (typeof value.containerInstanceId !== 'string' || !UUID.test(value.containerInstanceId))
      return undefined;
    const open = OpenSession.fromJSON(value.open);
    if (!UUID.test(open.sessionId) || !UUID.test(open.taskId) || !open.containerName || !open.kind)
      return undefined;
    return { containerInstanceId: value.containerInstanceId, open };
  } catch {
    return undefined;
  }
}

export const encodeOpenRequest = (r: OpenRequest) =>
  JSON.stringify({ containerInstanceId: r.containerInstanceId, open: OpenSession.toJSON(r.open) });

/**
 * Carries sessions (logs, exec) between the gateway replica that holds the client's request and
 * the one that holds the agent's Session RPC, over Redis pub/sub (docs/observability.md):
 * `<prefix>:agent-sessions` for open requests, `<prefix>:session:<id>:up` for the agent's frames
 * and `:down` for the client's, each a protobuf SessionUp / SessionDown. Pub/sub keeps the order
 * of one publisher's messages; flow control (acks) bounds what is in flight, so Redis never holds
 * more than a window per session. Nothing of a session touches Postgres.
 */
@Injectable()
export class SessionRelay {
  private readonly handlers = new Map<string, (message: Buffer) => void>();
  private listening = false;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(REDIS_SUBSCRIBER) private readonly subscriber: Redis,
    @Inject(CONFIG) private readonly config: GatewayConfig,
  ) {}

  get openChannel(): string {
    return `${this.config.BERTH_REDIS_PREFIX}:agent-sessions`;
  }
  upChannel(sessionId: string): string {
    return `${this.config.BERTH_REDIS_PREFIX}:session:${sessionId}:up`;
  }
  downChannel(sessionId: string): string {
    return `${this.config.BERTH_REDIS_PREFIX}:session:${sessionId}:down`;
  }

  /** Resolves once Redis confirmed the subscription; the returned function ends it. */
  async subscribe(channel: string, handler: (message: Buffer) => void): Promise<() => void> {
    if (!this.listening) {
      this.listening = true;
      this.subscriber.on('messageBuffer', (from: Buffer, message: Buffer) =>
        this.handlers.get(from.toString())?.(message),
      );
    }
    this.handlers.set(channel, handler);
    await this.subscriber.subscribe(channel);
    return () => {
      this.handlers.delete(channel);
      this.subscriber.unsubscribe(channel).catch(() => undefined);
    };
  }

  async publish(channel: string, message: Buffer | string): Promise<void> {
    await this.redis.publish(channel, message);
  }
}
