import { readdirSync, readFileSync } from 'node:fs';
import { InvalidParameterError } from './errors.js';
import { validateTaskDefinition } from './task-definition.js';

/** Real-world ECS task definitions, as `aws ecs register-task-definition --cli-input-json` takes them. */
const dir = new URL('../fixtures/ecs/', import.meta.url);
const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(name, dir), 'utf8')) as Record<string, unknown>;

it('has the fixtures this file expects', () => {
  expect(readdirSync(dir).sort()).toEqual([
    'efs-worker.json',
    'fargate-api.json',
    'nfs-worker.json',
    'web-with-proxy-and-logs.json',
  ]);
});

it('registers a three-container EC2 definition, warning only about what it cannot do here', () => {
  const td = validateTaskDefinition(fixture('web-with-proxy-and-logs.json'));
  expect(td.cpu).toBe(1024);
  expect(td.memory).toBe(1024);
  expect(td.warnings).toEqual([
    { field: 'requiresCompatibilities', message: expect.stringMatching(/EC2 launch type/) },
    { field: 'taskRoleArn', message: expect.any(String) },
    { field: 'executionRoleArn', message: expect.any(String) },
    {
      field: 'containerDefinitions[0].logConfiguration.logDriver',
      message: expect.stringMatching(/json-file/),
    },
    { field: 'containerDefinitions[1].links', message: expect.stringMatching(/by container name/) },
  ]);
});

it('registers a Fargate definition to run as bridge, with warnings', () => {
  const td = validateTaskDefinition(fixture('fargate-api.json'));
  expect(td.networkMode).toBe('bridge');
  expect(td.warnings.map((w) => w.field)).toEqual(
    expect.arrayContaining([
      'requiresCompatibilities',
      'runtimePlatform',
      'ephemeralStorage',
      'networkMode',
      'containerDefinitions[0].environmentFiles',
      'containerDefinitions[1].linuxParameters.sharedMemorySize',
    ]),
  );
});

it('registers an NFS-backed shared volume, as EFS is in ECS', () => {
  const td = validateTaskDefinition(fixture('nfs-worker.json'));
  expect(td.warnings).toEqual([]);
});

it('refuses an EFS volume, saying how to get the same with NFS', () => {
  expect(() => validateTaskDefinition(fixture('efs-worker.json'))).toThrow(InvalidParameterError);
  expect(() => validateTaskDefinition(fixture('efs-worker.json'))).toThrow(
    /^volumes\[0\]\.efsVolumeConfiguration: .*type=nfs/,
  );
});

/**
 * ECS task definitions as users have them, each one that ECS registers: a console export with
 * nulls, describe-task-definition output (wrapped, with its output-only fields), Fargate
 * definitions with awslogs and secrets from Secrets Manager and SSM, unit strings.
 */
describe('published definitions (test-fixtures/ecs)', () => {
  const published = new URL('../test-fixtures/ecs/', import.meta.url);
  const read = (name: string): unknown => JSON.parse(readFileSync(new URL(name, published), 'utf8'));

  it.each([
    // file, reservation (cpu units, MiB), task-level cpu and memory as stored
    ['console-export-with-nulls.json', 320, 1024, undefined, undefined],
    ['describe-output-wrapped.json', 512, 1024, '512', '1024'],
    ['fargate-awslogs-secrets.json', 1024, 2048, '1024', '2048'],
    ['fargate-unit-strings.json', 512, 1024, '512', '1024'],
    ['ec2-unit-strings.json', 2048, 4096, '2048', '4096'],
  ])('%s registers, reserving %d CPU units and %d MiB', (name, cpu, memory, taskCpu, taskMemory) => {
    const td = validateTaskDefinition(read(name));
    expect([td.cpu, td.memory]).toEqual([cpu, memory]);
    expect([td.definition.cpu, td.definition.memory]).toEqual([taskCpu, taskMemory]);
    const stored = JSON.stringify(td.definition);
    expect(stored).not.toContain('null');
    for (const field of ['taskDefinitionArn', 'revision', 'status', 'requiresAttributes', 'compatibilities'])
      expect(td.definition).not.toHaveProperty(field);
    // Registered again as Berth stores it, it is the same definition.
    expect(validateTaskDefinition(td.definition).definition).toEqual(td.definition);
  });

  it('has a test for every fixture', () => {
    expect(readdirSync(published).sort()).toEqual([
      'console-export-with-nulls.json',
      'describe-output-wrapped.json',
      'ec2-unit-strings.json',
      'fargate-awslogs-secrets.json',
      'fargate-unit-strings.json',
    ]);
  });

  it('warns about nothing a console export leaves unset', () => {
    const td = validateTaskDefinition(read('console-export-with-nulls.json'));
    expect(td.warnings).toEqual([{ field: 'requiresCompatibilities', message: expect.any(String) }]);
    expect(td.containerDefinitions[0]!.portMappings).toEqual([
      { containerPort: 8080, hostPort: 0, protocol: 'tcp' },
    ]);
  });

  it('carries the tags of describe --include TAGS over, and names the rest it cannot act on', () => {
    const td = validateTaskDefinition(read('describe-output-wrapped.json'));
    expect(td.family).toBe('report-worker');
    expect(td.definition.tags).toEqual([
      { key: 'team', value: 'reporting' },
      { key: 'cost-centre', value: 'cc-4410' },
    ]);
    expect(td.definition).not.toHaveProperty('registeredAt');
    expect(td.warnings.map((w) => w.field)).toEqual([
      'requiresCompatibilities',
      'runtimePlatform',
      'networkMode',
      'taskRoleArn',
      'executionRoleArn',
      'containerDefinitions[0].logConfiguration.logDriver',
    ]);
  });

  it('registers Secrets Manager (with a json-key) and SSM references; they are resolved at launch', () => {
    const td = validateTaskDefinition(read('fargate-awslogs-secrets.json'));
    expect(td.containerDefinitions[0]!.secrets?.map((s) => s.name)).toEqual([
      'DATABASE_URL',
      'STRIPE_API_KEY',
      'FEATURE_FLAGS_TOKEN',
    ]);
    expect(td.definition.tags).toHaveLength(2);
    expect(td.warnings.map((w) => w.field)).toEqual([
      'requiresCompatibilities',
      'runtimePlatform',
      'networkMode',
      'taskRoleArn',
      'executionRoleArn',
      'containerDefinitions[0].logConfiguration.logDriver',
      'containerDefinitions[1].logConfiguration.logDriver',
    ]);
  });

  it('stores unit strings as ECS does, in CPU units and MiB', () => {
    const td = validateTaskDefinition(read('fargate-unit-strings.json'));
    expect(td.definition).toMatchObject({ cpu: '512', memory: '1024' });
  });

  // Secrets that RDS manages are named rds!db-<id>, which ECS references as they are.
  it('registers a reference to a secret managed by RDS', () => {
    const described = read('describe-output-wrapped.json') as { taskDefinition: any };
    described.taskDefinition.containerDefinitions[0].secrets[0].valueFrom =
      'arn:aws:secretsmanager:ap-southeast-2:345678901234:secret:rds!db-4b7c1e9a-5d2f-4a3b-9c8e-0f1a2b3c4d5e-Qm3xZp:password::';
    validateTaskDefinition(described);
  });
});
