import { useCallback, useMemo, useState, type FormEvent } from 'react';
import { useInfiniteQuery } from '@tanstack/react-query';
import { useSearchParams } from 'react-router';
import { enc, get } from '../api';
import type { AuditEvent } from '../types';
import { ErrorMessage, Loading, time, VirtualTable } from '../ui';

const FILTERS = ['action', 'accessKeyId', 'outcome', 'resource'] as const;

/** The audit log, newest first, filtered by what the URL says (so a filtered view can be shared). */
export function AuditPage() {
  const [search, setSearch] = useSearchParams();
  const query = FILTERS.filter((f) => search.get(f))
    .map((f) => `&${f}=${enc(search.get(f)!)}`)
    .join('');
  const [draft, setDraft] = useState(() => Object.fromEntries(FILTERS.map((f) => [f, search.get(f) ?? ''])));
  const q = useInfiniteQuery({
    queryKey: ['audit', query],
    queryFn: ({ pageParam }) =>
      get<{ auditEvents: AuditEvent[]; nextToken?: string }>(
        `/v1/audit-events?maxResults=100${query}${pageParam ? `&nextToken=${enc(pageParam)}` : ''}`,
      ),
    initialPageParam: '',
    getNextPageParam: (last) => last.nextToken,
  });
  const rows = useMemo(() => q.data?.pages.flatMap((p) => p.auditEvents) ?? [], [q.data]);
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = q;
  const loadMore = useCallback(() => {
    if (hasNextPage && !isFetchingNextPage) void fetchNextPage();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage]);
  const apply = (e: FormEvent) => {
    e.preventDefault();
    setSearch(Object.fromEntries(Object.entries(draft).filter(([, v]) => v)));
  };
  return (
    <>
      <h1>Audit log</h1>
      <form className="inline-form" onSubmit={apply} aria-label="Filter the audit log">
        {FILTERS.map((f) => (
          <label key={f}>
            {f} <input value={draft[f]} onChange={(e) => setDraft({ ...draft, [f]: e.target.value })} />
          </label>
        ))}
        <button type="submit">Filter</button>
      </form>
      <ErrorMessage error={q.error} />
      {q.isPending ? (
        <Loading what="the audit log" />
      ) : (
        <VirtualTable
          label="Audit events"
          rows={rows}
          rowKey={(e) => e.id}
          hasMore={q.hasNextPage}
          loadMore={loadMore}
          columns={[
            { header: 'Time', cell: (e) => time(e.eventTime) },
            { header: 'Action', cell: (e) => e.action },
            { header: 'Outcome', cell: (e) => `${e.outcome} (${e.statusCode})` },
            { header: 'Key', cell: (e) => e.accessKeyId ?? '–' },
            { header: 'Resource', cell: (e) => <span className="wrap">{e.resource}</span> },
            { header: 'Error', cell: (e) => e.errorCode ?? '' },
          ]}
        />
      )}
    </>
  );
}
