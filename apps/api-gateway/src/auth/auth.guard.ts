import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  AccessDeniedError,
  accessDeniedMessage,
  evaluatePolicies,
  type ArnContext,
  type AuthorizationRequest,
} from '@berth/domain';
import { ARN_CONTEXT } from '../http/arn-context.js';
import { exceptionOf, toErrorResponse } from '../http/errors.filter.js';
import { AuditLog } from '../audit/audit-log.js';
import { ecsTargets, type EcsInput } from '../ecs/ecs-input.js';
import { ecsActionName, isReadOnlyAction } from '../ecs/ecs-protocol.js';
import { ACTION, type ActionMetadata } from './action.decorator.js';
import { Authenticator, type Principal } from './authenticator.js';
import { requestTarget } from './request-target.js';
import type { BerthRequest } from './request-context.js';

type Target = Pick<AuthorizationRequest, 'resource' | 'clusterArn'>;

/**
 * The one place that decides whether a request may go on, for both front doors: its key must be
 * valid (UnrecognizedClientException) and its policies must allow the action on every resource
 * it acts on (AccessDeniedException). On REST the action is the route's @Action and the resource
 * comes from the route's parameters; on the ECS protocol the action is `ecs:` + X-Amz-Target's
 * and the resources come from the body, as the same ARNs. Every refusal is written to the audit
 * log before the answer.
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
    let action = meta.action;
    let targets: () => Target[];
    if (meta.ecsProtocol) {
      const name = ecsActionName(req.headers['x-amz-target']) ?? 'UnknownOperation';
      const input = (req.body && typeof req.body === 'object' ? req.body : {}) as EcsInput;
      action = `ecs:${name}`;
      Object.assign(req.berth, { protocol: 'ecs', readOnly: isReadOnlyAction(name) });
      targets = () => ecsTargets(name, input).map((params) => requestTarget(this.ctx, params));
    } else if (meta.clusterFromQuery) {
      const cluster = req.query.cluster;
      targets = () => [
        requestTarget(this.ctx, { cluster: typeof cluster === 'string' ? cluster : undefined }),
      ];
    } else {
      targets = () => [requestTarget(this.ctx, req.params as Record<string, string | undefined>)];
    }
    Object.assign(req.berth, { action, resource: '*', redact: meta.redact });
    try {
      // Bad input in the body is answered after the key is checked: first who, then what.
      let found: Target[] | Error;
      try {
        found = targets();
        if (found.length === 0) found = [{ resource: '*' }];
        req.berth.resource = found[0]!.resource;
      } catch (error) {
        found = error as Error;
      }
      const principal = await this.authenticate(req, meta);
      req.berth.principal = principal;
      if (found instanceof Error) throw found;
      if (meta.anyKey) return true;
      for (const target of found) {
        const requests = [
          { action, ...target },
          ...(meta.alsoRequires ?? []).map((also) => ({
            action: also,
            resource: target.clusterArn ?? target.resource,
            clusterArn: target.clusterArn,
          })),
        ];
        for (const request of requests) {
          const decision = evaluatePolicies(principal.policies, request);
          if (!decision.allowed) {
            req.berth.resource = request.resource;
            throw new AccessDeniedError(accessDeniedMessage(principal.accessKeyId, request, decision));
          }
        }
      }
      return true;
    } catch (error) {
      const [statusCode, body] = toErrorResponse(error, req.berth.protocol);
      await this.audit.recordRequest(req, 'Denied', statusCode, exceptionOf(body));
      throw error;
    }
  }

  private authenticate(req: BerthRequest, meta: ActionMetadata): Promise<Principal> {
    if (!meta.ecsProtocol) return this.authenticator.authenticate(req.headers.authorization);
    return this.authenticator.authenticateEcs(
      {
        method: req.method,
        url: req.originalUrl,
        headers: req.headers,
        body: req.berth.rawBody ?? Buffer.alloc(0),
      },
      this.ctx.region,
    );
  }
}
