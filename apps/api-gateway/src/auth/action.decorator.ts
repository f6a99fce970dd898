import { SetMetadata } from '@nestjs/common';

export const ACTION = Symbol('berth:action');

export interface ActionOptions {
  /** Body fields whose values the audit log must never hold (passwords, secret values...). */
  redact?: string[];
  /** A read-only route that needs no key (only `GET /healthz`). */
  public?: boolean;
  /**
   * A read-only route that any valid key may call whatever its policies (only `GET /v1/whoami`:
   * a key's own identity, which AWS's sts:GetCallerIdentity also answers without a permission).
   */
  anyKey?: boolean;
  /**
   * The ECS protocol's one route: the action is `ecs:` + the X-Amz-Target's action and the
   * resources come from the body (ecs/ecs-input.ts), instead of from the route.
   */
  ecsProtocol?: boolean;
  /** The resource is the cluster named by the `?cluster=` query parameter (`*` without it). */
  clusterFromQuery?: boolean;
  /**
   * Actions the caller must also be allowed, on the cluster the route names: a route that makes
   * Berth act later on the caller's behalf (a schedule's RunTasks) needs what that act needs, as
   * EventBridge needs iam:PassRole of a role that may RunTask.
   */
  alsoRequires?: string[];
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

/** The ECS protocol route's stand-in for @Action: the guard reads the action from each request. */
export const EcsProtocol = () =>
  SetMetadata(ACTION, { action: 'ecs:*', ecsProtocol: true } satisfies ActionMetadata);
