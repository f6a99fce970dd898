import { Injectable, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import { checkBody, checkPathParameter, checkQuery, InvalidParameterError } from '@berth/domain';
import type { NextFunction, Request, Response } from 'express';
import { toErrorResponse } from './errors.filter.js';

/**
 * Refuses a malformed query (a repeated key, control characters, a bad maxResults...) or JSON
 * body (NUL characters, absurd nesting) before the guard, the audit log or a handler sees it.
 */
export function refuseMalformedInput(req: Request, res: Response, next: NextFunction): void {
  try {
    checkQuery(req.query as Record<string, unknown>);
    checkBody(req.body);
  } catch (error) {
    if (!(error instanceof InvalidParameterError)) return next(error);
    const [status, body] = toErrorResponse(error);
    res.status(status).json(body);
    return;
  }
  next();
}

/** Checks every path parameter by its name (`:task` is a task id or ARN, ...) before the handler runs. */
@Injectable()
export class PathParametersPipe implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type === 'param' && metadata.data && typeof value === 'string') {
      checkPathParameter(metadata.data, value);
    }
    return value;
  }
}
