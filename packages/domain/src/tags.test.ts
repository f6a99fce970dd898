import {
  mergeTags,
  parsePropagateTags,
  parseTagKeys,
  parseTaggedResourceArn,
  parseTags,
  removeTags,
  storedTags,
  taggedResourceParams,
  taskTags,
} from './tags.js';

const ARN = 'arn:berth:ecs:local:000000000000';

describe('parseTags', () => {
  it("takes ECS's limits and keeps a repeated key's last value", () => {
    expect(parseTags(undefined)).toEqual([]);
    expect(parseTags(null)).toEqual([]);
    expect(parseTags([{ key: 'a', value: '1' }, { key: 'b' }, { key: 'a', value: '2' }])).toEqual([
      { key: 'a', value: '2' },
      { key: 'b', value: '' },
    ]);
    expect(parseTags([{ key: 'k'.repeat(128), value: 'v'.repeat(256) }])).toHaveLength(1);
    expect(parseTags([{ key: 'ünï cödé_.:/=+-@', value: '' }])).toHaveLength(1);
  });

  it.each([
    ['not a list', 'x', /must be an array/],
    ['51 tags', Array.from({ length: 51 }, (_, i) => ({ key: `k${i}` })), /at most 50/],
    ['a long key', [{ key: 'k'.repeat(129) }], /1-128/],
    ['an empty key', [{ key: '' }], /1-128/],
    ['a long value', [{ key: 'k', value: 'v'.repeat(257) }], /at most 256/],
    ['the aws: prefix', [{ key: 'aws:x' }], /reserved/],
    ['the AWS: prefix', [{ key: 'AWS:x' }], /reserved/],
    ['a semicolon', [{ key: 'a;b' }], /may hold/],
    ['a number value', [{ key: 'a', value: 1 }], /must be a string/],
  ])('refuses %s', (_, tags, message) => {
    expect(() => parseTags(tags)).toThrow(message);
  });
});

describe('merging', () => {
  it('adds over, removes, and refuses past 50', () => {
    const base = [
      { key: 'a', value: '1' },
      { key: 'b', value: '2' },
    ];
    expect(
      mergeTags(base, [
        { key: 'a', value: '3' },
        { key: 'c', value: '4' },
      ]),
    ).toEqual([
      { key: 'a', value: '3' },
      { key: 'b', value: '2' },
      { key: 'c', value: '4' },
    ]);
    expect(removeTags(base, ['a', 'zz'])).toEqual([{ key: 'b', value: '2' }]);
    const fifty = Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: '' }));
    expect(() => mergeTags(fifty, [{ key: 'one-more', value: '' }])).toThrow(/at most 50/);
    expect(mergeTags(fifty, [{ key: 'k0', value: 'x' }])).toHaveLength(50);
    expect(parseTagKeys(['a'])).toEqual(['a']);
    expect(() => parseTagKeys([])).toThrow(/at least one/);
    expect(storedTags('junk')).toEqual([]);
  });

  it('propagates the task definition or the service tags, the task own over them', () => {
    const from = { taskDefinition: [{ key: 'td', value: '1' }], service: [{ key: 'svc', value: '2' }] };
    expect(taskTags('NONE', from, [{ key: 'own', value: '3' }])).toEqual([{ key: 'own', value: '3' }]);
    expect(taskTags('SERVICE', from)).toEqual([{ key: 'svc', value: '2' }]);
    expect(taskTags('TASK_DEFINITION', from, [{ key: 'td', value: 'mine' }])).toEqual([
      { key: 'td', value: 'mine' },
    ]);
    expect(parsePropagateTags(undefined)).toBe('NONE');
    expect(parsePropagateTags('SERVICE')).toBe('SERVICE');
    expect(() => parsePropagateTags('SERVICE', true)).toThrow(/TASK_DEFINITION, NONE/);
    expect(() => parsePropagateTags('ALL')).toThrow(/propagateTags/);
  });
});

describe('parseTaggedResourceArn', () => {
  const id = '0b7b6c5e-3f2a-4d1e-9c8b-7a6f5e4d3c2b';
  it.each([
    [`${ARN}:cluster/prod`, { type: 'cluster', cluster: 'prod' }, { cluster: 'prod' }],
    [
      `${ARN}:service/prod/web`,
      { type: 'service', cluster: 'prod', name: 'web' },
      { cluster: 'prod', service: 'web' },
    ],
    [
      `${ARN}:task/prod/${id.toUpperCase()}`,
      { type: 'task', cluster: 'prod', id },
      { cluster: 'prod', task: id },
    ],
    [
      `${ARN}:container-instance/prod/${id}`,
      { type: 'container-instance', cluster: 'prod', id },
      { cluster: 'prod', id },
    ],
    [
      `arn:aws:ecs:eu-west-1:123456789012:task-definition/web:12`,
      { type: 'task-definition', family: 'web', revision: 12 },
      { ref: 'web:12' },
    ],
  ])('reads %s', (arn, resource, params) => {
    const parsed = parseTaggedResourceArn(arn);
    expect(parsed).toEqual(resource);
    expect(taggedResourceParams(parsed)).toEqual(params);
  });

  it.each([
    'prod',
    `${ARN}:service/web`,
    `${ARN}:task/prod/not-a-uuid`,
    `${ARN}:task-definition/web`,
    `${ARN}:task-definition/web:0`,
    `${ARN}:secret/prod/x`,
    `${ARN}:cluster/a/b`,
    42,
  ])('refuses %s', (arn) => {
    expect(() => parseTaggedResourceArn(arn)).toThrow(/resourceArn/);
  });
});
