import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import type { Response } from 'express';
import { catchError, from, mergeMap, Observable } from 'rxjs';
import { exceptionOf, toErrorResponse } from '../http/errors.filter.js';
import type { BerthRequest } from '../auth/request-context.js';
import { AuditLog } from './audit-log.js';
import { auditScope, type PendingAudit } from './audited-prisma.js';

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Audits every mutating call that passed the guard (denied calls are written by the guard). The
 * handler runs inside an audit scope, so the first transaction that changes something commits the
 * Success event with the change (see audited-prisma.ts). A call that changed nothing gets its
 * event here, after it ends: Failed with its status, or Success for a no-op.
 */
@Injectable()
export class AuditInterceptor implements NestInterceptor {
  constructor(private readonly audit: AuditLog) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = context.switchToHttp().getRequest<BerthRequest>();
    // Reads (GETs, and ECS Describe*/List* calls) are audited only when the guard refuses them.
    if (READS.has(req.method) || req.berth.readOnly || !req.berth.action) return next.handle();
    const res = context.switchToHttp().getResponse<Response>();
    const pending: PendingAudit = { event: this.audit.eventOf(req), written: false };
    const handled = new Observable<unknown>((subscriber) =>
      auditScope.run(pending, () => next.handle().subscribe(subscriber)),
    );
    return handled.pipe(
      mergeMap((value: unknown) =>
        from(
          (pending.written
            ? Promise.resolve()
            : this.audit.recordRequest(req, 'Success', res.statusCode)
          ).then(() => value),
        ),
      ),
      catchError((error: unknown) => {
        // A call that failed after its change committed gets a second event saying so.
        const [status, body] = toErrorResponse(error, req.berth.protocol);
        return from(
          this.audit.recordRequest(req, 'Failed', status, exceptionOf(body)).then(() => {
            throw error;
          }),
        );
      }),
    );
  }
}
