import { normalizeTaskDefinition, taskCpu, taskMemory } from './task-definition-normalize.js';
import { validateTaskDefinition } from './task-definition.js';
import { invalidParameterOf } from './testing/errors.js';
import { describedTaskDefinition } from './testing/task-definitions.js';

const web = { name: 'web', image: 'nginx:1.27', memory: 128 };

describe('task-level cpu and memory, as ECS converts them', () => {
  it.each([
    ['1024', '1024'],
    [' 512 ', '512'],
    ['1 vCPU', '1024'],
    ['1 vcpu', '1024'],
    ['1vCPU', '1024'],
    ['0.25 vCPU', '256'],
    ['.5 VCPU', '512'],
    ['0.5 vCPU', '512'],
    ['2 vcpu', '2048'],
    ['16 vCPU', '16384'],
  ])('cpu %j is %s CPU units', (given, units) => {
    expect(taskCpu(given)).toBe(units);
  });

  it.each([
    ['512', '512'],
    ['1 GB', '1024'],
    ['1GB', '1024'],
    ['2 gb', '2048'],
    ['0.5 GB', '512'],
    ['30 GB', '30720'],
  ])('memory %j is %s MiB', (given, mib) => {
    expect(taskMemory(given)).toBe(mib);
  });

  it('leaves numbers, and values of the wrong type, to validation', () => {
    expect(taskCpu(1024)).toBe(1024);
    expect(taskMemory(true)).toBe(true);
  });

  it.each([
    ['cpu', '3 cores', /^cpu: "3 cores" is not a number of CPU units \("1024"\) or of vCPU/],
    ['cpu', '1 GB', /^cpu: "1 GB" is not a number of CPU units/],
    ['cpu', '-1 vCPU', /^cpu: "-1 vCPU" is not/],
    ['cpu', '', /^cpu: "" is not/],
    ['cpu', '0.1 vCPU', /^cpu: "0.1 vCPU" is 102.4 CPU units; it must come to a whole number of CPU units/],
    ['memory', '2 GiB', /^memory: "2 GiB" is not a number of MiB \("2048"\) or of GB/],
    ['memory', '512 MB', /^memory: "512 MB" is not/],
    ['memory', '1 vCPU', /^memory: "1 vCPU" is not/],
    ['memory', '0.3 GB', /^memory: "0.3 GB" is 307.2 MiB/],
  ])('refuses %s %j, naming the field and the rule', (field, value, message) => {
    const error = invalidParameterOf(() =>
      validateTaskDefinition({ family: 'f', [field]: value, containerDefinitions: [web] }),
    );
    expect(error.field).toBe(field);
    expect(error.message).toMatch(message);
  });

  it('registers the converted values, as ECS stores them, and reserves them', () => {
    const td = validateTaskDefinition({
      family: 'f',
      cpu: '0.25 vCPU',
      memory: '0.5 GB',
      containerDefinitions: [web],
    });
    expect(td.definition.cpu).toBe('256');
    expect(td.definition.memory).toBe('512');
    expect([td.cpu, td.memory]).toEqual([256, 512]);
  });

  it('keeps container-level cpu and memory integers, as ECS does', () => {
    expect(
      invalidParameterOf(() =>
        validateTaskDefinition({ family: 'f', containerDefinitions: [{ ...web, cpu: '1 vCPU' }] }),
      ).field,
    ).toBe('containerDefinitions[0].cpu');
    expect(
      invalidParameterOf(() =>
        validateTaskDefinition({ family: 'f', containerDefinitions: [{ ...web, memory: '1 GB' }] }),
      ).field,
    ).toBe('containerDefinitions[0].memory');
  });
});

describe('null means absent', () => {
  it('drops null members at every depth, and the definition then registers', () => {
    const td = validateTaskDefinition({
      family: 'f',
      cpu: null,
      memory: null,
      taskRoleArn: null,
      pidMode: null,
      containerDefinitions: [
        {
          ...web,
          cpu: null,
          memoryReservation: null,
          linuxParameters: null,
          healthCheck: null,
          portMappings: [{ containerPort: 80, hostPort: null, protocol: null }],
          logConfiguration: { logDriver: 'json-file', options: { 'max-size': '10m', 'max-file': null } },
          dockerLabels: { team: 'web', owner: null },
        },
      ],
    });
    expect(td.warnings).toEqual([]);
    expect([td.cpu, td.memory]).toEqual([0, 128]);
    expect(JSON.stringify(td.definition)).not.toContain('null');
    expect(td.definition).toEqual({
      family: 'f',
      containerDefinitions: [
        {
          ...web,
          portMappings: [{ containerPort: 80 }],
          logConfiguration: { logDriver: 'json-file', options: { 'max-size': '10m' } },
          dockerLabels: { team: 'web' },
        },
      ],
    });
  });

  it('treats a null container memory as absent: the task then needs memory from elsewhere', () => {
    const error = invalidParameterOf(() =>
      validateTaskDefinition({
        family: 'f',
        containerDefinitions: [{ name: 'a', image: 'i', memory: null }],
      }),
    );
    expect(error.field).toBe('containerDefinitions[0].memory');
    expect(error.message).toMatch(/required \(or memoryReservation\)/);
  });

  it('sets an environment variable whose value is null or absent to the empty string', () => {
    const td = validateTaskDefinition({
      family: 'f',
      containerDefinitions: [
        {
          ...web,
          environment: [{ name: 'A', value: null }, { name: 'B' }, { name: 'C', value: 'c' }],
        },
      ],
    });
    expect((td.definition.containerDefinitions as { environment: unknown }[])[0]!.environment).toEqual([
      { name: 'A', value: '' },
      { name: 'B', value: '' },
      { name: 'C', value: 'c' },
    ]);
  });

  it('leaves a null array element to validation, which names it', () => {
    const error = invalidParameterOf(() =>
      validateTaskDefinition({ family: 'f', containerDefinitions: [{ ...web, command: ['sh', null] }] }),
    );
    expect(error.field).toBe('containerDefinitions[0].command[1]');
  });

  it('does not change its input', () => {
    const input = {
      family: 'f',
      cpu: '1 vCPU',
      memory: null,
      containerDefinitions: [{ ...web, user: null }],
    };
    const copy = structuredClone(input);
    normalizeTaskDefinition(input);
    expect(input).toEqual(copy);
  });

  it.each([null, [], 'web', 3])('refuses %j as a body', (body) => {
    expect(() => normalizeTaskDefinition(body)).toThrow('the request body must be a JSON object');
  });
});

describe('describe-task-definition output', () => {
  const described = describedTaskDefinition({ memory: '512', containerDefinitions: [web] });

  it('drops the output-only fields without a warning', () => {
    const { input, warnings } = normalizeTaskDefinition(described);
    expect(input).toEqual({ family: 'web', memory: '512', containerDefinitions: [web] });
    expect(warnings).toEqual([]);
  });

  it('unwraps {taskDefinition, tags}, keeping the tags as the request tags', () => {
    const tags = [{ key: 'team', value: 'payments' }];
    const td = validateTaskDefinition({ taskDefinition: described, tags });
    expect(td.family).toBe('web');
    expect(td.memory).toBe(512);
    expect(td.definition).toEqual({ family: 'web', memory: '512', containerDefinitions: [web], tags });
    expect(td.warnings).toEqual([]);
  });

  it("unwraps Berth's own register answer, whose tags are given twice", () => {
    const tags = [{ key: 'team', value: 'payments' }];
    const { input, warnings } = normalizeTaskDefinition({
      taskDefinition: { ...described, tags },
      tags,
      warnings: [{ field: 'taskRoleArn', message: '...' }],
    });
    expect(input.tags).toEqual(tags);
    expect(warnings).toEqual([]);
  });

  it('refuses two different tag lists', () => {
    const error = invalidParameterOf(() =>
      normalizeTaskDefinition({
        taskDefinition: { ...described, tags: [{ key: 'a', value: '1' }] },
        tags: [{ key: 'a', value: '2' }],
      }),
    );
    expect(error.field).toBe('tags');
  });

  it('warns about other keys beside taskDefinition, and ignores them', () => {
    const { input, warnings } = normalizeTaskDefinition({ taskDefinition: described, ResponseMetadata: {} });
    expect(input).not.toHaveProperty('ResponseMetadata');
    expect(warnings).toEqual([{ field: 'ResponseMetadata', message: expect.stringMatching(/ignored/) }]);
  });

  it('does not unwrap a definition that merely has a taskDefinition field', () => {
    const { input } = normalizeTaskDefinition({
      family: 'f',
      containerDefinitions: [web],
      taskDefinition: {},
    });
    expect(input.family).toBe('f');
    expect(input.taskDefinition).toEqual({});
  });

  it('unwraps a wrapper with nulls, and converts units inside it', () => {
    const td = validateTaskDefinition({
      taskDefinition: { ...described, cpu: '1 vcpu', memory: '2GB', volumes: null },
      tags: null,
    });
    expect([td.cpu, td.memory]).toEqual([1024, 2048]);
    expect(td.definition).not.toHaveProperty('tags');
  });
});
