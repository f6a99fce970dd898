import { SetMetadata } from '@nestjs/common';

export const ACTION = Symbol('berth:action');

export interface ActionOptions {
  /** Body fields whose values the audit log must never hold (passwords, secret values...). */
  redact?: string[];
  /** A read-only route that needs no key (only `GET /healthz`). */
  public?: boolean;
}

export interface ActionMetadata extends ActionOptions {
  /** The IAM-style action name: `ecs:RunTask`, `berth:PutSecret`. */
  action: string;
}

/**
 * Names the policy action of a route. Every route has one: the guard refuses a route without it,
 * checks the caller's key against it once per request, and the audit log records it. The resource
 * is derived from the route's parameters (`:cluster`, `:service`, `:task`...), see auth.guard.ts.
 */
export const Action = (action: string, options: ActionOptions = {}) =>
  SetMetadata(ACTION, { action, ...options } satisfies ActionMetadata);
