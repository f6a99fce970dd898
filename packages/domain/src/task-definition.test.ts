import { validateTaskDefinition } from './task-definition.js';
import { validateRunTask, validateCreateCluster } from './run-task.js';
import { invalidParameterOf } from './testing/errors.js';
import { describedTaskDefinition } from './testing/task-definitions.js';

const web = { name: 'web', image: 'berth/busybox', cpu: 256, memory: 128 };

describe('validateTaskDefinition', () => {
  it('computes the reservation from the containers when the task sets none', () => {
    const td = validateTaskDefinition({
      family: 'web',
      containerDefinitions: [
        web,
        { name: 'side', image: 'x', cpu: 128, memoryReservation: 64, essential: false },
      ],
    });
    expect(td.cpu).toBe(384);
    expect(td.memory).toBe(192);
  });

  it('prefers task-level cpu and memory, given as ECS strings', () => {
    const td = validateTaskDefinition({
      family: 'web',
      cpu: '1024',
      memory: '2048',
      containerDefinitions: [web],
    });
    expect(td.cpu).toBe(1024);
    expect(td.memory).toBe(2048);
  });

  it('keeps unknown ECS fields and drops the ones Berth assigns', () => {
    const td = validateTaskDefinition({
      family: 'web',
      revision: 9,
      taskDefinitionArn: 'arn:aws:ecs:...',
      requiresCompatibilities: ['EC2'],
      containerDefinitions: [{ ...web, dockerLabels: { a: 'b' } }],
    });
    expect(td.definition.requiresCompatibilities).toEqual(['EC2']);
    expect(td.definition.revision).toBeUndefined();
    expect((td.definition.containerDefinitions as any)[0].dockerLabels).toEqual({ a: 'b' });
  });

  it.each([
    ['no family', { containerDefinitions: [web] }, 'family'],
    ['no containers', { family: 'f', containerDefinitions: [] }, 'containerDefinitions'],
    ['containers not an array', { family: 'f', containerDefinitions: {} }, 'containerDefinitions'],
    [
      'more than 10 containers',
      {
        family: 'f',
        containerDefinitions: Array.from({ length: 11 }, (_, i) => ({ ...web, name: `c${i}` })),
      },
      'containerDefinitions',
    ],
    [
      'a missing image',
      { family: 'f', containerDefinitions: [web, { name: 'b', memory: 5 }] },
      'containerDefinitions[1].image',
    ],
    [
      'negative cpu',
      { family: 'f', containerDefinitions: [{ ...web, cpu: -1 }] },
      'containerDefinitions[0].cpu',
    ],
    [
      'fractional memory',
      { family: 'f', containerDefinitions: [{ ...web, memory: 1.5 }] },
      'containerDefinitions[0].memory',
    ],
    [
      'zero memory',
      { family: 'f', containerDefinitions: [{ ...web, memory: 0 }] },
      'containerDefinitions[0].memory',
    ],
    [
      'string memory in a container',
      { family: 'f', containerDefinitions: [{ ...web, memory: '128' }] },
      'containerDefinitions[0].memory',
    ],
    ['bad task cpu', { family: 'f', cpu: '1 potato', containerDefinitions: [web] }, 'cpu'],
    ['duplicate names', { family: 'f', containerDefinitions: [web, web] }, 'containerDefinitions[1].name'],
    [
      'no essential container',
      { family: 'f', containerDefinitions: [{ ...web, essential: false }] },
      'containerDefinitions',
    ],
    [
      'no memory anywhere',
      { family: 'f', containerDefinitions: [{ name: 'a', image: 'x' }] },
      'containerDefinitions[0].memory',
    ],
    [
      'container memory above the task',
      { family: 'f', memory: '64', containerDefinitions: [web] },
      'containerDefinitions[0].memory',
    ],
    [
      'a bad port',
      { family: 'f', containerDefinitions: [{ ...web, portMappings: [{ containerPort: 70000 }] }] },
      'containerDefinitions[0].portMappings[0].containerPort',
    ],
    [
      'one host port twice in a task',
      {
        family: 'f',
        containerDefinitions: [
          { ...web, portMappings: [{ containerPort: 80, hostPort: 8080 }] },
          { ...web, name: 'b', portMappings: [{ containerPort: 81, hostPort: 8080 }] },
        ],
      },
      'containerDefinitions[1].portMappings[0].hostPort',
    ],
    [
      'a stop timeout above 120 s',
      { family: 'f', containerDefinitions: [{ ...web, stopTimeout: 121 }] },
      'containerDefinitions[0].stopTimeout',
    ],
  ])('rejects %s, naming the field', (_, input, field) => {
    const error = invalidParameterOf(() => validateTaskDefinition(input));
    expect(error.field).toBe(field);
    expect(error.message.startsWith(`${field}: `)).toBe(true);
  });

  it('rejects a body that is not an object', () => {
    expect(() => validateTaskDefinition([])).toThrow('must be a JSON object');
  });
});

describe('validateRunTask', () => {
  it('defaults count to 1', () => {
    expect(validateRunTask({ taskDefinition: 'web' }).count).toBe(1);
  });
  it.each([0, 11, 2.5, '3'])('rejects count %p', (count) => {
    expect(invalidParameterOf(() => validateRunTask({ taskDefinition: 'web', count })).field).toBe('count');
  });
  it('requires a task definition', () => {
    expect(invalidParameterOf(() => validateRunTask({ count: 1 })).field).toBe('taskDefinition');
  });
});

describe('validateCreateCluster', () => {
  it('rejects names with spaces', () => {
    expect(invalidParameterOf(() => validateCreateCluster({ clusterName: 'a b' })).field).toBe('clusterName');
  });
});

describe('multi-container rules', () => {
  const c = (name: string, over: Record<string, unknown> = {}) => ({ name, image: 'x', memory: 32, ...over });
  const healthy = { command: ['CMD-SHELL', 'true'] };

  it.each([
    [
      'dependsOn an unknown container',
      {
        family: 'f',
        containerDefinitions: [c('a', { dependsOn: [{ containerName: 'b', condition: 'START' }] })],
      },
      'containerDefinitions[0].dependsOn[0].containerName',
      /no container named "b"/,
    ],
    [
      'a dependsOn cycle',
      {
        family: 'f',
        containerDefinitions: [
          c('a', { dependsOn: [{ containerName: 'b', condition: 'START' }] }),
          c('b', { essential: false, dependsOn: [{ containerName: 'c', condition: 'START' }] }),
          c('c', { essential: false, dependsOn: [{ containerName: 'a', condition: 'START' }] }),
        ],
      },
      'containerDefinitions',
      /cycle: a -> b -> c -> a/,
    ],
    [
      'SUCCESS on an essential container',
      {
        family: 'f',
        containerDefinitions: [c('a'), c('b', { dependsOn: [{ containerName: 'a', condition: 'SUCCESS' }] })],
      },
      'containerDefinitions[1].dependsOn[0].condition',
      /non-essential/,
    ],
    [
      'HEALTHY on a container without a health check',
      {
        family: 'f',
        containerDefinitions: [c('a'), c('b', { dependsOn: [{ containerName: 'a', condition: 'HEALTHY' }] })],
      },
      'containerDefinitions[1].dependsOn[0].condition',
      /healthCheck/,
    ],
    [
      'an unknown condition',
      {
        family: 'f',
        containerDefinitions: [
          c('a', { healthCheck: healthy }),
          c('b', { dependsOn: [{ containerName: 'a', condition: 'READY' }] }),
        ],
      },
      'containerDefinitions[1].dependsOn[0].condition',
      /START, COMPLETE, SUCCESS or HEALTHY/,
    ],
    [
      'a mount of an unknown volume',
      {
        family: 'f',
        containerDefinitions: [c('a', { mountPoints: [{ sourceVolume: 'v', containerPath: '/v' }] })],
      },
      'containerDefinitions[0].mountPoints[0].sourceVolume',
      /no volume named "v"/,
    ],
    [
      'volumesFrom itself',
      { family: 'f', containerDefinitions: [c('a', { volumesFrom: [{ sourceContainer: 'a' }] })] },
      'containerDefinitions[0].volumesFrom[0].sourceContainer',
      /another container/,
    ],
    [
      'an EFS volume',
      {
        family: 'f',
        volumes: [{ name: 'v', efsVolumeConfiguration: { fileSystemId: 'fs-1' } }],
        containerDefinitions: [c('a')],
      },
      'volumes[0].efsVolumeConfiguration',
      /driverOpts type=nfs/,
    ],
    [
      'autoprovision on a task-scoped volume',
      {
        family: 'f',
        volumes: [{ name: 'v', dockerVolumeConfiguration: { scope: 'task', autoprovision: true } }],
        containerDefinitions: [c('a')],
      },
      'volumes[0].dockerVolumeConfiguration.autoprovision',
      /shared/,
    ],
    [
      'a host-mode port that differs from the container port',
      {
        family: 'f',
        networkMode: 'host',
        containerDefinitions: [c('a', { portMappings: [{ containerPort: 80, hostPort: 8080 }] })],
      },
      'containerDefinitions[0].portMappings[0].hostPort',
      /must equal containerPort/,
    ],
    [
      'container cpu above the task cpu',
      { family: 'f', cpu: '256', containerDefinitions: [c('a', { cpu: 200 }), c('b', { cpu: 100 })] },
      'containerDefinitions',
      /300 units, above the task's cpu \(256\)/,
    ],
    [
      'an unknown capability',
      {
        family: 'f',
        containerDefinitions: [c('a', { linuxParameters: { capabilities: { add: ['CAP_NET_ADMIN'] } } })],
      },
      'containerDefinitions[0].linuxParameters.capabilities.add[0]',
      /without CAP_/,
    ],
    [
      'a restart period under 60 s',
      {
        family: 'f',
        containerDefinitions: [c('a', { restartPolicy: { enabled: true, restartAttemptPeriod: 10 } })],
      },
      'containerDefinitions[0].restartPolicy.restartAttemptPeriod',
      /60 to 1800/,
    ],
    [
      'a soft ulimit above the hard one',
      {
        family: 'f',
        containerDefinitions: [c('a', { ulimits: [{ name: 'nofile', softLimit: 10, hardLimit: 5 }] })],
      },
      'containerDefinitions[0].ulimits[0].softLimit',
      /hardLimit/,
    ],
  ])('rejects %s, naming the JSON path', (_, input, field, message) => {
    const error = invalidParameterOf(() => validateTaskDefinition(input));
    expect(error.field).toBe(field);
    expect(error.message).toMatch(message);
  });

  it('accepts ECS JSON with fields it cannot act on, and says which ones', () => {
    const td = validateTaskDefinition({
      family: 'f',
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      runtimePlatform: { operatingSystemFamily: 'LINUX' },
      containerDefinitions: [
        c('a', {
          logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': 'g' } },
          environmentFiles: [{ value: 'arn:aws:s3:::b/e.env', type: 's3' }],
          secrets: [{ name: 'TOKEN', valueFrom: 'arn:aws:ssm:eu-west-1:123456789012:parameter/token' }],
          linuxParameters: { tmpfs: [{ containerPath: '/run', size: 64 }] },
        }),
      ],
    });
    expect(td.networkMode).toBe('bridge');
    expect(td.warnings.map((w) => w.field).sort()).toEqual(
      [
        'containerDefinitions[0].environmentFiles',
        'containerDefinitions[0].linuxParameters.tmpfs',
        'containerDefinitions[0].logConfiguration.logDriver',
        'networkMode',
        'requiresCompatibilities',
        'runtimePlatform',
      ].sort(),
    );
    // Kept as sent: GET gives back the same JSON.
    expect(td.definition.runtimePlatform).toEqual({ operatingSystemFamily: 'LINUX' });
  });

  it('registers a clean definition without warnings', () => {
    expect(validateTaskDefinition({ family: 'f', containerDefinitions: [c('a')] }).warnings).toEqual([]);
  });
});

it('registers the output of describe-task-definition again without noise', () => {
  const described = describedTaskDefinition({
    placementConstraints: [],
    volumes: [],
    memory: '512',
    containerDefinitions: [
      {
        name: 'web',
        image: 'nginx:1.27',
        cpu: 0,
        essential: true,
        portMappings: [],
        environment: [],
        mountPoints: [],
        volumesFrom: [],
        systemControls: [],
        linuxParameters: { devices: [] },
      },
    ],
  });
  const td = validateTaskDefinition(described);
  expect(td.warnings).toEqual([]);
  expect(td.definition).not.toHaveProperty('revision');
  expect(td.definition).not.toHaveProperty('requiresAttributes');
});
