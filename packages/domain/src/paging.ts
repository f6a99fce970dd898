import { z } from 'zod';
import { InvalidParameterError } from './errors.js';
import { parseMaxResults } from './request-input.js';

/**
 * Paging for every list call, as ECS pages: `maxResults` (1-100) and an opaque `nextToken` that
 * the previous page returned. A token is the last row's sort key as base64url JSON; decoding
 * checks it against the key's schema, so a forged or garbled token is a 400, never a query.
 */

export const MAX_PAGE_SIZE = 100;

export interface PageRequest<C> {
  limit: number;
  /** The sort key of the last row of the previous page; absent on the first page. */
  after?: C;
}

const badToken = () =>
  new InvalidParameterError('nextToken: is not a token that this list returned', 'nextToken');

export function parsePage<C>(
  query: { maxResults?: string; nextToken?: string },
  cursor: z.ZodType<C>,
  defaultLimit = MAX_PAGE_SIZE,
): PageRequest<C> {
  const limit = parseMaxResults(query.maxResults, MAX_PAGE_SIZE, defaultLimit);
  if (query.nextToken === undefined) return { limit };
  if (!/^[A-Za-z0-9_-]{1,2048}$/.test(query.nextToken)) throw badToken();
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(query.nextToken, 'base64url').toString('utf8'));
  } catch {
    throw badToken();
  }
  const after = cursor.safeParse(decoded);
  if (!after.success) throw badToken();
  return { limit, after: after.data };
}

/** The token for the page after `rows`, or undefined when `rows` is the last page. */
export function nextPageToken<T, C>(
  rows: readonly T[],
  limit: number,
  cursorOf: (last: T) => C,
): string | undefined {
  const last = rows.at(-1);
  if (rows.length < limit || last === undefined) return undefined;
  return Buffer.from(JSON.stringify(cursorOf(last))).toString('base64url');
}

const name = z.string().regex(/^[A-Za-z0-9_.:-]{1,255}$/);
const id = z.guid();

/** The sort keys lists page by, as tokens carry them. */
export const cursors = {
  id,
  /** Cluster, service, registry names: unique within what is listed. */
  name,
  /** Newest-first lists: a time and the id that breaks ties. */
  timeAndId: z.tuple([z.iso.datetime(), id]),
  /** ListAttributes: an instance (registration time and id) and one of its attribute names. */
  instanceAttribute: z.tuple([z.iso.datetime(), id, z.string().regex(/^[A-Za-z0-9_.-]{1,128}$/)]),
  familyRevision: z.tuple([
    name,
    z
      .int()
      .min(1)
      .max(2 ** 31 - 1),
  ]),
};
