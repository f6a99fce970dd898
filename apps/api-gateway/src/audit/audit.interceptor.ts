import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import type { Response } from 'express';
import { catchError, from, mergeMap, type Observable } from 'rxjs';
import { toErrorResponse } from '../http/errors.filter.js';
import type { BerthRequest } from '../auth/request-context.js';
import { AuditLog } from './audit-log.js';

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Writes one audit event for every mutating call that passed the guard, with its outcome, before
 * the answer leaves. (Denied calls are written by the guard.)
 */
@Injectable()
export class AuditInterceptor implements NestInterceptor {
  constructor(private readonly audit: AuditLog) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = context.switchToHttp().getRequest<BerthRequest>();
    if (READS.has(req.method) || !req.berth.action) return next.handle();
    const res = context.switchToHttp().getResponse<Response>();
    return next.handle().pipe(
      mergeMap((value: unknown) =>
        from(this.audit.recordRequest(req, 'Success', res.statusCode).then(() => value)),
      ),
      catchError((error: unknown) => {
        const [status, body] = toErrorResponse(error);
        return from(
          this.audit.recordRequest(req, 'Failed', status, body.error as string).then(() => {
            throw error;
          }),
        );
      }),
    );
  }
}
