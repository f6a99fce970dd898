import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import {
  latestEventPosition,
  listenForEvents,
  pruneEvents,
  readEventsAfter,
  readRecentEvents,
} from '@berth/db';
import { NotFoundError, type EventPosition, type OutboxEvent } from '@berth/domain';
import { CONFIG, type GatewayConfig } from '../config.js';
import { LOGGER, PRISMA, type Logger, type PrismaClient } from '../infra/providers.js';

/** How often each gateway removes events older than the retention (any replica may: it is idempotent). */
const PRUNE_INTERVAL_MS = 5 * 60_000;

/**
 * The event outbox as the gateway reads it (packages/db/src/events.ts), the wake-up its followers
 * wait on (LISTEN on the triggers' NOTIFY, plus a poll), and the retention sweep.
 */
@Injectable()
export class EventsRepository implements OnModuleInit, OnModuleDestroy {
  private readonly waiters = new Set<() => void>();
  private listener?: { close(): Promise<void> };
  private pruneTimer?: NodeJS.Timeout;
  private stopping = false;

  constructor(
    @Inject(PRISMA) private readonly db: PrismaClient,
    @Inject(CONFIG) private readonly config: GatewayConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    this.listener = listenForEvents(
      this.config.DATABASE_URL,
      () => this.wakeAll(),
      (err) => this.logger.warn({ err }, 'events: LISTEN connection lost, polling until it is back'),
    );
    const prune = () => void this.prune();
    prune();
    this.pruneTimer = setInterval(prune, PRUNE_INTERVAL_MS);
    this.pruneTimer.unref();
  }

  /** Ends every follower's wait first, so that open streams close and the server can stop. */
  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    clearInterval(this.pruneTimer);
    this.wakeAll();
    await this.listener?.close();
  }

  get isStopping(): boolean {
    return this.stopping;
  }

  /** Resolves at the next commit that wrote events, after `ms` at the latest, or when the gateway stops. */
  waitForEvents(ms: number): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
    });
  }

  private wakeAll(): void {
    for (const wake of [...this.waiters]) wake();
  }

  async clusterId(nameOrArn: string): Promise<string> {
    const cluster = await this.db.cluster.findUnique({ where: { name: nameOrArn } });
    if (!cluster || cluster.status !== 'ACTIVE')
      throw new NotFoundError('ClusterNotFoundException', `cluster ${nameOrArn} does not exist`, 'cluster');
    return cluster.id;
  }

  readAfter(after: EventPosition, clusterIds: string[] | undefined, limit: number): Promise<OutboxEvent[]> {
    return readEventsAfter(this.db, { after, clusterIds, limit });
  }

  readRecent(clusterIds: string[] | undefined, limit: number): Promise<OutboxEvent[]> {
    return readRecentEvents(this.db, { clusterIds, limit });
  }

  latest(): Promise<EventPosition> {
    return latestEventPosition(this.db);
  }

  private async prune(): Promise<void> {
    const before = new Date(Date.now() - this.config.BERTH_EVENTS_RETENTION_HOURS * 3600_000);
    try {
      const removed = await pruneEvents(this.db, before);
      if (removed > 0) this.logger.debug({ removed }, 'events: pruned');
    } catch (err) {
      this.logger.warn({ err }, 'events: prune failed, the next sweep tries again');
    }
  }
}
