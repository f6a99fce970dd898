import { createPrisma, type PrismaClient } from '@berth/db';
import { createRedis, Hints } from '@berth/queues';
import { createLogger, type Logger } from '@berth/config';
import type { Redis } from '@berth/queues';
import type { Provider } from '@nestjs/common';
import { CONFIG, type GatewayConfig } from '../config.js';
import { CREDENTIAL_CIPHER, CredentialCipher } from '../registry-credentials/credential-cipher.js';

export const PRISMA = Symbol('PrismaClient');
export const REDIS = Symbol('Redis');
export const REDIS_SUBSCRIBER = Symbol('RedisSubscriber');
export const HINTS = Symbol('Hints');
export const LOGGER = Symbol('Logger');

/** The gateway's connections to the outside, created once and closed on shutdown. */
export function infraProviders(config: GatewayConfig): Provider[] {
  return [
    { provide: CONFIG, useValue: config },
    {
      provide: CREDENTIAL_CIPHER,
      useValue: config.BERTH_CREDENTIALS_KEY
        ? CredentialCipher.fromBase64(config.BERTH_CREDENTIALS_KEY)
        : null,
    },
    { provide: LOGGER, useValue: createLogger('api-gateway', config.BERTH_LOG_LEVEL) },
    { provide: PRISMA, useFactory: () => createPrisma(config.DATABASE_URL) },
    { provide: REDIS, useFactory: () => createRedis(config.REDIS_URL) },
    { provide: REDIS_SUBSCRIBER, useFactory: () => createRedis(config.REDIS_URL) },
    {
      provide: HINTS,
      useFactory: (redis: Redis) => new Hints({ redis, prefix: config.BERTH_REDIS_PREFIX }),
      inject: [REDIS],
    },
  ];
}

export type { Logger, PrismaClient, Redis };
