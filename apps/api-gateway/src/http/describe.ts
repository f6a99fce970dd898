import { parseName, parseResourceId } from '@berth/domain';

/**
 * Helpers for the Describe* calls that take a list of references (names, ids or ARNs) and answer
 * with what they found and the references that name nothing (ECS's `failures`, reason MISSING).
 */

/** The id a task or container instance reference names, or undefined if it is not one. */
export function validId(ref: string, kind: 'task' | 'container-instance'): string | undefined {
  try {
    return parseResourceId(ref, kind, kind);
  } catch {
    return undefined;
  }
}

/** The name a cluster or service reference names, or undefined if it is not one. */
export function validName(ref: string, kind: 'cluster' | 'service'): string | undefined {
  try {
    return parseName(ref, kind, kind);
  } catch {
    return undefined;
  }
}

/** The rows found for each reference, in the order asked, and the references without one. */
export function splitFound<T>(
  keys: ReadonlyMap<string, string | undefined>,
  rows: ReadonlyMap<string, T>,
): { found: T[]; missing: string[] } {
  const found: T[] = [];
  const missing: string[] = [];
  for (const [ref, key] of keys) {
    const row = key === undefined ? undefined : rows.get(key);
    if (row) found.push(row);
    else missing.push(ref);
  }
  return { found, missing };
}
