import { Inject, Injectable } from '@nestjs/common';
import {
  arns,
  ecsEvent,
  evaluatePolicies,
  eventClusterName,
  formatEventPosition,
  idFromArnOrId,
  InvalidParameterError,
  parseEventPosition,
  parseMaxResults,
  type ArnContext,
  type EcsEvent,
  type EventPosition,
  type OutboxEvent,
} from '@berth/domain';
import { ARN_CONTEXT } from '../http/arn-context.js';
import { CONFIG, type GatewayConfig } from '../config.js';
import { LOGGER, type Logger } from '../infra/providers.js';
import type { Principal } from '../auth/authenticator.js';
import { EventsRepository } from './events.repository.js';

/** The policy action of `GET /v1/events`, checked per cluster: a key sees the clusters it may read. */
export const LIST_EVENTS_ACTION = 'berth:ListEvents';

const MAX_PAGE = 100;
/** Rows a follower reads per query while it catches up. */
const FOLLOW_BATCH = 500;
/** A comment line this often keeps proxies and clients from timing out an idle stream. */
const HEARTBEAT_MS = 15_000;

export interface EventsQuery {
  cluster?: string;
  follow?: string;
  after?: string;
  maxResults?: string;
}

/** Where a follower writes: `write` resolves once the chunk is taken (backpressure). */
export interface EventSink {
  write(chunk: string): Promise<void>;
  readonly closed: boolean;
}

/** One SSE message: the position is the id a client resumes from (Last-Event-ID). */
export const sseFrame = (event: EcsEvent) => `id: ${event.id}\ndata: ${JSON.stringify(event)}\n\n`;

@Injectable()
export class EventsService {
  constructor(
    private readonly events: EventsRepository,
    @Inject(ARN_CONTEXT) private readonly ctx: ArnContext,
    @Inject(CONFIG) private readonly config: GatewayConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  isFollow(q: EventsQuery): boolean {
    if (q.follow === undefined || q.follow === 'false') return false;
    if (q.follow === 'true') return true;
    throw new InvalidParameterError('follow: must be true or false', 'follow');
  }

  /** A page of events as JSON: after `after`, or else the newest; `lastEventId` is where to go on from. */
  async list(principal: Principal, q: EventsQuery) {
    const limit = parseMaxResults(q.maxResults, MAX_PAGE);
    const clusterIds = await this.clusterScope(q);
    const after = q.after === undefined ? undefined : parseEventPosition(q.after, 'after');
    const rows = after
      ? await this.events.readAfter(after, clusterIds, limit)
      : await this.events.readRecent(clusterIds, limit);
    const visible = this.visibility(principal);
    const last =
      rows.at(-1)?.position ??
      (after ? formatEventPosition(after) : formatEventPosition(await this.events.latest()));
    return {
      events: rows.map((r) => this.toEcs(r, visible)).filter((e): e is EcsEvent => e !== null),
      lastEventId: last,
    };
  }

  /**
   * Checks a follow request and finds where it starts (Last-Event-ID, else `after`, else now);
   * throws before anything is streamed. The returned function streams until the client goes or
   * the gateway stops.
   */
  async openFollow(principal: Principal, q: EventsQuery, lastEventId: string | undefined) {
    const clusterIds = await this.clusterScope(q);
    let at: EventPosition =
      lastEventId !== undefined
        ? parseEventPosition(lastEventId, 'Last-Event-ID')
        : q.after !== undefined
          ? parseEventPosition(q.after, 'after')
          : await this.events.latest();
    const visible = this.visibility(principal);
    return async (sink: EventSink): Promise<void> => {
      let lastWrite = Date.now();
      const write = async (chunk: string) => {
        await sink.write(chunk);
        lastWrite = Date.now();
      };
      try {
        await write('retry: 1000\n\n');
        while (!sink.closed && !this.events.isStopping) {
          const rows = await this.events.readAfter(at, clusterIds, FOLLOW_BATCH);
          for (const row of rows) {
            const event = this.toEcs(row, visible);
            if (event) await write(sseFrame(event));
            at = parseEventPosition(row.position, 'position');
          }
          if (rows.length === FOLLOW_BATCH) continue;
          if (Date.now() - lastWrite >= HEARTBEAT_MS) await write(': keep-alive\n\n');
          await this.events.waitForEvents(this.config.BERTH_EVENTS_POLL_MS);
        }
      } catch (err) {
        // The stream just ends: the client reconnects with its Last-Event-ID and loses nothing.
        this.logger.warn({ err }, 'events: a follower stream failed');
      }
    };
  }

  /** `?cluster=` (a name or an ARN) narrows the events to one cluster; without it, all of them. */
  private async clusterScope(q: EventsQuery): Promise<string[] | undefined> {
    if (q.cluster === undefined) return undefined;
    return [await this.events.clusterId(idFromArnOrId(q.cluster))];
  }

  /** Whether the key may see events of a cluster, by name: evaluated once per cluster per request. */
  private visibility(principal: Principal): (cluster: string) => boolean {
    const seen = new Map<string, boolean>();
    return (cluster) => {
      let allowed = seen.get(cluster);
      if (allowed === undefined) {
        const clusterArn = arns.cluster(this.ctx, cluster);
        allowed = evaluatePolicies(principal.policies, {
          action: LIST_EVENTS_ACTION,
          resource: clusterArn,
          clusterArn,
        }).allowed;
        seen.set(cluster, allowed);
      }
      return allowed;
    };
  }

  private toEcs(row: OutboxEvent, visible: (cluster: string) => boolean): EcsEvent | null {
    try {
      if (!visible(eventClusterName(row.payload))) return null;
      return ecsEvent(this.ctx, row);
    } catch (err) {
      // One unreadable row must not stop every stream at it.
      this.logger.error({ err, position: row.position }, 'events: skipped an event that does not read');
      return null;
    }
  }
}
