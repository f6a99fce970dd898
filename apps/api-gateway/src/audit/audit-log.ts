import { Inject, Injectable } from '@nestjs/common';
import { ALWAYS_REDACTED, redactParameters } from '@berth/domain';
import { LOGGER, type Logger } from '../infra/providers.js';
import { sourceAddress, type BerthRequest } from '../auth/request-context.js';
import { AuditRepository, type AuditOutcome } from './audit.repository.js';
import type { PendingAudit } from './audited-prisma.js';

/** Writes a request's audit event: who, what, on what, from where, how it ended, secrets removed. */
@Injectable()
export class AuditLog {
  constructor(
    private readonly audit: AuditRepository,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** The request's event, before its outcome is known. */
  eventOf(req: BerthRequest): PendingAudit['event'] {
    return {
      accessKeyId: req.berth.principal?.accessKeyId,
      action: req.berth.action!,
      resource: req.berth.resource!,
      sourceAddress: sourceAddress(req),
      requestId: req.berth.requestId,
      parameters: redactParameters({ path: req.params, query: req.query, body: req.body as unknown }, [
        ...ALWAYS_REDACTED,
        ...(req.berth.redact ?? []),
      ]),
    };
  }

  /** An event on its own, for calls that changed nothing: refused, failed, or a no-op. */
  async recordRequest(req: BerthRequest, outcome: AuditOutcome, statusCode: number, errorCode?: string) {
    await this.audit
      .record({ ...this.eventOf(req), outcome, statusCode, errorCode })
      .catch((err: unknown) =>
        this.logger.error(
          { err, requestId: req.berth.requestId, action: req.berth.action, outcome },
          'could not write an audit event',
        ),
      );
  }
}
