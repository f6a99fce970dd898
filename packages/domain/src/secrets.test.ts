import {
  parseSecretReference,
  resolveTaskSecrets,
  secretNamesOf,
  validatePutSecret,
  validateSecretName,
  type OpenedSecret,
} from './secrets.js';
import { validateTaskDefinition } from './task-definition.js';
import { invalidParameterOf } from './testing/errors.js';

describe('parseSecretReference', () => {
  it.each([
    ['db-password', { name: 'db-password' }],
    ['prod/db@main+1=x.y_z', { name: 'prod/db@main+1=x.y_z' }],
    [
      'arn:berth:ecs:local:000000000000:secret/default/db-password',
      { cluster: 'default', name: 'db-password' },
    ],
    ['arn:berth:ecs:local:000000000000:secret/default/prod/db', { cluster: 'default', name: 'prod/db' }],
    ['arn:aws:secretsmanager:eu-west-1:123456789012:secret:storefront/db', { name: 'storefront/db' }],
    [
      'arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-password-AbCdEf',
      { name: 'db-password', nameWithSuffix: 'db-password-AbCdEf' },
    ],
    [
      'arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf:password::',
      { name: 'db', nameWithSuffix: 'db-AbCdEf', jsonKey: 'password' },
    ],
    [
      'arn:aws:secretsmanager:eu-west-1:123456789012:secret:db:password:AWSCURRENT:',
      { name: 'db', jsonKey: 'password' },
    ],
    ['arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:db', { name: 'db' }],
    ['arn:aws:ssm:eu-west-1:123456789012:parameter/db-password', { name: 'db-password' }],
    ['arn:aws:ssm:eu-west-1:123456789012:parameter/prod/db/password', { name: 'prod/db/password' }],
  ])('reads %s', (valueFrom, expected) => {
    expect(parseSecretReference(valueFrom, 'valueFrom')).toEqual(expected);
  });

  it.each([
    ['a name with a space', 'db password', /not a secret name: must be 1-512 letters, digits or \/_\+=\.@!-/],
    ['a name too long', 'x'.repeat(513), /not a secret name/],
    [
      'a Berth ARN without a cluster',
      'arn:berth:ecs:local:000000000000:secret/db',
      /secret\/<cluster>\/<name>/,
    ],
    ['an S3 ARN', 'arn:aws:s3:::bucket/key', /must be a secret name, a Berth secret ARN/],
    [
      'a version stage',
      'arn:aws:secretsmanager:r:1:secret:db:key:AWSPREVIOUS:',
      /one version of each secret/,
    ],
    ['a version id', 'arn:aws:secretsmanager:r:1:secret:db:::EXAMPLE1-90ab', /one version/],
    ['too many parts', 'arn:aws:secretsmanager:r:1:secret:db:k:::x', /json-key:version-stage:version-id/],
  ])('refuses %s, naming the field', (_, valueFrom, message) => {
    const error = invalidParameterOf(() =>
      parseSecretReference(valueFrom, 'containerDefinitions[0].secrets[0].valueFrom'),
    );
    expect(error.field).toBe('containerDefinitions[0].secrets[0].valueFrom');
    expect(error.message).toMatch(message);
  });
});

describe('secret requests', () => {
  it('takes names as Secrets Manager does', () => {
    expect(validateSecretName('prod/db-password')).toBe('prod/db-password');
    expect(invalidParameterOf(() => validateSecretName('db password')).field).toBe('name');
  });

  it('takes values up to 64 KiB in UTF-8, and names the field and the rule otherwise', () => {
    expect(validatePutSecret({ value: 'x'.repeat(65536), description: 'd' }).value).toHaveLength(65536);
    // 2 bytes each in UTF-8: 32769 of them are 65538 bytes.
    const tooBig = invalidParameterOf(() => validatePutSecret({ value: 'é'.repeat(32769) }));
    expect(tooBig).toMatchObject({ field: 'value', message: expect.stringMatching(/at most 65536 bytes/) });
    expect(invalidParameterOf(() => validatePutSecret({ value: 's3cr3t', Value: 'typo' })).message).toMatch(
      /Value/,
    );
    expect(invalidParameterOf(() => validatePutSecret({})).field).toBe('value');
  });
});

describe('task definitions with secrets', () => {
  const container = (over: Record<string, unknown>) => ({ name: 'app', image: 'x', memory: 32, ...over });

  it('registers every reference form without a warning', () => {
    const td = validateTaskDefinition({
      family: 'f',
      containerDefinitions: [
        container({
          secrets: [
            { name: 'A', valueFrom: 'db-password' },
            {
              name: 'B',
              valueFrom: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf:password::',
            },
            { name: 'C', valueFrom: 'arn:aws:ssm:eu-west-1:123456789012:parameter/db' },
          ],
          repositoryCredentials: { credentialsParameter: 'arn:aws:secretsmanager:r:1:secret:registry' },
        }),
      ],
    });
    expect(td.warnings).toEqual([]);
  });

  it('refuses a bad reference at registration, naming its path', () => {
    const error = invalidParameterOf(() =>
      validateTaskDefinition({
        family: 'f',
        containerDefinitions: [container({ secrets: [{ name: 'A', valueFrom: 'arn:aws:s3:::b/k' }] })],
      }),
    );
    expect(error.field).toBe('containerDefinitions[0].secrets[0].valueFrom');
  });

  it('refuses a json-key on repository credentials', () => {
    const error = invalidParameterOf(() =>
      validateTaskDefinition({
        family: 'f',
        containerDefinitions: [
          container({
            repositoryCredentials: { credentialsParameter: 'arn:aws:secretsmanager:r:1:secret:reg:user::' },
          }),
        ],
      }),
    );
    expect(error.field).toBe('containerDefinitions[0].repositoryCredentials.credentialsParameter');
    expect(error.message).toMatch(/without a json-key/);
  });
});

describe('resolveTaskSecrets', () => {
  const opened = (entries: Record<string, OpenedSecret>) => new Map(Object.entries(entries));

  it('gives each container its variables and registry auth', () => {
    const containers = [
      {
        name: 'app',
        secrets: [
          { name: 'DB_PASSWORD', valueFrom: 'arn:aws:ssm:eu-west-1:1:parameter/db-password' },
          { name: 'API_KEY', valueFrom: 'arn:aws:secretsmanager:eu-west-1:1:secret:api-AbCdEf:key::' },
        ],
      },
      {
        name: 'proxy',
        repositoryCredentials: { credentialsParameter: 'arn:berth:ecs:local:0:secret/default/registry' },
      },
    ];
    expect(secretNamesOf(containers).sort()).toEqual(['api', 'api-AbCdEf', 'db-password', 'registry']);
    const result = resolveTaskSecrets(
      containers,
      'default',
      opened({
        'db-password': { value: 'hunter2' },
        api: { value: '{"key": "k-123", "other": 1}' },
        registry: { value: '{"username": "bot", "password": "pw"}' },
      }),
    );
    expect(result).toEqual({
      ok: true,
      containers: new Map([
        [
          'app',
          {
            environment: [
              { name: 'DB_PASSWORD', value: 'hunter2' },
              { name: 'API_KEY', value: 'k-123' },
            ],
          },
        ],
        ['proxy', { environment: [], registryAuth: { username: 'bot', password: 'pw' } }],
      ]),
    });
  });

  it('prefers a secret named with the Secrets Manager suffix when one exists', () => {
    const containers = [
      { name: 'app', secrets: [{ name: 'X', valueFrom: 'arn:aws:secretsmanager:r:1:secret:db-secret' }] },
    ];
    const both = opened({ db: { value: 'short' }, 'db-secret': { value: 'exact' } });
    const result = resolveTaskSecrets(containers, 'default', both);
    expect(result.ok && result.containers.get('app')!.environment).toEqual([{ name: 'X', value: 'exact' }]);
  });

  it.each([
    [
      'a missing secret',
      [{ name: 'app', secrets: [{ name: 'P', valueFrom: 'db-password' }] }],
      {},
      'ResourceInitializationError: unable to pull secrets: secret "db-password" not found in cluster default',
    ],
    [
      'a secret that does not open',
      [{ name: 'app', secrets: [{ name: 'P', valueFrom: 'db-password' }] }],
      { 'db-password': { error: 'does not open with the master keys (BERTH_MASTER_KEYS)' } },
      'ResourceInitializationError: unable to pull secrets: secret "db-password" in cluster default does not open with the master keys (BERTH_MASTER_KEYS)',
    ],
    [
      "another cluster's secret",
      [{ name: 'app', secrets: [{ name: 'P', valueFrom: 'arn:berth:ecs:local:0:secret/prod/db-password' }] }],
      { 'db-password': { value: 'x' } },
      "ResourceInitializationError: unable to pull secrets: containerDefinitions[0].secrets[0].valueFrom names a secret of cluster prod, and the task runs in cluster default (a task reads only its own cluster's secrets)",
    ],
    [
      'a json-key the secret lacks',
      [
        {
          name: 'app',
          secrets: [{ name: 'P', valueFrom: 'arn:aws:secretsmanager:r:1:secret:db:password::' }],
        },
      ],
      { db: { value: 'not json at all, and secret' } },
      'ResourceInitializationError: unable to pull secrets: secret "db" in cluster default is not a JSON object with the key "password"',
    ],
    [
      'registry credentials that are not JSON',
      [{ name: 'app', repositoryCredentials: { credentialsParameter: 'registry' } }],
      { registry: { value: 'user:secret-password' } },
      'ResourceInitializationError: unable to pull registry auth: the secret that containerDefinitions[0].repositoryCredentials.credentialsParameter names must hold JSON {"username": "...", "password": "..."}',
    ],
    [
      'a reference stored before references were checked',
      [{ name: 'app', secrets: [{ name: 'P', valueFrom: 'arn:aws:ssm:...' }] }],
      {},
      /^ResourceInitializationError: unable to pull secrets: containerDefinitions\[0\]\.secrets\[0\]\.valueFrom: must be a secret name/,
    ],
  ])('stops the task for %s, with a reason that names no value', (_, containers, secrets, reason) => {
    const result = resolveTaskSecrets(containers, 'default', opened(secrets as Record<string, OpenedSecret>));
    expect(result.ok).toBe(false);
    const stoppedReason = (result as { stoppedReason: string }).stoppedReason;
    expect(stoppedReason).toMatch(reason);
    expect(stoppedReason).not.toMatch(/secret-password|and secret|hunter2/);
  });
});
