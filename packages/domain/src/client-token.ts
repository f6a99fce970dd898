import { createHash } from 'node:crypto';
import { z } from 'zod';
import { InvalidParameterError } from './errors.js';

/** ECS's clientToken: up to `max` printable ASCII characters (64 for RunTask, 36 for CreateService). */
export const clientTokenSchema = (max: number) =>
  z
    .string({ error: `must be a string of 1-${max} ASCII characters` })
    .regex(new RegExp(`^[\\x20-\\x7e]{1,${max}}$`), { error: `must be 1-${max} printable ASCII characters` });

/** Sorted keys, so that the same parameters in another order hash the same. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
  );
}

/** A hash of a call's validated parameters, the token itself left out. */
export function requestHash(input: Record<string, unknown>): string {
  return createHash('sha256')
    .update(JSON.stringify(canonical({ ...input, clientToken: undefined })))
    .digest('hex');
}

/**
 * A second call with a token answers with what the first created, but only if it asks for the
 * same thing: the same token with other parameters is a mistake the caller must hear about.
 */
export function checkClientTokenReuse(stored: { requestHash: string }, hash: string): void {
  if (stored.requestHash !== hash) {
    throw new InvalidParameterError(
      'clientToken: was already used with other parameters; use a new token for a new request',
      'clientToken',
    );
  }
}
