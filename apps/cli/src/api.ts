import type { Connection } from './connection.js';

/** A refusal or failure of the API, with its ECS-style error code and message as sent. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** A thin client of Berth's REST API. */
export class BerthApi {
  constructor(private readonly connection: Connection) {}

  get endpoint() {
    return this.connection.endpoint;
  }

  get headers(): Record<string, string> {
    return { authorization: `Bearer ${this.connection.token}` };
  }

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.connection.endpoint}${path}`, {
        method,
        headers: { ...this.headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw new ApiError(
        0,
        'ConnectionError',
        `cannot reach ${this.connection.endpoint}: ${(err as Error).message}`,
      );
    }
    if (!res.ok) throw await errorOf(res);
    const text = await res.text();
    return (text ? JSON.parse(text) : {}) as T;
  }

  /**
   * A streaming GET (logs, events): the response once its status is known, its body unread.
   * A refusal is an ApiError with the API's message, as for call().
   */
  async stream(path: string, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(`${this.connection.endpoint}${path}`, {
        headers: { ...this.headers, ...headers },
        signal,
      });
    } catch (err) {
      throw new ApiError(
        0,
        'ConnectionError',
        `cannot reach ${this.connection.endpoint}: ${(err as Error).message}`,
      );
    }
    if (!res.ok) throw await errorOf(res);
    return res;
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

/** The API's error body ({error, message}) as an ApiError; any other body as the message. */
async function errorOf(res: Response): Promise<ApiError> {
  const text = await res.text();
  try {
    const e = JSON.parse(text) as { error?: string; message?: string };
    return new ApiError(res.status, e.error ?? `HTTP${res.status}`, e.message ?? text);
  } catch {
    return new ApiError(res.status, `HTTP${res.status}`, text);
  }
}
