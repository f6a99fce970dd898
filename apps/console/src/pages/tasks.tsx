import { lazy, Suspense, useCallback, useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router';
import { api, enc, get, idOf, streamText, tdOf } from '../api';
import { useAllowed } from '../auth';
import type { Task } from '@berth/api-client';
import {
  ConfirmButton,
  ContainerPicker,
  ErrorMessage,
  Loading,
  Status,
  time,
  VirtualTable,
  type Column,
} from '../ui';

// xterm.js is most of the console's weight: loaded only when a terminal can open.
const ExecTerminal = lazy(() => import('./exec').then((m) => ({ default: m.ExecTerminal })));

const PAGE = 100;
const STATUSES = ['RUNNING', 'STOPPED'];

/** A cluster's tasks, paged from the API as the table scrolls: thousands stay smooth. */
export function useTasks(cluster: string, filter: Record<string, string | undefined>) {
  const params = new URLSearchParams(
    Object.entries(filter).filter((e): e is [string, string] => !!e[1]),
  ).toString();
  return useInfiniteQuery({
    queryKey: ['c', cluster, 'tasks', params],
    queryFn: ({ pageParam }) =>
      get<{ tasks: Task[]; nextToken?: string }>(
        `/v1/clusters/${enc(cluster)}/tasks?maxResults=${PAGE}${params ? `&${params}` : ''}${pageParam ? `&nextToken=${enc(pageParam)}` : ''}`,
      ),
    initialPageParam: '',
    getNextPageParam: (last) => last.nextToken,
  });
}

export function taskColumns(cluster: string): Column<Task>[] {
  return [
    {
      header: 'Task',
      cell: (t) => <Link to={`/clusters/${enc(cluster)}/tasks/${idOf(t.taskArn)}`}>{idOf(t.taskArn)}</Link>,
      width: '22rem',
    },
    { header: 'Last status', cell: (t) => <Status value={t.lastStatus} /> },
    { header: 'Desired', cell: (t) => t.desiredStatus },
    { header: 'Health', cell: (t) => t.healthStatus ?? '–' },
    { header: 'Task definition', cell: (t) => tdOf(t.taskDefinitionArn) },
    { header: 'Group', cell: (t) => t.group ?? '–' },
    { header: 'Started', cell: (t) => time(t.startedAt) },
  ];
}

export function TasksPage() {
  const { cluster } = useParams() as { cluster: string };
  const [search, setSearch] = useSearchParams();
  const service = search.get('service') ?? undefined;
  const status = search.get('status') ?? 'RUNNING';
  const can = useAllowed(cluster);
  const q = useTasks(cluster, { serviceName: service, desiredStatus: status });
  const rows = useMemo(() => q.data?.pages.flatMap((p) => p.tasks) ?? [], [q.data]);
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = q;
  const loadMore = useCallback(() => {
    if (hasNextPage && !isFetchingNextPage) void fetchNextPage();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage]);
  return (
    <>
      <h1>Tasks{service ? ` of service ${service}` : ''}</h1>
      <div className="row">
        <label>
          Desired status{' '}
          <select
            value={status}
            onChange={(e) => {
              const next = new URLSearchParams(search);
              next.set('status', e.target.value);
              setSearch(next);
            }}
          >
            {STATUSES.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        <span>
          {rows.length}
          {q.hasNextPage ? '+' : ''} tasks
        </span>
      </div>
      {can('ecs:RunTask') && <RunTask cluster={cluster} />}
      <ErrorMessage error={q.error} />
      {q.isPending ? (
        <Loading what="tasks" />
      ) : (
        <VirtualTable
          label="Tasks"
          rows={rows}
          columns={taskColumns(cluster)}
          rowKey={(t) => t.taskArn}
          hasMore={q.hasNextPage}
          loadMore={loadMore}
        />
      )}
    </>
  );
}

function RunTask({ cluster }: { cluster: string }) {
  const [taskDefinition, setTaskDefinition] = useState('');
  const client = useQueryClient();
  const navigate = useNavigate();
  const m = useMutation({
    mutationFn: () =>
      api<{ tasks: Task[]; failures: { reason: string }[] }>('POST', `/v1/clusters/${enc(cluster)}/tasks`, {
        taskDefinition,
      }),
    onSuccess: async (r) => {
      await client.invalidateQueries({ queryKey: ['c', cluster] });
      if (r.tasks[0]) await navigate(`/clusters/${enc(cluster)}/tasks/${idOf(r.tasks[0].taskArn)}`);
    },
  });
  return (
    <form
      className="inline-form"
      aria-label="Run a task"
      onSubmit={(e: FormEvent) => {
        e.preventDefault();
        m.mutate();
      }}
    >
      <label>
        Task definition{' '}
        <input
          name="runTaskDefinition"
          required
          value={taskDefinition}
          onChange={(e) => setTaskDefinition(e.target.value)}
        />
      </label>
      <button type="submit" disabled={m.isPending}>
        Run task
      </button>
      {m.data?.failures.map((f) => (
        <p role="alert" className="error" key={f.reason}>
          {f.reason}
        </p>
      ))}
      <ErrorMessage error={m.error} />
    </form>
  );
}

export function TaskPage() {
  const { cluster, task } = useParams() as { cluster: string; task: string };
  const can = useAllowed(cluster);
  const client = useQueryClient();
  const base = `/v1/clusters/${enc(cluster)}/tasks/${enc(task)}`;
  const q = useQuery({ queryKey: ['c', cluster, 'task', task], queryFn: () => get<{ task: Task }>(base) });
  if (q.error) return <ErrorMessage error={q.error} />;
  if (!q.data) return <Loading what="the task" />;
  const t = q.data.task;
  return (
    <>
      <h1>Task {task}</h1>
      <dl className="facts">
        <dt>Last status</dt>
        <dd>
          <Status value={t.lastStatus} />
        </dd>
        <dt>Desired status</dt>
        <dd>{t.desiredStatus}</dd>
        <dt>Health</dt>
        <dd>{t.healthStatus ?? '–'}</dd>
        <dt>Task definition</dt>
        <dd>{tdOf(t.taskDefinitionArn)}</dd>
        <dt>Container instance</dt>
        <dd>
          {t.containerInstanceArn ? (
            <Link to={`/clusters/${enc(cluster)}/instances/${idOf(t.containerInstanceArn)}`}>
              {idOf(t.containerInstanceArn)}
            </Link>
          ) : (
            '–'
          )}
        </dd>
        <dt>Group</dt>
        <dd>{t.group ?? '–'}</dd>
        <dt>Stop code</dt>
        <dd>{t.stopCode ?? '–'}</dd>
        <dt>Stopped reason</dt>
        <dd>{t.stoppedReason ?? '–'}</dd>
        <dt>Started</dt>
        <dd>{time(t.startedAt)}</dd>
      </dl>
      {t.desiredStatus !== 'STOPPED' && can('ecs:StopTask') && (
        <ConfirmButton
          danger
          label="Stop task"
          title={`Stop task ${task}?`}
          description="Its containers get SIGTERM, then SIGKILL after their stop timeout. A service replaces it."
          confirm="Stop"
          action={async () => {
            await api('POST', `${base}/stop`, { reason: 'Stopped from the console' });
            await client.invalidateQueries({ queryKey: ['c', cluster] });
          }}
        />
      )}
      <h2>Containers</h2>
      <table>
        <caption className="sr-only">Containers</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Image</th>
            <th scope="col">Last status</th>
            <th scope="col">Exit code</th>
            <th scope="col">Reason</th>
            <th scope="col">Health</th>
            <th scope="col">Network bindings</th>
          </tr>
        </thead>
        <tbody>
          {t.containers.map((c) => (
            <tr key={c.name}>
              <td>{c.name}</td>
              <td>{c.image}</td>
              <td>
                <Status value={c.lastStatus} />
              </td>
              <td>{c.exitCode ?? '–'}</td>
              <td>{c.reason ?? '–'}</td>
              <td>{c.healthStatus ?? '–'}</td>
              <td>
                {c.networkBindings.map((b) => (
                  <div key={`${b.bindIP}:${b.hostPort}`}>
                    <a href={`http://${b.bindIP}:${b.hostPort}/`} target="_blank" rel="noreferrer">
                      {b.bindIP}:{b.hostPort}
                    </a>{' '}
                    → {b.containerPort}
                  </div>
                ))}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <Logs base={base} containers={t.containers.map((c) => c.name)} />
      {t.lastStatus === 'RUNNING' && t.enableExecuteCommand && can('ecs:ExecuteCommand') && (
        <Suspense fallback={<Loading what="the terminal" />}>
          <ExecTerminal base={base} containers={t.containers.map((c) => c.name)} />
        </Suspense>
      )}
    </>
  );
}

const MAX_LINES = 5000;

/** A container's log: the last 1000 lines, then new ones while "Follow" is on; searchable. */
function Logs({ base, containers }: { base: string; containers: string[] }) {
  const [container, setContainer] = useState(containers[0]!);
  const [follow, setFollow] = useState(false);
  const [filter, setFilter] = useState('');
  const [lines, setLines] = useState<string[]>([]);
  const [error, setError] = useState<unknown>(null);
  const pre = useRef<HTMLPreElement>(null);
  useEffect(() => {
    const abort = new AbortController();
    let partial = '';
    setLines([]);
    setError(null);
    streamText(
      `${base}/logs?container=${enc(container)}&tail=1000${follow ? '&follow=true' : ''}`,
      (text) => {
        const parts = (partial + text).split('\n');
        partial = parts.pop()!;
        if (parts.length) setLines((l) => [...l, ...parts].slice(-MAX_LINES));
      },
      abort.signal,
    ).then(
      () => partial && setLines((l) => [...l, partial]),
      (e: unknown) => !abort.signal.aborted && setError(e),
    );
    return () => abort.abort();
  }, [base, container, follow]);
  useEffect(() => {
    if (follow && pre.current) pre.current.scrollTop = pre.current.scrollHeight;
  }, [lines, follow]);
  const shown = filter ? lines.filter((l) => l.toLowerCase().includes(filter.toLowerCase())) : lines;
  return (
    <section aria-labelledby="logs-title">
      <h2 id="logs-title">Logs</h2>
      <div className="row">
        <ContainerPicker containers={containers} value={container} onChange={setContainer} />
        <label className="check">
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} /> Follow
        </label>
        <label>
          Search <input type="search" value={filter} onChange={(e) => setFilter(e.target.value)} />
        </label>
        <span>
          {shown.length} of {lines.length} lines
        </span>
      </div>
      <ErrorMessage error={error} />
      <pre ref={pre} className="logs" role="log" tabIndex={0} aria-label="Log lines" data-testid="logs">
        {shown.join('\n')}
      </pre>
    </section>
  );
}
