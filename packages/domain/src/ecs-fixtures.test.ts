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
