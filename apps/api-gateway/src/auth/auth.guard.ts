import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AccessDeniedError, accessDeniedMessage, evaluatePolicies, type ArnContext } from '@berth/domain';
import { ARN_CONTEXT } from '../http/arn-context.js';
import { toErrorResponse } from '../http/errors.filter.js';
import { AuditLog } from '../audit/audit-log.js';
import { ACTION, type ActionMetadata } from './action.decorator.js';
import { Authenticator } from './authenticator.js';
import { requestTarget } from './request-target.js';
import type { BerthRequest } from './request-context.js';

/**
 * The one place that decides whether a request may go on: its key must be valid (401
 * UnrecognizedClientException) and its policies must allow the route's action on the resource
 * (403 AccessDeniedException). Every refusal is written to the audit log before the answer.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly authenticator: Authenticator,
    private readonly audit: AuditLog,
    @Inject(ARN_CONTEXT) private readonly ctx: ArnContext,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const meta = this.reflector.get<ActionMetadata | undefined>(ACTION, context.getHandler());
    const req = context.switchToHttp().getRequest<BerthRequest>();
    // A route that forgot its action is refused rather than left open.
    if (!meta) throw new Error(`route ${req.method} ${req.route?.path as string} has no @Action`);
    if (meta.public) return true;
    const target = requestTarget(this.ctx, req.params as Record<string, string | undefined>);
    Object.assign(req.berth, { action: meta.action, resource: target.resource, redact: meta.redact });
    try {
      const principal = await this.authenticator.authenticate(req.headers.authorization);
      req.berth.principal = principal;
      const request = { action: meta.action, ...target };
      const decision = evaluatePolicies(principal.policies, request);
      if (!decision.allowed)
        throw new AccessDeniedError(accessDeniedMessage(principal.accessKeyId, request, decision));
      return true;
    } catch (error) {
      const [statusCode, body] = toErrorResponse(error);
      await this.audit.recordRequest(req, 'Denied', statusCode, body.error as string);
      throw error;
    }
  }
}
