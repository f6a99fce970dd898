/**
 * One client of Berth's REST API for the console (in the browser, same origin) and the CLI (in
 * Node, a configured endpoint): the access key as `Authorization: Bearer`, JSON bodies, and an
 * error answer as an ApiError with the API's code and message. The apps have always reported
 * answers that are not the API's own a little differently; the options keep each app's way.
 */

/** A refusal or failure of the API, with its error code and message as the API wrote them. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface ApiClientOptions {
  /** Put before every path: '' for the origin that served the page, else `https://host:port`. */
  baseUrl: string;
  /** The access key, read at every request (the console's changes at sign-in and sign-out). */
  key: () => string;
  /** The code of an error answer that names none (a proxy's page, say); by default its status. */
  codeOf?: (status: number) => string;
  /** The message of an error answer with an empty body; by default its status text. */
  emptyMessage?: (statusText: string) => string;
  /** The error for a request that got no answer (refused, reset, aborted); by default fetch's own. */
  unreachable?: (err: Error) => Error;
  /** What a 2xx answer with an empty body reads as; by default it fails, as any non-JSON body. */
  emptyAnswer?: () => unknown;
  /** The fetch to use: the global one unless a test passes its own. */
  fetch?: typeof fetch;
}

export class ApiClient {
  private readonly fetch: typeof fetch;

  constructor(private readonly options: ApiClientOptions) {
    // Called bare, never as a method of `options`: the browser's fetch refuses another `this`.
    this.fetch = options.fetch ?? ((input, init) => fetch(input, init));
  }

  /** A request with an optional JSON body; resolves to the answer's JSON. */
  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.send(path, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    const { emptyAnswer } = this.options;
    return (text === '' && emptyAnswer ? emptyAnswer() : JSON.parse(text)) as T;
  }

  /**
   * A streaming GET (logs, events): the answer once its status is known, its body unread. A
   * refusal is an ApiError with the API's message, as for call().
   */
  stream(path: string, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<Response> {
    return this.send(path, { headers, signal });
  }

  private async send(path: string, init: RequestInit & { headers: Record<string, string> }) {
    const { baseUrl, key, unreachable } = this.options;
    let res: Response;
    try {
      res = await this.fetch(`${baseUrl}${path}`, {
        ...init,
        headers: { authorization: `Bearer ${key()}`, ...init.headers },
      });
    } catch (err) {
      throw unreachable ? unreachable(err as Error) : err;
    }
    if (!res.ok) throw await this.failure(res);
    return res;
  }

  /** The API's error body (`{error, message}`; `__type` is the ECS protocol's name) as an ApiError. */
  private async failure(res: Response): Promise<ApiError> {
    const { codeOf = String, emptyMessage = (statusText: string) => statusText } = this.options;
    const text = await res.text();
    try {
      const body = JSON.parse(text) as { error?: string; __type?: string; message?: string };
      return new ApiError(res.status, body.error ?? body.__type ?? codeOf(res.status), body.message ?? text);
    } catch {
      // Not JSON (a proxy's page, an empty body), or JSON that is no object (`null`).
      return new ApiError(res.status, codeOf(res.status), text || emptyMessage(res.statusText));
    }
  }
}
