/**
 * The console's client of the Berth REST API, on the origin that served it. The key lives in
 * session storage (gone when the tab closes), is sent as `Authorization: Bearer`, and is never
 * put in a URL.
 */
import { ApiClient } from '@berth/api-client';

const TOKEN = 'berth.token';

export const session = {
  token: () => sessionStorage.getItem(TOKEN),
  signIn: (token: string) => sessionStorage.setItem(TOKEN, token),
  signOut: () => sessionStorage.removeItem(TOKEN),
};

const client = new ApiClient({ baseUrl: '', key: () => session.token() ?? '' });

export const api = <T>(method: string, path: string, body?: unknown) => client.call<T>(method, path, body);

export const get = <T>(path: string) => api<T>('GET', path);

/** Every page of a list (`maxResults=100`, following `nextToken`): for lists a page sums over. */
export async function getAll<K extends string, T>(path: string, field: K): Promise<Record<K, T[]>> {
  const items: T[] = [];
  let token: string | undefined;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const page = await get<Record<K, T[]> & { nextToken?: string }>(
      `${path}${sep}maxResults=100${token ? `&nextToken=${encodeURIComponent(token)}` : ''}`,
    );
    items.push(...page[field]);
    token = page.nextToken;
  } while (token);
  return { [field]: items } as Record<K, T[]>;
}

/** Reads a streamed answer (task logs) chunk by chunk until it ends or `signal` aborts. */
export async function streamText(path: string, onText: (text: string) => void, signal: AbortSignal) {
  const res = await client.stream(path, {}, signal);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    onText(value);
  }
}

/**
 * Follows a Server-Sent Events answer. EventSource cannot send an Authorization header, so this
 * reads the stream with fetch and parses its `id:` and `data:` lines itself.
 */
export async function streamEvents(
  path: string,
  onEvent: (id: string, data: string) => void,
  signal: AbortSignal,
) {
  let buffer = '';
  let id = '';
  let data: string[] = [];
  await streamText(
    path,
    (text) => {
      buffer += text;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl).replace(/\r$/, '');
        buffer = buffer.slice(nl + 1);
        if (line === '') {
          if (data.length) onEvent(id, data.join('\n'));
          data = [];
        } else if (line.startsWith('id:')) id = line.slice(3).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
    },
    signal,
  );
}

export const enc = encodeURIComponent;
/** The last part of an ARN: a task's or an instance's id, a service's name. */
export const idOf = (arn: string) => arn.slice(arn.lastIndexOf('/') + 1);
/** `family:revision` of a task definition ARN. */
export const tdOf = (arn: string) => arn.slice(arn.indexOf('task-definition/') + 16);
