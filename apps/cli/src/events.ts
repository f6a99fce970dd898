import { createParser } from 'eventsource-parser';
import type { BerthEvent } from '@berth/api-client';
import type { BerthApi } from './api.js';
import { lastPart } from './views.js';

/**
 * `berth events`: the cluster's state changes as ECS EventBridge events (GET /v1/events), one
 * line each; with --watch, followed over Server-Sent Events and resumed from the last id after a
 * dropped connection, so nothing is missed or shown twice.
 */

const str = (v: unknown) => (typeof v === 'string' ? v : '');

/** One line for an event: its time, what changed, and the change. */
export function eventLine(e: BerthEvent): string {
  const d = e.detail;
  const time = e.time.slice(11, 19);
  switch (e['detail-type']) {
    case 'ECS Task State Change': {
      const reason = str(d.stoppedReason);
      return `${time}  task ${lastPart(str(d.taskArn))} (${lastPart(str(d.taskDefinitionArn))})  ${str(d.lastStatus)}, desired ${str(d.desiredStatus)}${reason ? `: ${reason}` : ''}`;
    }
    case 'ECS Container Instance State Change':
      return `${time}  instance ${lastPart(str(d.containerInstanceArn))}  ${str(d.status)}, agent ${d.agentConnected ? 'connected' : 'disconnected'}`;
    case 'ECS Deployment State Change':
    case 'ECS Service Action': {
      const reason = str(d.reason);
      return `${time}  service ${lastPart(e.resources?.[0] ?? '')}  ${str(d.eventName)}${str(d.deploymentId) ? ` ${str(d.deploymentId)}` : ''}${reason ? `: ${reason}` : ''}`;
    }
    default:
      return `${time}  ${e['detail-type']}  ${(e.resources ?? []).map(lastPart).join(' ')}`;
  }
}

/** Prints the latest events (a page), or follows them until interrupted. */
export async function showEvents(
  api: BerthApi,
  opts: { cluster?: string; watch: boolean; after?: string; json: boolean },
  out: (line: string) => void,
): Promise<void> {
  const print = (e: BerthEvent) => out(opts.json ? JSON.stringify(e) : eventLine(e));
  const query = new URLSearchParams();
  if (opts.cluster) query.set('cluster', opts.cluster);
  if (!opts.watch) {
    if (opts.after) query.set('after', opts.after);
    const page = await api.call<{ events: BerthEvent[] }>('GET', `/v1/events?${query.toString()}`);
    page.events.forEach(print);
    return;
  }
  query.set('follow', 'true');
  let last = opts.after;
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await api.stream(`/v1/events?${query.toString()}`, last ? { 'last-event-id': last } : {});
      attempt = 0;
      const parser = createParser({
        onEvent: (m) => {
          if (!m.data) return;
          const e = JSON.parse(m.data) as BerthEvent;
          last = m.id ?? e.id;
          print(e);
        },
      });
      const decoder = new TextDecoder();
      for await (const chunk of res.body!) parser.feed(decoder.decode(chunk as Uint8Array, { stream: true }));
    } catch (err) {
      // A refusal is final; a dropped connection is retried from the last event seen.
      if ((err as { status?: number }).status) throw err;
    }
    await new Promise((r) => setTimeout(r, Math.min(5000, 250 * 2 ** attempt)));
  }
}
