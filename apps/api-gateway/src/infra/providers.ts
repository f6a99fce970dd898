import { createPrisma, type PrismaClient } from '@berth/db';
import { createRedis, createRequestRedis, Hints } from '@berth/queues';
import { createLogger, type Logger } from '@berth/config';
import type { Redis } from '@berth/queues';
import type { Provider } from '@nestjs/common';
import { CONFIG, type GatewayConfig } from '../config.js';
import { KEY_RING } from '../crypto/key-ring.js';
import { auditedPrisma } from '../audit/audited-prisma.js';

export const PRISMA = Symbol('PrismaClient');
export const REDIS = Symbol('Redis');
export const REDIS_SUBSCRIBER = Symbol('RedisSubscriber');
export const HINTS = Symbol('Hints');
export const LOGGER = Symbol('Logger');

/** The gateway's connections to the outside, created once and closed on shutdown. */
export function infraProviders(config: GatewayConfig): Provider[] {
  return [
    { provide: CONFIG, useValue: config },
    { provide: KEY_RING, useValue: config.BERTH_MASTER_KEYS },
    { provide: LOGGER, useValue: createLogger('api-gateway', config.BERTH_LOG_LEVEL) },
    // Every mutating request's audit event commits with its change (audit/audited-prisma.ts).
    { provide: PRISMA, useFactory: () => auditedPrisma(createPrisma(config.DATABASE_URL)) },
    // Requests never wait on Redis: hints and "tell agent X" are best effort (see createRequestRedis).
    {
      provide: REDIS,
      useFactory: () => createRequestRedis(config, config.BERTH_REDIS_COMMAND_TIMEOUT_MS),
    },
    { provide: REDIS_SUBSCRIBER, useFactory: () => createRedis(config) },
    {
      provide: HINTS,
      // While Redis is down every reconnect fails; /healthz and the failed hints already say so.
      useFactory: (redis: Redis, logger: Logger) =>
        new Hints({
          redis,
          prefix: config.BERTH_REDIS_PREFIX,
          onError: (err) => logger.debug({ err }, 'Redis connection error'),
        }),
      inject: [REDIS, LOGGER],
    },
  ];
}

export type { Logger, PrismaClient, Redis };
