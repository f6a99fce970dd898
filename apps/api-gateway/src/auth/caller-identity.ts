import { checkPathParameter, evaluatePolicies, InvalidParameterError, type ArnContext } from '@berth/domain';
import type { Principal } from './authenticator.js';
import { accessKeyArn, requestTarget } from './request-target.js';

const ACTION_NAME = /^[a-z][a-z0-9-]*:[A-Za-z]+$/;
const MAX_ACTIONS = 100;

export interface CallerIdentity {
  accessKeyId: string;
  arn: string;
  /** The resource the actions were evaluated on: the cluster's ARN, or `*` without `cluster`. */
  resource: string;
  /** Each asked action, and whether the key's policies allow it on `resource`. */
  allowed: Record<string, boolean>;
}

/**
 * Who the caller is and which of the listed actions its policies allow, on a cluster (as a grant
 * on a cluster covers what lives in it) or on `*`: what a client such as the console needs to show
 * only the buttons that would work. The API still checks every call; this only spares a 403.
 */
export function callerIdentity(
  ctx: ArnContext,
  principal: Principal,
  // Each query parameter arrived once, as text (refuseMalformedInput saw to that).
  query: { actions?: string; cluster?: string },
): CallerIdentity {
  const actions = (query.actions ?? '').split(',').filter(Boolean);
  if (actions.length > MAX_ACTIONS)
    throw new InvalidParameterError(`actions: at most ${MAX_ACTIONS} action names`, 'actions');
  for (const action of actions)
    if (!ACTION_NAME.test(action))
      throw new InvalidParameterError(
        `actions: ${JSON.stringify(action).slice(0, 80)} is not an action name such as ecs:RunTask`,
        'actions',
      );
  if (query.cluster !== undefined) checkPathParameter('cluster', query.cluster);
  const target = requestTarget(ctx, { cluster: query.cluster });
  return {
    accessKeyId: principal.accessKeyId,
    arn: accessKeyArn(ctx, principal.accessKeyId),
    resource: target.resource,
    allowed: Object.fromEntries(
      actions.map((action) => [action, evaluatePolicies(principal.policies, { action, ...target }).allowed]),
    ),
  };
}
