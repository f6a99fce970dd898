import { ApiClient, ApiError } from '@berth/api-client';
import type { Connection } from './connection.js';

/**
 * A thin client of Berth's REST API at the configured endpoint. An unreachable endpoint is an
 * ApiError too (`ConnectionError`), and an answer that is not the API's error body is coded by
 * its status (`HTTP502`), its body as the message.
 */
export class BerthApi extends ApiClient {
  constructor(connection: Connection) {
    super({
      baseUrl: connection.endpoint,
      key: () => connection.token,
      codeOf: (status) => `HTTP${status}`,
      emptyMessage: () => '',
      unreachable: (err) =>
        new ApiError(0, 'ConnectionError', `cannot reach ${connection.endpoint}: ${err.message}`),
      emptyAnswer: () => ({}),
    });
  }

  /** Every page of a paged list: `key` names the array in each page. */
  async all<T>(path: string, key: string): Promise<T[]> {
    const out: T[] = [];
    let nextToken: string | undefined;
    do {
      const sep = path.includes('?') ? '&' : '?';
      const page = await this.call<Record<string, unknown>>(
        'GET',
        nextToken ? `${path}${sep}nextToken=${encodeURIComponent(nextToken)}` : path,
      );
      out.push(...((page[key] as T[] | undefined) ?? []));
      nextToken = typeof page.nextToken === 'string' ? page.nextToken : undefined;
    } while (nextToken);
    return out;
  }
}
