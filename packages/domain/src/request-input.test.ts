import fc from 'fast-check';
import { InvalidParameterError } from './errors.js';
import { cursors, nextPageToken, parsePage } from './paging.js';
import { checkBody, checkPathParameter, checkQuery, parseName, parseResourceId } from './request-input.js';

function refusal(fn: () => unknown): { field?: string; message: string } {
  try {
    fn();
  } catch (e) {
    if (e instanceof InvalidParameterError) return { field: e.field, message: e.message };
    throw e;
  }
  throw new Error('expected an InvalidParameterError');
}

const id = '0f8e2a4c-1b3d-4e5f-8a9b-0c1d2e3f4a5b';

describe('ids and names in paths and queries', () => {
  it('takes an id or its ARN', () => {
    expect(parseResourceId(id, 'task', 'task')).toBe(id);
    expect(
      parseResourceId(`arn:berth:ecs:local:000000000000:task/default/${id.toUpperCase()}`, 'task', 'task'),
    ).toBe(id);
    expect(
      parseResourceId(
        `arn:berth:ecs:local:0:container-instance/prod/${id}`,
        'containerInstance',
        'container-instance',
      ),
    ).toBe(id);
    expect(parseName('arn:berth:ecs:local:0:service/prod/web', 'service', 'service')).toBe('web');
    expect(parseName('arn:berth:ecs:local:0:cluster/prod', 'cluster', 'cluster')).toBe('prod');
  });

  it.each([
    ['task', 'not-a-uuid', 'task: must be a task id (a UUID) or task ARN'],
    ['task', '-'.repeat(36), 'task: must be a task id (a UUID) or task ARN'],
    ['task', `arn:berth:ecs:local:0:service/default/${id}`, 'task: must be a task id (a UUID) or task ARN'],
    ['id', 'x', 'containerInstance: must be a container-instance id (a UUID) or container-instance ARN'],
    [
      'cluster',
      'a b',
      'cluster: must be a cluster name (1-255 letters, digits, hyphens or underscores) or cluster ARN',
    ],
    ['cluster', 'x\u0000', 'cluster: must be a cluster name'],
    ['service', 'a'.repeat(256), 'service: must be a service name'],
    ['ref', 'web:0', 'taskDefinition: the revision must be a positive integer'],
    ['ref', 'web:99999999999', 'taskDefinition: the revision must be a positive integer'],
    ['ref', 'w%b:1', 'taskDefinition: the family must be'],
    ['registry', 'not a host', 'registry: must be a registry host'],
    ['name', 'x\u0000', 'name: must be at most 1024 characters, without control characters'],
  ])('refuses path %s=%j, naming it', (name, value, message) => {
    const r = refusal(() => checkPathParameter(name, value));
    expect(r.message).toContain(message);
    expect(message.startsWith(`${r.field}: `)).toBe(true);
  });

  it.each([
    [{ maxResults: ['1', '2'] }, 'maxResults', 'maxResults: must be given once, as a single value'],
    [{ startedBy: 'a', family: ['x', 'y'] }, 'family', 'family: must be given once'],
    [{ maxResults: '0' }, 'maxResults', 'maxResults: must be an integer from 1 to 100'],
    [{ maxResults: '1.5' }, 'maxResults', 'maxResults: must be an integer from 1 to 100'],
    [{ maxResults: '101' }, 'maxResults', 'maxResults: must be an integer from 1 to 100'],
    [
      { containerInstance: 'nope' },
      'containerInstance',
      'containerInstance: must be a container-instance id',
    ],
    [{ startedBy: 'a\u0000' }, 'startedBy', 'startedBy: must be at most 1024 characters'],
    [{ force: 'yes' }, 'force', 'force: must be true or false'],
  ])('refuses the query %j, naming %s', (query, field, message) => {
    const r = refusal(() => checkQuery(query));
    expect(r).toMatchObject({ field });
    expect(r.message).toContain(message);
  });

  it('finds no rule for a parameter named like an object property', () => {
    expect(() =>
      checkQuery(JSON.parse('{"__proto__": "x", "constructor": "y", "toString": "z"}')),
    ).not.toThrow();
  });

  it('accepts what the routes document', () => {
    expect(() =>
      checkQuery({
        maxResults: '100',
        containerInstance: id,
        family: 'web',
        startedBy: 'ecs-svc/1',
        force: 'true',
      }),
    ).not.toThrow();
  });
});

describe('JSON bodies', () => {
  it('refuses a NUL character anywhere, naming where', () => {
    expect(refusal(() => checkBody({ overrides: { containerOverrides: [{ name: 'a\u0000' }] } }))).toEqual({
      field: 'overrides.containerOverrides[0].name',
      message: 'overrides.containerOverrides[0].name: must not contain the NUL character',
    });
    expect(refusal(() => checkBody({ tags: { 'k\u0000': 1 } })).field).toBe('tags');
    expect(refusal(() => checkBody({ a: ['ok 💥', 'x\ud800'] }))).toEqual({
      field: 'a[1]',
      message: 'a[1]: must not contain an unpaired UTF-16 surrogate',
    });
  });

  it('refuses nesting deeper than any request needs, at any depth without recursion', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(refusal(() => checkBody({ a: deep })).message).toMatch(/^a(\[0\])+: nests deeper than 32 levels$/);
  });

  it('accepts ordinary JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 10 }), (v) => {
        if (JSON.stringify(v).includes('\\u0000')) return;
        checkBody(v);
      }),
    );
  });
});

describe('page tokens', () => {
  const cursor = cursors.timeAndId;

  it('round-trips the last row of a full page', () => {
    const rows = [{ at: new Date(0), id }];
    const token = nextPageToken(rows, 1, (r) => [r.at.toISOString(), r.id]);
    expect(parsePage({ nextToken: token, maxResults: '5' }, cursor)).toEqual({
      limit: 5,
      after: ['1970-01-01T00:00:00.000Z', id],
    });
    expect(nextPageToken(rows, 2, (r) => r.id)).toBeUndefined();
  });

  it('answers any other token with a 400 naming nextToken', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 3000 }), (token) => {
        try {
          parsePage({ nextToken: token }, cursor);
        } catch (e) {
          expect(e).toBeInstanceOf(InvalidParameterError);
          expect((e as InvalidParameterError).field).toBe('nextToken');
        }
      }),
    );
    const forged = Buffer.from(JSON.stringify(['yesterday', 'x'])).toString('base64url');
    expect(refusal(() => parsePage({ nextToken: forged }, cursor))).toEqual({
      field: 'nextToken',
      message: 'nextToken: is not a token that this list returned',
    });
  });
});
