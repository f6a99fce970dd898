import { InvalidParameterError } from './errors.js';
import { validateTaskDefinition } from './task-definition.js';
import { validateRunTask, validateCreateCluster } from './run-task.js';

const web = { name: 'web', image: 'berth/busybox', cpu: 256, memory: 128 };

function fieldOf(fn: () => unknown): { field?: string; message: string } {
  try {
    fn();
  } catch (e) {
    if (e instanceof InvalidParameterError) return { field: e.field, message: e.message };
    throw e;
  }
  throw new Error('expected an InvalidParameterError');
}

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
    const error = fieldOf(() => validateTaskDefinition(input));
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
    expect(fieldOf(() => validateRunTask({ taskDefinition: 'web', count })).field).toBe('count');
  });
  it('requires a task definition', () => {
    expect(fieldOf(() => validateRunTask({ count: 1 })).field).toBe('taskDefinition');
  });
});

describe('validateCreateCluster', () => {
  it('rejects names with spaces', () => {
    expect(fieldOf(() => validateCreateCluster({ clusterName: 'a b' })).field).toBe('clusterName');
  });
});
