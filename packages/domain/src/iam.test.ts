import fc from 'fast-check';
import {
  accessDeniedMessage,
  effectivePolicies,
  evaluatePolicies,
  MANAGED_POLICIES,
  validateAccessKeyId,
  validateCreateAccessKey,
  wildcardMatch,
  type AuthorizationRequest,
  type PolicyDocument,
} from './iam.js';
import { parseOrThrow } from './validation.js';
import { policyDocumentSchema } from './iam.js';

const ARN = 'arn:berth:ecs:local:000000000000';
const prod = `${ARN}:cluster/prod`;
const dev = `${ARN}:cluster/dev`;
const doc = (...Statement: PolicyDocument['Statement']): PolicyDocument => ({
  Version: '2012-10-17',
  Statement,
});
const req = (action: string, resource: string, clusterArn?: string): AuthorizationRequest => ({
  action,
  resource,
  clusterArn,
});

describe('wildcardMatch', () => {
  it.each([
    ['*', '', true],
    ['*', 'anything', true],
    ['ecs:Describe*', 'ecs:DescribeServices', true],
    ['ecs:Describe*', 'ecs:ListServices', false],
    ['ecs:?unTask', 'ecs:RunTask', true],
    ['ecs:?unTask', 'ecs:unTask', false],
    ['a*b*c', 'axxbyyc', true],
    ['a*b*c', 'axxbyy', false],
    ['*:cluster/prod', `${ARN}:cluster/prod`, true],
    ['*:cluster/prod', `${ARN}:cluster/prod2`, false],
    ['*:cluster/prod*', `${ARN}:cluster/prod2`, true],
  ])('%s against %s is %s', (pattern, value, expected) => {
    expect(wildcardMatch(pattern, value)).toBe(expected);
  });

  it('matches action names without regard to case', () => {
    expect(wildcardMatch('ECS:runtask', 'ecs:RunTask', true)).toBe(true);
    expect(wildcardMatch('ECS:runtask', 'ecs:RunTask')).toBe(false);
  });

  it('agrees with an anchored regular expression on random patterns', () => {
    const alphabet = fc.constantFrom('a', 'b', '*', '?');
    fc.assert(
      fc.property(
        fc.string({ unit: alphabet, maxLength: 8 }),
        fc.string({ unit: fc.constantFrom('a', 'b'), maxLength: 10 }),
        (p, v) => {
          const re = new RegExp(`^${p.replaceAll('*', '.*').replaceAll('?', '.')}$`);
          expect(wildcardMatch(p, v)).toBe(re.test(v));
        },
      ),
    );
  });

  it('stays fast on patterns that make backtracking regex engines explode', () => {
    const pattern = `${'*a'.repeat(500)}b`;
    const value = 'a'.repeat(2000);
    expect(wildcardMatch(pattern, value)).toBe(false);
  });
});

describe('evaluatePolicies', () => {
  const readOnly = [MANAGED_POLICIES.BerthReadOnlyAccess];
  const deployer = [MANAGED_POLICIES.BerthDeployer];
  const admin = [MANAGED_POLICIES.BerthAdministratorAccess];
  const prodOnly = [doc({ Effect: 'Allow', Action: ['ecs:*'], Resource: [prod] })];

  it.each<[string, PolicyDocument[], AuthorizationRequest, boolean]>([
    ['nothing is allowed without a policy', [], req('ecs:ListClusters', '*'), false],
    ['the administrator may do anything', admin, req('berth:CreateAccessKey', '*'), true],
    ['read-only may describe', readOnly, req('ecs:DescribeServices', `${ARN}:service/prod/web`, prod), true],
    ['read-only may list', readOnly, req('ecs:ListTasks', prod, prod), true],
    ['read-only may read task protection', readOnly, req('ecs:GetTaskProtection', prod, prod), true],
    [
      'read-only may describe target health',
      readOnly,
      req(
        'elasticloadbalancing:DescribeTargetHealth',
        'arn:berth:elasticloadbalancing:local:0:targetgroup/web',
      ),
      true,
    ],
    [
      'read-only may not register targets',
      readOnly,
      req('elasticloadbalancing:RegisterTargets', 'arn:berth:elasticloadbalancing:local:0:targetgroup/web'),
      false,
    ],
    ['read-only may not protect a task', readOnly, req('ecs:UpdateTaskProtection', prod, prod), false],
    ['read-only may not run a task', readOnly, req('ecs:RunTask', prod, prod), false],
    ['read-only may not create a key', readOnly, req('berth:CreateAccessKey', '*'), false],
    ['the deployer may register a revision', deployer, req('ecs:RegisterTaskDefinition', '*'), true],
    [
      'the deployer may update a service',
      deployer,
      req('ecs:UpdateService', `${ARN}:service/prod/web`, prod),
      true,
    ],
    ['the deployer may not create keys', deployer, req('berth:CreateAccessKey', '*'), false],
    [
      'the deployer may not change a cluster policy',
      deployer,
      req('berth:UpdateClusterPolicy', prod, prod),
      false,
    ],
    ['the deployer may not delete a cluster', deployer, req('ecs:DeleteCluster', prod, prod), false],
    [
      'a grant on a cluster covers its tasks',
      prodOnly,
      req('ecs:StopTask', `${ARN}:task/prod/abc`, prod),
      true,
    ],
    ['a grant on a cluster covers the cluster', prodOnly, req('ecs:RunTask', prod, prod), true],
    ['a grant on one cluster does not cover another', prodOnly, req('ecs:RunTask', dev, dev), false],
    [
      'a grant on a cluster does not cover actions on no resource',
      prodOnly,
      req('ecs:ListClusters', '*'),
      false,
    ],
    [
      'an explicit deny wins over an allow',
      [...admin, doc({ Effect: 'Deny', Action: ['ecs:DeleteCluster'], Resource: [prod] })],
      req('ecs:DeleteCluster', prod, prod),
      false,
    ],
    [
      'a deny elsewhere leaves the allow alone',
      [...admin, doc({ Effect: 'Deny', Action: ['ecs:DeleteCluster'], Resource: [prod] })],
      req('ecs:DeleteCluster', dev, dev),
      true,
    ],
    [
      'a deny on one service does not deny the cluster',
      [...admin, doc({ Effect: 'Deny', Action: ['ecs:*'], Resource: [`${ARN}:service/prod/db`] })],
      req('ecs:UpdateService', `${ARN}:service/prod/web`, prod),
      true,
    ],
    [
      'a service grant does not cover a sibling',
      [doc({ Effect: 'Allow', Action: ['ecs:UpdateService'], Resource: [`${ARN}:service/prod/web`] })],
      req('ecs:UpdateService', `${ARN}:service/prod/db`, prod),
      false,
    ],
    [
      'wildcards in resources',
      [doc({ Effect: 'Allow', Action: ['ecs:RunTask'], Resource: [`${ARN}:cluster/team-a-*`] })],
      req('ecs:RunTask', `${ARN}:cluster/team-a-prod`, `${ARN}:cluster/team-a-prod`),
      true,
    ],
  ])('%s', (_what, policies, request, allowed) => {
    expect(evaluatePolicies(policies, request).allowed).toBe(allowed);
  });

  it('says which statement denied, in the message that names action and resource', () => {
    const policies = [
      ...admin,
      doc({ Sid: 'NoDelete', Effect: 'Deny', Action: ['ecs:DeleteCluster'], Resource: ['*'] }),
    ];
    const request = req('ecs:DeleteCluster', prod, prod);
    const decision = evaluatePolicies(policies, request);
    expect(accessDeniedMessage('BKIAAAAAAAAAAAAAAAAA', request, decision)).toBe(
      `User: BKIAAAAAAAAAAAAAAAAA is not authorized to perform: ecs:DeleteCluster on resource: ${prod} with an explicit deny in an identity-based policy (statement NoDelete)`,
    );
    const implicit = req('ecs:RunTask', prod, prod);
    expect(
      accessDeniedMessage('BKIAAAAAAAAAAAAAAAAA', implicit, evaluatePolicies(readOnly, implicit)),
    ).toContain('because no identity-based policy allows the ecs:RunTask action');
  });

  it('joins managed and inline policies', () => {
    const policies = effectivePolicies(
      [doc({ Effect: 'Allow', Action: ['ecs:RunTask'], Resource: [prod] })],
      ['BerthReadOnlyAccess'],
    );
    expect(evaluatePolicies(policies, req('ecs:RunTask', prod, prod)).allowed).toBe(true);
    expect(evaluatePolicies(policies, req('ecs:ListClusters', '*')).allowed).toBe(true);
    expect(evaluatePolicies(policies, req('ecs:RunTask', dev, dev)).allowed).toBe(false);
  });
});

describe('policy documents and keys', () => {
  it('accepts IAM shorthand: one statement, one action, one resource', () => {
    const parsed = parseOrThrow(policyDocumentSchema, {
      Version: '2012-10-17',
      Statement: { Effect: 'Allow', Action: 'ecs:RunTask', Resource: prod },
    });
    expect(parsed.Statement).toEqual([{ Effect: 'Allow', Action: ['ecs:RunTask'], Resource: [prod] }]);
  });

  it.each([
    [{ Version: '2008-10-17', Statement: [] }, 'Version: must be "2012-10-17"'],
    [
      { Version: '2012-10-17', Statement: [{ Effect: 'Maybe', Action: '*', Resource: '*' }] },
      'Statement[0].Effect: must be Allow or Deny',
    ],
    [
      { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'RunTask', Resource: '*' }] },
      'Statement[0].Action[0]: must be * or service:Action',
    ],
    [
      { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: 'prod' }] },
      'Statement[0].Resource[0]: must be * or an ARN',
    ],
    [
      { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*', Condition: {} }] },
      'Condition: not supported',
    ],
  ])('refuses %j naming the field', (input, message) => {
    expect(() => parseOrThrow(policyDocumentSchema, input)).toThrow(message);
  });

  it('refuses a key that would allow nothing, and unknown managed policies', () => {
    expect(() => validateCreateAccessKey({ name: 'ci' })).toThrow(/policies: a key needs at least one/);
    expect(() => validateCreateAccessKey({ name: 'ci', managedPolicies: ['PowerUser'] })).toThrow(
      /managedPolicies\[0\]: must be one of BerthAdministratorAccess/,
    );
    expect(
      validateCreateAccessKey({ name: 'ci', managedPolicies: ['BerthDeployer'] }).managedPolicies,
    ).toEqual(['BerthDeployer']);
  });

  it('checks the shape of key ids', () => {
    expect(validateAccessKeyId('BKIA0123456789ABCDEF')).toBe('BKIA0123456789ABCDEF');
    expect(() => validateAccessKeyId('AKIA0123456789ABCDEF')).toThrow(/accessKeyId: must be BKIA/);
    expect(() => validateAccessKeyId("BKIA' OR 1=1")).toThrow(/accessKeyId/);
  });
});
