import { createContext, useContext, useEffect, useState, type ReactNode } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { enc, streamEvents } from './api';
import { touched } from './invalidation';
import type { BerthEvent } from '@berth/api-client';

const KEEP = 200;
const Recent = createContext<BerthEvent[]>([]);

/** The events seen on this cluster's stream since the page opened, newest first. */
export const useRecentEvents = () => useContext(Recent);

/**
 * Follows the cluster's event stream (GET /v1/events?follow=true, SSE) while its pages are open,
 * and refreshes what the events say changed, at most once a second: the pages never poll. After
 * a broken connection it resumes from the last event id it saw.
 */
export function ClusterEvents({ cluster, children }: { cluster: string; children: ReactNode }) {
  const client = useQueryClient();
  const [events, setEvents] = useState<BerthEvent[]>([]);
  useEffect(() => {
    const abort = new AbortController();
    let last = '';
    const stale = new Map<string, readonly string[]>();
    const flush = setInterval(() => {
      for (const key of stale.values()) void client.invalidateQueries({ queryKey: key });
      stale.clear();
    }, 1000);
    const follow = async () => {
      while (!abort.signal.aborted) {
        try {
          await streamEvents(
            `/v1/events?cluster=${enc(cluster)}&follow=true${last ? `&after=${enc(last)}` : ''}`,
            (id, data) => {
              last = id;
              const event = JSON.parse(data) as BerthEvent;
              for (const key of touched(cluster, event)) stale.set(key.join('\u0000'), key);
              setEvents((list) => [event, ...list].slice(0, KEEP));
            },
            abort.signal,
          );
        } catch {
          // The stream broke (a gateway restart, a network blip): try again shortly.
        }
        await new Promise((r) => setTimeout(r, 1000));
      }
    };
    void follow();
    return () => {
      abort.abort();
      clearInterval(flush);
    };
  }, [client, cluster]);
  return <Recent.Provider value={events}>{children}</Recent.Provider>;
}
