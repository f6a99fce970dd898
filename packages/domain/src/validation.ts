import { z } from 'zod';
import { InvalidParameterError } from './errors.js';

/** ECS's rule for cluster, service and task definition family names. */
export const NAME_RULE = /^[A-Za-z0-9_-]{1,255}$/;

/** `containerDefinitions[1].portMappings[0].hostPort` from zod's path array. */
export function jsonPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out;
}

/**
 * Parses `input` with `schema`; on failure throws an InvalidParameterError naming the first bad
 * field and the rule it broke, so the API answers 400 with a message a person can act on.
 */
export function parseOrThrow<T extends z.ZodType>(schema: T, input: unknown, root = ''): z.output<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = jsonPath(root ? [root, ...issue.path] : issue.path);
  throw new InvalidParameterError(field ? `${field}: ${issue.message}` : issue.message, field || undefined);
}

export const positiveInt = (what: string) =>
  z
    .int({ error: `must be a positive integer (${what})` })
    .positive({ error: `must be a positive integer (${what})` });

/** The JSON Schema of what a request schema accepts, for the OpenAPI document. */
export function toJsonSchema(schema: z.ZodType): Record<string, unknown> {
  return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}
