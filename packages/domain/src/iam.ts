import { z } from 'zod';
import { InvalidParameterError } from './errors.js';
import { parseOrThrow } from './validation.js';

/**
 * Access keys and IAM-style policies, as pure functions. A request is one action (`ecs:RunTask`)
 * on one resource (an ARN, or `*` for actions on no single resource); a statement's resources
 * also cover everything inside a cluster they name, so `cluster/prod` grants the services, tasks
 * and instances of prod. Evaluation follows IAM: an explicit Deny wins, then any Allow, else the
 * request is implicitly denied.
 */

export type Effect = 'Allow' | 'Deny';

export interface PolicyStatement {
  Sid?: string;
  Effect: Effect;
  Action: string[];
  Resource: string[];
}

export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: PolicyStatement[];
}

export interface AuthorizationRequest {
  action: string;
  /** The ARN the action is on, or `*`. */
  resource: string;
  /** The cluster the resource lives in, when it lives in one: grants on the cluster cover it. */
  clusterArn?: string;
}

export type Decision =
  | { allowed: true }
  | { allowed: false; reason: 'ExplicitDeny' | 'ImplicitDeny'; statement?: PolicyStatement };

export const ACCESS_KEY_ID = /^BKIA[A-Z0-9]{16}$/;
/** Lists of keys page by id. */
export const accessKeyIdCursor = z.string().regex(ACCESS_KEY_ID);
export const MANAGED_POLICY_NAMES = [
  'BerthAdministratorAccess',
  'BerthReadOnlyAccess',
  'BerthDeployer',
] as const;
export type ManagedPolicyName = (typeof MANAGED_POLICY_NAMES)[number];

const READ_ONLY: PolicyStatement = {
  Sid: 'ReadOnly',
  Effect: 'Allow',
  Action: [
    'ecs:Describe*',
    'ecs:List*',
    'ecs:Get*',
    'berth:Describe*',
    'berth:List*',
    'elasticloadbalancing:Describe*',
    'scheduler:Get*',
    'scheduler:List*',
    'application-autoscaling:Describe*',
  ],
  Resource: ['*'],
};

/** The policies Berth ships, as AWS ships managed policies. */
export const MANAGED_POLICIES: Record<ManagedPolicyName, PolicyDocument> = {
  BerthAdministratorAccess: {
    Version: '2012-10-17',
    Statement: [{ Sid: 'Everything', Effect: 'Allow', Action: ['*'], Resource: ['*'] }],
  },
  BerthReadOnlyAccess: { Version: '2012-10-17', Statement: [READ_ONLY] },
  /** What a CI deploy step needs: new revisions, tasks and service updates; no keys, no policies. */
  BerthDeployer: {
    Version: '2012-10-17',
    Statement: [
      READ_ONLY,
      {
        Sid: 'Deploy',
        Effect: 'Allow',
        Action: ['ecs:RegisterTaskDefinition', 'ecs:RunTask', 'ecs:StopTask', 'ecs:UpdateService'],
        Resource: ['*'],
      },
    ],
  },
};

const MAX_PATTERN = 2048;
/** IAM takes one value or a list wherever it takes a list. */
const listOf = <T extends z.ZodType>(item: T, what: string, max: number) =>
  z.preprocess(
    (v) => (typeof v === 'string' || (typeof v === 'object' && v !== null && !Array.isArray(v)) ? [v] : v),
    z
      .array(item)
      .min(1, { error: `must list at least one ${what}` })
      .max(max),
  );
const patterns = (what: string, rule: RegExp, ruleText: string) =>
  listOf(
    z
      .string({ error: ruleText })
      .max(MAX_PATTERN, { error: `must be at most ${MAX_PATTERN} characters` })
      .regex(rule, { error: ruleText }),
    what,
    100,
  );

const statementSchema = z.strictObject(
  {
    Sid: z
      .string()
      .regex(/^[A-Za-z0-9]{0,128}$/, { error: 'must be up to 128 letters and digits' })
      .optional(),
    Effect: z.enum(['Allow', 'Deny'], { error: 'must be Allow or Deny' }),
    Action: patterns(
      'action',
      /^(\*|[a-z0-9-]+:[A-Za-z0-9*?]+)$/,
      'must be * or service:Action with * and ? wildcards (ecs:RunTask, ecs:Describe*, berth:*)',
    ),
    Resource: patterns(
      'resource',
      /^(\*|arn:[^\s]+)$/,
      'must be * or an ARN with * and ? wildcards (arn:berth:ecs:local:000000000000:cluster/prod)',
    ),
  },
  {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? `${issue.keys.join(', ')}: not supported (a statement has Sid, Effect, Action and Resource)`
        : undefined,
  },
);

export const policyDocumentSchema = z.strictObject({
  Version: z.literal('2012-10-17', { error: 'must be "2012-10-17"' }),
  Statement: listOf(statementSchema, 'statement', 50),
});

export const policiesSchema = z.array(policyDocumentSchema).max(10, { error: 'at most 10 policy documents' });
export const managedPoliciesSchema = z
  .array(z.enum(MANAGED_POLICY_NAMES, { error: `must be one of ${MANAGED_POLICY_NAMES.join(', ')}` }))
  .max(MANAGED_POLICY_NAMES.length);

/**
 * `*` matches any run of characters and `?` any one, as in IAM; matching is iterative with one
 * backtrack point, so its cost is bounded by the lengths of pattern and value (no regex engine).
 */
export function wildcardMatch(pattern: string, value: string, ignoreCase = false): boolean {
  const p = ignoreCase ? pattern.toLowerCase() : pattern;
  const v = ignoreCase ? value.toLowerCase() : value;
  let pi = 0;
  let vi = 0;
  let star = -1;
  let mark = 0;
  while (vi < v.length) {
    if (pi < p.length && (p[pi] === '?' || p[pi] === v[vi])) {
      pi++;
      vi++;
    } else if (pi < p.length && p[pi] === '*') {
      star = pi++;
      mark = vi;
    } else if (star >= 0) {
      pi = star + 1;
      vi = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.length && p[pi] === '*') pi++;
  return pi === p.length;
}

function statementApplies(s: PolicyStatement, req: AuthorizationRequest): boolean {
  // Action names are case-insensitive in IAM; ARNs are not.
  if (!s.Action.some((a) => wildcardMatch(a, req.action, true))) return false;
  return s.Resource.some(
    (r) =>
      wildcardMatch(r, req.resource) || (req.clusterArn !== undefined && wildcardMatch(r, req.clusterArn)),
  );
}

/** IAM's evaluation: explicit Deny, then Allow, else implicit deny. */
export function evaluatePolicies(policies: readonly PolicyDocument[], req: AuthorizationRequest): Decision {
  let allowed = false;
  for (const policy of policies) {
    for (const s of policy.Statement) {
      if (!statementApplies(s, req)) continue;
      if (s.Effect === 'Deny') return { allowed: false, reason: 'ExplicitDeny', statement: s };
      allowed = true;
    }
  }
  return allowed ? { allowed: true } : { allowed: false, reason: 'ImplicitDeny' };
}

/** A key's inline policies and its managed ones, as one list to evaluate. */
export function effectivePolicies(
  inline: readonly PolicyDocument[],
  managed: readonly string[],
): PolicyDocument[] {
  return [...managed.map((name) => MANAGED_POLICIES[name as ManagedPolicyName]).filter(Boolean), ...inline];
}

/** The AccessDeniedException message, in AWS's words, naming the action and the resource. */
export function accessDeniedMessage(
  accessKeyId: string,
  req: AuthorizationRequest,
  decision: Decision,
): string {
  const why =
    !decision.allowed && decision.reason === 'ExplicitDeny'
      ? `with an explicit deny in an identity-based policy${decision.statement?.Sid ? ` (statement ${decision.statement.Sid})` : ''}`
      : `because no identity-based policy allows the ${req.action} action`;
  return `User: ${accessKeyId} is not authorized to perform: ${req.action} on resource: ${req.resource} ${why}`;
}

export const createAccessKeySchema = z.strictObject({
  name: z
    .string({ error: 'is required and must be a string' })
    .regex(/^[A-Za-z0-9+=,.@_-]{1,128}$/, { error: 'must be 1-128 of A-Z a-z 0-9 + = , . @ _ -' }),
  policies: policiesSchema.optional(),
  managedPolicies: managedPoliciesSchema.optional(),
});
export type CreateAccessKeyInput = z.output<typeof createAccessKeySchema>;

export const updateAccessKeySchema = z.strictObject({
  status: z.enum(['Active', 'Inactive'], { error: 'must be Active or Inactive' }).optional(),
  policies: policiesSchema.optional(),
  managedPolicies: managedPoliciesSchema.optional(),
});
export type UpdateAccessKeyInput = z.output<typeof updateAccessKeySchema>;

export function validateCreateAccessKey(input: unknown): CreateAccessKeyInput {
  const key = parseOrThrow(createAccessKeySchema, input);
  if (!key.policies?.length && !key.managedPolicies?.length)
    throw new InvalidParameterError(
      'policies: a key needs at least one policy document or managed policy (nothing is allowed otherwise)',
      'policies',
    );
  return key;
}

export const validateUpdateAccessKey = (input: unknown) => parseOrThrow(updateAccessKeySchema, input);

/** `accessKeyId` path parameters: the shape of a Berth key id, else a 400 naming the parameter. */
export function validateAccessKeyId(value: string): string {
  if (!ACCESS_KEY_ID.test(value))
    throw new InvalidParameterError('accessKeyId: must be BKIA followed by 16 of A-Z 0-9', 'accessKeyId');
  return value;
}
