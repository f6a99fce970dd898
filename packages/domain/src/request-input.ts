import { parseTaskDefinitionRef } from './arns.js';
import { InvalidParameterError } from './errors.js';
import { validateRegistry } from './registry-credentials.js';
import { validateScheduleName } from './schedule.js';
import { jsonPath, NAME_RULE } from './validation.js';

/**
 * The rules every path parameter, query parameter and JSON body meets before any handler sees
 * it, so that malformed input is a 400 naming the parameter instead of an error from Postgres
 * (which refuses a non-UUID where it wants a uuid, and a NUL character in any text).
 */

const bad = (field: string, rule: string) => new InvalidParameterError(`${field}: ${rule}`, field);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const NAME_TEXT = '1-255 letters, digits, hyphens or underscores';
/** `arn:<partition>:ecs:<region>:<account>:<resource>`, as `arns` builds them. */
const ECS_ARN = /^arn:[a-z0-9-]{1,32}:ecs:[a-z0-9-]{0,64}:[0-9A-Za-z-]{0,64}:(.+)$/;
/** Control characters, which no name, id or token holds (and Postgres refuses NUL in text). */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
const MAX_QUERY_VALUE = 1024;
/** Half of a UTF-16 surrogate pair without its other half: JSON can carry it, Postgres cannot. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why Postgres would refuse this text (in text or jsonb), or undefined. */
function unstorable(text: string): string | undefined {
  if (text.includes('\u0000')) return 'the NUL character';
  if (LONE_SURROGATE.test(text)) return 'an unpaired UTF-16 surrogate';
  return undefined;
}
/** Far deeper than any ECS request nests; deeper input would only cost stack. */
const MAX_BODY_DEPTH = 32;

/** The resource part of an ECS ARN (`task/default/1a2b...`), or undefined if it is not one. */
function arnResource(value: string): string | undefined {
  return ECS_ARN.exec(value)?.[1];
}

/** A cluster, service or family name, or the ARN of one: the name. */
export function parseName(value: string, field: string, kind: 'cluster' | 'service'): string {
  const name = value.startsWith('arn:')
    ? arnResource(value)?.replace(new RegExp(`^${kind}/(?:.*/)?`), '')
    : value;
  if (name === undefined || !NAME_RULE.test(name))
    throw bad(field, `must be a ${kind} name (${NAME_TEXT}) or ${kind} ARN`);
  return name;
}

/**
 * A task or container instance: its id (a UUID) or its ARN
 * (`arn:berth:ecs:<region>:<account>:task/<cluster>/<id>`), as ECS accepts either. Returns the id.
 */
export function parseResourceId(value: string, field: string, kind: 'task' | 'container-instance'): string {
  let id: string | undefined = value;
  if (value.startsWith('arn:')) {
    const resource = arnResource(value);
    id = resource?.startsWith(`${kind}/`) ? resource.slice(resource.lastIndexOf('/') + 1) : undefined;
  }
  if (id === undefined || !UUID.test(id)) throw bad(field, `must be a ${kind} id (a UUID) or ${kind} ARN`);
  return id.toLowerCase();
}

/** maxResults: an integer from 1 to `max` (ECS's list calls take 1-100). */
export function parseMaxResults(value: string | undefined, max: number, fallback = max): number {
  if (value === undefined) return fallback;
  const n = /^[0-9]{1,4}$/.test(value) ? Number(value) : NaN;
  if (!(n >= 1 && n <= max)) throw bad('maxResults', `must be an integer from 1 to ${max}`);
  return n;
}

/** How each path parameter, by its name in the routes, is checked, and the field errors name. */
const PATH_PARAMETERS = new Map<string, (value: string) => void>(
  Object.entries({
    cluster: (v) => parseName(v, 'cluster', 'cluster'),
    service: (v) => parseName(v, 'service', 'service'),
    task: (v) => parseResourceId(v, 'task', 'task'),
    id: (v) => parseResourceId(v, 'containerInstance', 'container-instance'),
    ref: (v) => parseTaskDefinitionRef(v),
    registry: (v) => validateRegistry(v),
    schedule: (v) => validateScheduleName(v, 'schedule'),
  }),
);

/** How query parameters with a fixed form are checked; any other is free text (see checkQuery). */
const QUERY_PARAMETERS = new Map<string, (value: string) => void>(
  Object.entries({
    containerInstance: (v) => parseResourceId(v, 'containerInstance', 'container-instance'),
    serviceName: (v) => parseName(v, 'serviceName', 'service'),
    family: (v) => {
      if (!NAME_RULE.test(v)) throw bad('family', `must be a task definition family (${NAME_TEXT})`);
    },
    familyPrefix: (v) => {
      if (!NAME_RULE.test(v)) throw bad('familyPrefix', `must be the start of a family (${NAME_TEXT})`);
    },
    maxResults: (v) => parseMaxResults(v, 100),
    force: (v) => {
      if (v !== 'true' && v !== 'false') throw bad('force', 'must be true or false');
    },
  }),
);

/** A path parameter, checked by the rule for its name; names without a rule get the text rule. */
export function checkPathParameter(name: string, value: string): void {
  const rule = PATH_PARAMETERS.get(name);
  if (rule) return rule(value);
  if (value.length > MAX_QUERY_VALUE || CONTROL.test(value)) {
    throw bad(name, `must be at most ${MAX_QUERY_VALUE} characters, without control characters`);
  }
}

/**
 * A request's query: each parameter given once (`?a=1&a=2` arrives as an array, and the API
 * would otherwise pick one of them silently), as text without control characters, and those with
 * a fixed form in that form.
 */
export function checkQuery(query: Record<string, unknown>): void {
  for (const [name, value] of Object.entries(query)) {
    const field = name.length > 64 || CONTROL.test(name) ? 'query' : name;
    if (typeof value !== 'string') throw bad(field, 'must be given once, as a single value');
    if (field === 'query')
      throw bad(field, 'has a parameter name that is too long or has control characters');
    if (value.length > MAX_QUERY_VALUE || CONTROL.test(value)) {
      throw bad(name, `must be at most ${MAX_QUERY_VALUE} characters, without control characters`);
    }
    // A Map, not an object: a parameter named `__proto__` or `constructor` finds no rule.
    QUERY_PARAMETERS.get(name)?.(value);
  }
}

/**
 * A JSON body: at most MAX_BODY_DEPTH deep, and no key or string that Postgres cannot store (a NUL
 * character, an unpaired surrogate), wherever it would end up. Walks without recursion, so any
 * depth is safe to look at.
 */
export function checkBody(body: unknown): void {
  const stack: { value: unknown; path: PropertyKey[] }[] = [{ value: body, path: [] }];
  while (stack.length > 0) {
    const { value, path } = stack.pop()!;
    if (typeof value === 'string') {
      const problem = unstorable(value);
      if (problem) throw bad(jsonPath(path) || 'body', `must not contain ${problem}`);
      continue;
    }
    if (typeof value !== 'object' || value === null) continue;
    if (path.length >= MAX_BODY_DEPTH) {
      throw bad(jsonPath(path), `nests deeper than ${MAX_BODY_DEPTH} levels`);
    }
    if (Array.isArray(value)) {
      value.forEach((v, i) => stack.push({ value: v, path: [...path, i] }));
      continue;
    }
    for (const [k, v] of Object.entries(value)) {
      const problem = unstorable(k);
      if (problem) throw bad(jsonPath(path) || 'body', `must not have a key with ${problem}`);
      stack.push({ value: v, path: [...path, k] });
    }
  }
}
