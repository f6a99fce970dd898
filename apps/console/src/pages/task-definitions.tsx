import { useMemo, useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useParams, useSearchParams } from 'react-router';
import { api, enc, getAll } from '../api';
import { useAllowed } from '../auth';
import { canonicalJson, diffLines } from '../diff';
import type { TaskDefinition } from '../types';
import { ConfirmButton, ErrorMessage, Loading, Status, time } from '../ui';

const list = (query: string) =>
  getAll<'taskDefinitions', TaskDefinition>(`/v1/task-definitions?${query}`, 'taskDefinitions');

/** What makes a revision: the stored fields without its identity and times. */
const body = (td: TaskDefinition) => {
  const rest: Record<string, unknown> = { ...td };
  for (const k of ['taskDefinitionArn', 'revision', 'status', 'registeredAt', 'deregisteredAt'])
    delete rest[k];
  return rest;
};

export function TaskDefinitionsPage() {
  const can = useAllowed();
  const q = useQuery({ queryKey: ['task-definitions'], queryFn: () => list('status=ACTIVE') });
  const families = useMemo(() => {
    const latest = new Map<string, TaskDefinition>();
    for (const td of q.data?.taskDefinitions ?? [])
      if ((latest.get(td.family)?.revision ?? 0) < td.revision) latest.set(td.family, td);
    return [...latest.values()].sort((a, b) => a.family.localeCompare(b.family));
  }, [q.data]);
  return (
    <>
      <div className="row spread">
        <h1>Task definitions</h1>
        {can('ecs:RegisterTaskDefinition') && (
          <Link className="button primary" to="/task-definitions/new">
            Register a revision
          </Link>
        )}
      </div>
      <ErrorMessage error={q.error} />
      {q.isPending && <Loading what="task definitions" />}
      <table>
        <caption className="sr-only">Task definition families</caption>
        <thead>
          <tr>
            <th scope="col">Family</th>
            <th scope="col">Latest active revision</th>
            <th scope="col">Containers</th>
            <th scope="col">Registered</th>
          </tr>
        </thead>
        <tbody>
          {families.map((td) => (
            <tr key={td.family}>
              <td>
                <Link to={`/task-definitions/${enc(td.family)}`}>{td.family}</Link>
              </td>
              <td>{td.revision}</td>
              <td>{td.containerDefinitions.map((c) => `${c.name} (${c.image})`).join(', ')}</td>
              <td>{time(td.registeredAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

export function TaskDefinitionPage() {
  const { family } = useParams() as { family: string };
  const [search, setSearch] = useSearchParams();
  const can = useAllowed();
  const client = useQueryClient();
  const q = useQuery({
    queryKey: ['task-definitions', family],
    queryFn: () => list(`familyPrefix=${enc(family)}&status=ALL`),
  });
  const revisions = (q.data?.taskDefinitions ?? [])
    .filter((td) => td.family === family)
    .sort((a, b) => b.revision - a.revision);
  const selected = Number(search.get('revision') ?? revisions[0]?.revision ?? 0);
  const against = Number(search.get('against') ?? 0);
  const set = (name: string, value: string) => {
    const next = new URLSearchParams(search);
    if (value) next.set(name, value);
    else next.delete(name);
    setSearch(next);
  };
  const current = revisions.find((r) => r.revision === selected);
  const other = revisions.find((r) => r.revision === against);
  return (
    <>
      <h1>Task definition {family}</h1>
      <ErrorMessage error={q.error} />
      {q.isPending && <Loading what="revisions" />}
      <table>
        <caption className="sr-only">Revisions</caption>
        <thead>
          <tr>
            <th scope="col">Revision</th>
            <th scope="col">Status</th>
            <th scope="col">Registered</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {revisions.map((td) => (
            <tr key={td.revision} aria-current={td.revision === selected ? 'true' : undefined}>
              <td>
                <Link to={`?revision=${td.revision}`}>
                  {family}:{td.revision}
                </Link>
              </td>
              <td>
                <Status value={td.status} />
              </td>
              <td>{time(td.registeredAt)}</td>
              <td>
                {td.status === 'ACTIVE' && can('ecs:DeregisterTaskDefinition') && (
                  <ConfirmButton
                    danger
                    label={`Deregister ${td.revision}`}
                    title={`Deregister ${family}:${td.revision}?`}
                    description="It becomes INACTIVE: running tasks carry on, no new task or service may use it."
                    confirm="Deregister"
                    action={async () => {
                      await api('DELETE', `/v1/task-definitions/${enc(`${family}:${td.revision}`)}`);
                      await client.invalidateQueries({ queryKey: ['task-definitions'] });
                    }}
                  />
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {current && (
        <>
          <div className="row">
            <h2>
              {family}:{current.revision}
            </h2>
            <label>
              Compare with{' '}
              <select value={against || ''} onChange={(e) => set('against', e.target.value)}>
                <option value="">(no comparison)</option>
                {revisions
                  .filter((r) => r.revision !== current.revision)
                  .map((r) => (
                    <option key={r.revision} value={r.revision}>
                      revision {r.revision}
                    </option>
                  ))}
              </select>
            </label>
          </div>
          {other ? (
            <pre
              className="json diff"
              role="region"
              tabIndex={0}
              aria-label={`Diff of revision ${other.revision} to ${current.revision}`}
            >
              {diffLines(canonicalJson(body(other)), canonicalJson(body(current))).map((l, i) => (
                <div key={i} className={`diff-${l.kind === '+' ? 'add' : l.kind === '-' ? 'del' : 'same'}`}>
                  {l.kind} {l.text}
                </div>
              ))}
            </pre>
          ) : (
            <pre className="json" role="region" tabIndex={0} aria-label="Task definition JSON">
              {JSON.stringify(current, null, 2)}
            </pre>
          )}
        </>
      )}
    </>
  );
}

export function RegisterTaskDefinitionPage() {
  const [text, setText] = useState('');
  const client = useQueryClient();
  const m = useMutation({
    mutationFn: async () => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (e) {
        throw new Error(`Not JSON: ${(e as Error).message}`, { cause: e });
      }
      // As pasted: the API itself reads describe-task-definition output (wrapped, with tags).
      return api<{ taskDefinition: TaskDefinition; warnings?: { field: string; message: string }[] }>(
        'POST',
        '/v1/task-definitions',
        parsed,
      );
    },
    onSuccess: () => client.invalidateQueries({ queryKey: ['task-definitions'] }),
  });
  return (
    <>
      <h1>Register a task definition</h1>
      <form
        className="form"
        onSubmit={(e: FormEvent) => {
          e.preventDefault();
          m.mutate();
        }}
      >
        <label htmlFor="td-json">ECS task definition JSON (as RegisterTaskDefinition takes it)</label>
        <textarea
          id="td-json"
          rows={20}
          value={text}
          onChange={(e) => setText(e.target.value)}
          spellCheck={false}
        />
        <button type="submit" className="primary" disabled={m.isPending}>
          Register
        </button>
        <ErrorMessage error={m.error} />
      </form>
      {m.data && (
        <div role="status">
          <p>
            Registered{' '}
            <Link
              to={`/task-definitions/${enc(m.data.taskDefinition.family)}?revision=${m.data.taskDefinition.revision}`}
            >
              {m.data.taskDefinition.family}:{m.data.taskDefinition.revision}
            </Link>
            .
          </p>
          {m.data.warnings && m.data.warnings.length > 0 && (
            <>
              <h2>Warnings</h2>
              <ul className="warnings">
                {m.data.warnings.map((w) => (
                  <li key={w.field}>
                    <code>{w.field}</code>: {w.message}
                  </li>
                ))}
              </ul>
            </>
          )}
        </div>
      )}
    </>
  );
}
