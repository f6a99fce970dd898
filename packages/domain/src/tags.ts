import { InvalidParameterError } from './errors.js';
import { NAME_RULE } from './validation.js';

/**
 * ECS resource tags: validation with ECS's limits, merging, propagation, and the resource an ARN
 * names (TagResource, UntagResource, ListTagsForResource). Pure.
 */

export interface Tag {
  key: string;
  value: string;
}

/** ECS's limits: 50 tags per resource, keys of 1-128 characters, values of 0-256. */
export const MAX_TAGS = 50;
export const MAX_TAG_KEY = 128;
export const MAX_TAG_VALUE = 256;
/** Letters, digits, spaces and `_ . : / = + - @`, as the ECS API reference gives them. */
const TAG_TEXT = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

const bad = (field: string, rule: string) => new InvalidParameterError(`${field}: ${rule}`, field);

const isReserved = (key: string) => key.toLowerCase().startsWith('aws:');

function parseKey(value: unknown, field: string): string {
  if (typeof value !== 'string') throw bad(field, 'must be a string');
  if (value.length < 1 || value.length > MAX_TAG_KEY) throw bad(field, `must be 1-${MAX_TAG_KEY} characters`);
  if (!TAG_TEXT.test(value)) throw bad(field, 'may hold letters, digits, spaces and _ . : / = + - @');
  if (isReserved(value)) throw bad(field, 'the aws: prefix is reserved');
  return value;
}

/**
 * A request's `tags` (absent or null: none): at most 50 `{key, value}` pairs with ECS's rules. A
 * key given twice keeps its last value.
 */
export function parseTags(value: unknown, field = 'tags'): Tag[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw bad(field, 'must be an array of {key, value}');
  const out = new Map<string, string>();
  value.forEach((tag, i) => {
    if (typeof tag !== 'object' || tag === null || Array.isArray(tag))
      throw bad(`${field}[${i}]`, 'must be an object {key, value}');
    const { key, value: v } = tag as Record<string, unknown>;
    const k = parseKey(key, `${field}[${i}].key`);
    const text = v === undefined || v === null ? '' : v;
    if (typeof text !== 'string') throw bad(`${field}[${i}].value`, 'must be a string');
    if (text.length > MAX_TAG_VALUE)
      throw bad(`${field}[${i}].value`, `must be at most ${MAX_TAG_VALUE} characters`);
    if (!TAG_TEXT.test(text))
      throw bad(`${field}[${i}].value`, 'may hold letters, digits, spaces and _ . : / = + - @');
    out.set(k, text);
  });
  if (out.size > MAX_TAGS) throw bad(field, `must hold at most ${MAX_TAGS} tags`);
  return [...out].map(([key, v]) => ({ key, value: v }));
}

/** UntagResource's `tagKeys`: 1-50 keys. */
export function parseTagKeys(value: unknown, field = 'tagKeys'): string[] {
  if (!Array.isArray(value) || value.length === 0) throw bad(field, 'must list at least one tag key');
  if (value.length > MAX_TAGS) throw bad(field, `must list at most ${MAX_TAGS} keys`);
  return value.map((k, i) => parseKey(k, `${field}[${i}]`));
}

/** Stored tags as the column holds them ([{key, value}]); anything else reads as none. */
export function storedTags(value: unknown): Tag[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((t) =>
    typeof t === 'object' && t !== null && typeof (t as Tag).key === 'string'
      ? [{ key: (t as Tag).key, value: typeof (t as Tag).value === 'string' ? (t as Tag).value : '' }]
      : [],
  );
}

/**
 * `base` with `added` over it (a key in both takes the added value), in the order keys were first
 * given; more than 50 is a 400, as ECS refuses TagResource past its limit.
 */
export function mergeTags(base: readonly Tag[], added: readonly Tag[], field = 'tags'): Tag[] {
  const out = new Map(base.map((t) => [t.key, t.value]));
  for (const t of added) out.set(t.key, t.value);
  if (out.size > MAX_TAGS)
    throw bad(field, `a resource holds at most ${MAX_TAGS} tags (it would hold ${out.size})`);
  return [...out].map(([key, value]) => ({ key, value }));
}

export const removeTags = (base: readonly Tag[], keys: readonly string[]): Tag[] =>
  base.filter((t) => !keys.includes(t.key));

export const PROPAGATE_TAGS = ['TASK_DEFINITION', 'SERVICE', 'NONE'] as const;
export type PropagateTags = (typeof PROPAGATE_TAGS)[number];

/**
 * `propagateTags`: NONE when absent. RunTask takes TASK_DEFINITION or NONE (SERVICE is a 400, as
 * in ECS); CreateService and UpdateService take all three.
 */
export function parsePropagateTags(value: unknown, forRunTask = false): PropagateTags {
  if (value === undefined || value === null) return 'NONE';
  const allowed: readonly string[] = forRunTask ? ['TASK_DEFINITION', 'NONE'] : PROPAGATE_TAGS;
  if (typeof value !== 'string' || !allowed.includes(value))
    throw bad('propagateTags', `must be ${allowed.join(', ')}`);
  return value as PropagateTags;
}

/**
 * A new task's tags: those propagated from its task definition or service, with its own (RunTask's
 * `tags`) over them. Propagated tags that would take it past 50 are a 400.
 */
export function taskTags(
  propagate: PropagateTags,
  from: { taskDefinition: readonly Tag[]; service?: readonly Tag[] },
  own: readonly Tag[] = [],
): Tag[] {
  const propagated =
    propagate === 'TASK_DEFINITION'
      ? from.taskDefinition
      : propagate === 'SERVICE'
        ? (from.service ?? [])
        : [];
  return mergeTags(propagated, own);
}

/** A resource that takes tags, as its ARN names it. */
export type TaggedResource =
  | { type: 'cluster'; cluster: string }
  | { type: 'service'; cluster: string; name: string }
  | { type: 'task'; cluster: string; id: string }
  | { type: 'container-instance'; cluster: string; id: string }
  | { type: 'task-definition'; family: string; revision: number };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const RESOURCE_ARN = /^arn:[a-z0-9-]{1,32}:ecs:[a-z0-9-]{0,64}:[0-9A-Za-z-]{0,64}:([a-z-]+)\/(.+)$/;

/**
 * `resourceArn` of the tagging calls: a cluster, service (`service/<cluster>/<name>`), task, container
 * instance or task definition (`task-definition/<family>:<revision>`) ARN.
 */
export function parseTaggedResourceArn(value: unknown, field = 'resourceArn'): TaggedResource {
  const fail = () =>
    bad(
      field,
      'must be the ARN of a cluster, service (service/<cluster>/<name>), task, container instance or task definition (task-definition/<family>:<revision>)',
    );
  if (typeof value !== 'string') throw fail();
  const m = RESOURCE_ARN.exec(value);
  if (!m) throw fail();
  const [, type, rest] = m as unknown as [string, string, string];
  const parts = rest.split('/');
  const named = (n: string | undefined): n is string => n !== undefined && NAME_RULE.test(n);
  switch (type) {
    case 'cluster':
      if (parts.length === 1 && named(parts[0])) return { type, cluster: parts[0] };
      break;
    case 'service':
      if (parts.length === 2 && named(parts[0]) && named(parts[1]))
        return { type, cluster: parts[0], name: parts[1] };
      break;
    case 'task':
    case 'container-instance':
      if (parts.length === 2 && named(parts[0]) && parts[1] !== undefined && UUID.test(parts[1]))
        return { type, cluster: parts[0], id: parts[1].toLowerCase() };
      break;
    case 'task-definition': {
      const td = /^([A-Za-z0-9_-]{1,255}):([1-9][0-9]{0,9})$/.exec(rest);
      if (td && Number(td[2]) <= 2 ** 31 - 1) return { type, family: td[1]!, revision: Number(td[2]) };
      break;
    }
  }
  throw fail();
}

/** What a REST route's parameters would name for the resource (request-target.ts makes the ARN). */
export function taggedResourceParams(r: TaggedResource): Record<string, string> {
  switch (r.type) {
    case 'cluster':
      return { cluster: r.cluster };
    case 'service':
      return { cluster: r.cluster, service: r.name };
    case 'task':
      return { cluster: r.cluster, task: r.id };
    case 'container-instance':
      return { cluster: r.cluster, id: r.id };
    case 'task-definition':
      return { ref: `${r.family}:${r.revision}` };
  }
}
