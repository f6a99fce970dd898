import { ApiClient, ApiError, type ApiClientOptions } from './client.js';

interface Sent {
  url: string;
  init: RequestInit;
}

/** A client over a fake fetch that answers `answer` and records what was sent. */
function client(answer: () => Response | Promise<Response>, options: Partial<ApiClientOptions> = {}) {
  const sent: Sent[] = [];
  const api = new ApiClient({
    baseUrl: 'http://127.0.0.1:8080',
    key: () => 'k-1',
    fetch: async (input, init = {}) => {
      sent.push({ url: String(input), init });
      return answer();
    },
    ...options,
  });
  return { api, sent };
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected a refusal');
    },
    (err: unknown) => err,
  );

describe('ApiClient.call', () => {
  test('sends the key as a Bearer token to baseUrl + path, the body as JSON, and reads the JSON answer', async () => {
    const { api, sent } = client(() => json(200, { service: { serviceName: 'web' } }));
    const answer = await api.call<{ service: { serviceName: string } }>(
      'PATCH',
      '/v1/clusters/c/services/web',
      {
        desiredCount: 2,
      },
    );
    expect(answer).toEqual({ service: { serviceName: 'web' } });
    expect(sent).toEqual([
      {
        url: 'http://127.0.0.1:8080/v1/clusters/c/services/web',
        init: {
          method: 'PATCH',
          headers: { authorization: 'Bearer k-1', 'content-type': 'application/json' },
          body: '{"desiredCount":2}',
        },
      },
    ]);
  });

  test('a request without a body has no content-type; the key is read at each request', async () => {
    let key = 'first';
    const { api, sent } = client(() => json(200, {}), { baseUrl: '', key: () => key });
    await api.call('GET', '/v1/clusters');
    key = 'second';
    await api.call('GET', '/v1/clusters');
    expect(sent.map((s) => [s.url, s.init.headers])).toEqual([
      ['/v1/clusters', { authorization: 'Bearer first' }],
      ['/v1/clusters', { authorization: 'Bearer second' }],
    ]);
  });

  test.each([
    {
      name: 'the API error body: its code and message',
      answer: () => json(404, { error: 'ServiceNotFoundException', message: 'Service web not found.' }),
      want: [404, 'ServiceNotFoundException', 'Service web not found.'],
    },
    {
      name: 'an ECS protocol body: __type is the code',
      answer: () => json(400, { __type: 'ClientException', message: 'bad' }),
      want: [400, 'ClientException', 'bad'],
    },
    {
      name: 'JSON without a code or message: the status and the body',
      answer: () => json(500, { oops: true }),
      want: [500, '500', '{"oops":true}'],
    },
    {
      name: 'JSON that is no object: the status and the body',
      answer: () => json(502, null),
      want: [502, '502', 'null'],
    },
    {
      name: "a proxy's page: the status and the page",
      answer: () => new Response('<h1>Bad gateway</h1>', { status: 502 }),
      want: [502, '502', '<h1>Bad gateway</h1>'],
    },
    {
      name: 'an empty body: the status and its status text',
      answer: () => new Response(null, { status: 503, statusText: 'Service Unavailable' }),
      want: [503, '503', 'Service Unavailable'],
    },
  ])('an error answer is an ApiError: $name', async ({ answer, want }) => {
    const err = await refusal(client(answer).api.call('GET', '/v1/clusters'));
    expect(err).toBeInstanceOf(ApiError);
    const { status, code, message } = err as ApiError;
    expect([status, code, message]).toEqual(want);
  });

  test('codeOf and emptyMessage change how an answer that is not the API error body reads', async () => {
    const options = { codeOf: (s: number) => `HTTP${s}`, emptyMessage: () => '' };
    const page = await refusal(
      client(() => new Response('down', { status: 502 }), options).api.call('GET', '/'),
    );
    expect(page).toEqual(new ApiError(502, 'HTTP502', 'down'));
    expect((page as ApiError).code).toBe('HTTP502');
    const empty = (await refusal(
      client(() => new Response(null, { status: 503, statusText: 'Service Unavailable' }), options).api.call(
        'GET',
        '/',
      ),
    )) as ApiError;
    expect([empty.code, empty.message]).toEqual(['HTTP503', '']);
    const coded = (await refusal(
      client(() => json(409, { error: 'ConflictException', message: 'busy' }), options).api.call('GET', '/'),
    )) as ApiError;
    expect([coded.code, coded.message]).toEqual(['ConflictException', 'busy']);
  });

  test("no answer: fetch's own error, or what unreachable makes of it", async () => {
    const down = () => Promise.reject(new TypeError('fetch failed'));
    const plain = await refusal(client(down).api.call('GET', '/v1/clusters'));
    expect(plain).toEqual(new TypeError('fetch failed'));
    expect(plain).not.toBeInstanceOf(ApiError);
    const wrapped = (await refusal(
      client(down, {
        unreachable: (err) => new ApiError(0, 'ConnectionError', `cannot reach it: ${err.message}`),
      }).api.call('GET', '/v1/clusters'),
    )) as ApiError;
    expect([wrapped.status, wrapped.code, wrapped.message]).toEqual([
      0,
      'ConnectionError',
      'cannot reach it: fetch failed',
    ]);
  });

  test('a 2xx answer that is not JSON fails; an empty one reads as emptyAnswer if given', async () => {
    await expect(client(() => new Response('<html>')).api.call('GET', '/')).rejects.toThrow(SyntaxError);
    await expect(client(() => new Response(null)).api.call('GET', '/')).rejects.toThrow(SyntaxError);
    await expect(
      client(() => new Response(null), { emptyAnswer: () => ({}) }).api.call('GET', '/'),
    ).resolves.toEqual({});
  });
});

describe('ApiClient.stream', () => {
  test('answers the response unread, with the extra headers and the signal sent', async () => {
    const { api, sent } = client(() => new Response('line 1\nline 2\n'));
    const abort = new AbortController();
    const res = await api.stream('/v1/events', { 'last-event-id': '7' }, abort.signal);
    expect(await res.text()).toBe('line 1\nline 2\n');
    expect(sent[0]!.init.headers).toEqual({ authorization: 'Bearer k-1', 'last-event-id': '7' });
    expect(sent[0]!.init.signal).toBe(abort.signal);
  });

  test('a refusal is an ApiError, as for call', async () => {
    const err = await refusal(
      client(() => json(403, { error: 'AccessDeniedException', message: 'not allowed' })).api.stream(
        '/v1/events',
      ),
    );
    expect(err).toEqual(new ApiError(403, 'AccessDeniedException', 'not allowed'));
    expect((err as ApiError).code).toBe('AccessDeniedException');
  });
});
