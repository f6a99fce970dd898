/** Fields whose values no audit row holds, whatever the route: passwords and key secrets. */
export const ALWAYS_REDACTED = ['password', 'secretAccessKey'];
export const REDACTED = '[redacted]';

/**
 * A copy of a request's parameters for the audit log, with the values of the named fields (at any
 * depth) replaced, so a secret sent in a request never reaches the log.
 */
export function redactParameters(value: unknown, fields: readonly string[]): unknown {
  if (Array.isArray(value)) return value.map((v) => redactParameters(v, fields));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, fields.includes(k) ? REDACTED : redactParameters(v, fields)]),
  );
}
