import { ArgumentsHost, Catch, HttpException, type ExceptionFilter, Inject } from '@nestjs/common';
import {
  AccessDeniedError,
  ClientError,
  ConflictError,
  InvalidParameterError,
  NotFoundError,
  ServiceUnavailableError,
  UnauthenticatedError,
  isBerthError,
} from '@berth/domain';
import { isRetriableDbError, isTransactionTimeout } from '@berth/db';
import type { Response } from 'express';
import { LOGGER, type Logger } from '../infra/providers.js';
import type { BerthRequest, Protocol } from '../auth/request-context.js';
import { ECS_CONTENT_TYPE } from '../ecs/ecs-protocol.js';

/**
 * Maps every error to the API's one error shape, `{error, message, field?}`, in one place:
 * 400 for bad input, 404 for a missing resource, 409 for a conflict with the current state, 503
 * when something the request needs cannot be reached, and
 * 500 (logged with context, details withheld) for anything unexpected.
 */
@Catch()
export class ErrorsFilter implements ExceptionFilter {
  constructor(@Inject(LOGGER) private readonly logger: Logger) {}

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const res = http.getResponse<Response>();
    const req = http.getRequest<{ method: string; url: string }>();
    const protocol = (req as Partial<BerthRequest>).berth?.protocol;
    const [status, body] = toErrorResponse(error, protocol);
    if (status >= 500) this.logger.error({ err: error, method: req.method, url: req.url }, 'request failed');
    if (protocol === 'ecs') res.type(ECS_CONTENT_TYPE);
    if (status === 503) res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
    res.status(status).json(body);
  }
}

/** What a 503 tells the client to wait: the database's queue drains in about that. */
const RETRY_AFTER_SECONDS = 1;

/**
 * Overload, not a defect: every database connection busy (a transaction could not start in time,
 * P2028, or one that did not finish in time), or the database briefly out of reach
 * (isRetriableDbError). The client is told to retry (503 with Retry-After, which the AWS SDKs and
 * the AWS CLI retry on their own); nothing was written.
 */
function isOverload(error: unknown): boolean {
  return isTransactionTimeout(error) || isRetriableDbError(error);
}

/**
 * The status and body the API answers an error with; the audit log records the same. The ECS
 * protocol (awsJson1_1) answers `{__type, message}`, 400 for every client error (403 for a request
 * with no credentials at all, as AWS does) and 5xx for the server's own.
 */
export function toErrorResponse(error: unknown, protocol?: Protocol): [number, Record<string, unknown>] {
  const [status, body] = restErrorResponse(error);
  if (protocol !== 'ecs') return [status, body];
  const exception = body.error as string;
  const ecsStatus = status >= 500 ? status : exception === 'MissingAuthenticationTokenException' ? 403 : 400;
  return [ecsStatus, { __type: exception, message: body.message }];
}

/** The ECS exception (or REST error) name in an error body. */
export const exceptionOf = (body: Record<string, unknown>) => (body.error ?? body.__type) as string;

function restErrorResponse(error: unknown): [number, Record<string, unknown>] {
  if (isBerthError(error)) {
    const field = (error as { field?: string }).field;
    const body = { error: error.exception, message: error.message, ...(field ? { field } : {}) };
    if (error instanceof InvalidParameterError) return [400, body];
    if (error instanceof NotFoundError) return [404, body];
    if (error instanceof ConflictError) return [409, body];
    if (error instanceof UnauthenticatedError) return [401, body];
    if (error instanceof AccessDeniedError) return [403, body];
    if (error instanceof ServiceUnavailableError) return [503, body];
    if (error instanceof ClientError) return [400, body];
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const cause = error.cause as { type?: string } | undefined;
    // body-parser's errors arrive as HttpExceptions: malformed JSON, too large, wrong type.
    if (status === 400 && (cause?.type === 'entity.parse.failed' || /JSON/.test(error.message))) {
      return [
        400,
        {
          error: 'SerializationException',
          message: `the request body is not valid JSON: ${error.message}`,
        },
      ];
    }
    if (status === 404) return [404, { error: 'NotFoundException', message: error.message }];
    return [status, { error: status < 500 ? 'ClientException' : 'ServerException', message: error.message }];
  }
  if (isOverload(error)) {
    return [
      503,
      {
        error: 'ServiceUnavailableException',
        message: `the control plane is busy or its database is out of reach; retry after ${RETRY_AFTER_SECONDS} s`,
      },
    ];
  }
  return [500, { error: 'ServerException', message: 'internal error; see the api-gateway log' }];
}
