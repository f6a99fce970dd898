import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import {
  arns,
  checkExecAllowed,
  ServiceUnavailableError,
  validateExecuteCommand,
  type ArnContext,
} from '@berth/domain';
import { CONFIG, type GatewayConfig } from '../config.js';
import { ARN_CONTEXT } from '../http/arn-context.js';
import { LOGGER, REDIS, type Logger, type Redis } from '../infra/providers.js';
import { ContainerSessionsService } from './container-sessions.service.js';

/** How long the token of an ExecuteCommand answer opens its WebSocket; it opens it once. */
export const EXEC_TOKEN_TTL_SECONDS = 60;

/** What ExecuteCommand decided, kept in Redis until the client's WebSocket takes it. */
export interface PendingExec {
  tokenSha256: string;
  cluster: string;
  taskId: string;
  containerName: string;
  command: string[];
  interactive: boolean;
  tty: boolean;
  accessKeyId?: string;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * ExecuteCommand, as ECS has it: the call checks everything (the key's ecs:ExecuteCommand, the
 * task's or its service's enableExecuteCommand, a RUNNING task whose agent is here) and answers a
 * session whose `streamUrl` the client opens as a WebSocket with the session's one-time
 * `tokenValue` (exec.socket.ts). The pending session lives in Redis, so any gateway replica can
 * take the WebSocket; only a hash of the token is kept.
 */
@Injectable()
export class ExecService {
  constructor(
    private readonly sessions: ContainerSessionsService,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(CONFIG) private readonly config: GatewayConfig,
    @Inject(ARN_CONTEXT) private readonly ctx: ArnContext,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  private key(sessionId: string): string {
    return `${this.config.BERTH_REDIS_PREFIX}:exec-session:${sessionId}`;
  }

  async executeCommand(
    cluster: string,
    taskRef: string,
    body: unknown,
    streamBase: string,
    accessKeyId: string | undefined,
  ) {
    const request = validateExecuteCommand(body);
    const { task, containerName } = await this.sessions.target(cluster, taskRef, request.container);
    checkExecAllowed(task);
    this.sessions.checkReachable(task);
    const sessionId = randomUUID();
    const tokenValue = randomBytes(32).toString('base64url');
    const pending: PendingExec = {
      tokenSha256: sha256(tokenValue),
      cluster: task.clusterName,
      taskId: task.id,
      containerName,
      command: request.command,
      interactive: request.interactive,
      tty: request.tty,
      accessKeyId,
    };
    try {
      await this.redis.set(this.key(sessionId), JSON.stringify(pending), 'EX', EXEC_TOKEN_TTL_SECONDS);
    } catch (err) {
      this.logger.warn({ err }, 'could not keep an exec session');
      throw new ServiceUnavailableError('Redis cannot be reached: exec sessions need it; retry');
    }
    return {
      clusterArn: arns.cluster(this.ctx, task.clusterName),
      taskArn: arns.task(this.ctx, task.clusterName, task.id),
      containerName,
      interactive: request.interactive,
      session: {
        sessionId,
        streamUrl: `${streamBase}/v1/exec-sessions/${sessionId}`,
        tokenValue,
      },
    };
  }

  /** The pending session, once: a token opens one WebSocket, within its minute. */
  async take(sessionId: string, token: string): Promise<PendingExec | undefined> {
    const stored = await this.redis.getdel(this.key(sessionId));
    if (!stored) return undefined;
    const pending = JSON.parse(stored) as PendingExec;
    const given = Buffer.from(sha256(token));
    const expected = Buffer.from(pending.tokenSha256);
    return given.length === expected.length && timingSafeEqual(given, expected) ? pending : undefined;
  }
}
