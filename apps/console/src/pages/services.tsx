import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useNavigate, useParams } from 'react-router';
import { api, enc, get, tdOf } from '../api';
import { useAllowed } from '../auth';
import { useRecentEvents } from '../events';
import type { Service, ServiceEvent } from '@berth/api-client';
import { ConfirmButton, ErrorMessage, Loading, Status, time } from '../ui';

export function ServicePage() {
  const { cluster, service } = useParams() as { cluster: string; service: string };
  const can = useAllowed(cluster);
  const client = useQueryClient();
  const navigate = useNavigate();
  const base = `/v1/clusters/${enc(cluster)}/services/${enc(service)}`;
  const s = useQuery({
    queryKey: ['c', cluster, 'service', service],
    queryFn: () => get<{ service: Service }>(base),
  });
  const events = useQuery({
    queryKey: ['c', cluster, 'service', service, 'events'],
    queryFn: () => get<{ events: ServiceEvent[] }>(`${base}/events?maxResults=50`),
  });
  const live = useRecentEvents().filter((e) => e.resources.some((r) => r.endsWith(`/${service}`)));
  const refresh = () => client.invalidateQueries({ queryKey: ['c', cluster] });
  const update = async (body: Record<string, unknown>) => {
    await api('PATCH', base, body);
    await refresh();
  };
  if (s.error) return <ErrorMessage error={s.error} />;
  if (!s.data) return <Loading what="the service" />;
  const svc = s.data.service;
  return (
    <>
      <h1>Service {svc.serviceName}</h1>
      <dl className="facts">
        <dt>Status</dt>
        <dd>
          <Status value={svc.status} />
        </dd>
        <dt>Task definition</dt>
        <dd>
          <Link to={`/task-definitions/${enc(tdOf(svc.taskDefinition).split(':')[0]!)}`}>
            {tdOf(svc.taskDefinition)}
          </Link>
        </dd>
        <dt>Desired</dt>
        <dd data-testid="desired">{svc.desiredCount}</dd>
        <dt>Running</dt>
        <dd data-testid="running">{svc.runningCount}</dd>
        <dt>Pending</dt>
        <dd>{svc.pendingCount}</dd>
        <dt>Circuit breaker</dt>
        <dd>
          {svc.deploymentConfiguration.deploymentCircuitBreaker.enable
            ? `on${svc.deploymentConfiguration.deploymentCircuitBreaker.rollback ? ', rolls back' : ''}`
            : 'off'}
        </dd>
      </dl>
      <p>
        <Link to={`/clusters/${enc(cluster)}/tasks?service=${enc(service)}`}>Tasks of this service</Link>
      </p>
      {svc.status === 'ACTIVE' && can('ecs:UpdateService') && <UpdateService service={svc} update={update} />}
      {svc.status === 'ACTIVE' && (
        <div className="row">
          {can('ecs:UpdateService') && (
            <ConfirmButton
              label="Force new deployment"
              title={`Force a new deployment of ${service}?`}
              description="Every task is replaced by a new one of the same task definition, as the rollout allows."
              action={() => update({ forceNewDeployment: true })}
            />
          )}
          {can('ecs:DeleteService') && (
            <ConfirmButton
              danger
              label="Delete service"
              title={`Delete service ${service}?`}
              description="Its tasks are stopped (the service is deleted with force) and it becomes INACTIVE."
              confirm="Delete"
              action={async () => {
                await api('DELETE', `${base}?force=true`);
                await refresh();
                await navigate(`/clusters/${enc(cluster)}`);
              }}
            />
          )}
        </div>
      )}
      <h2>Deployments</h2>
      <table>
        <caption className="sr-only">Deployments</caption>
        <thead>
          <tr>
            <th scope="col">Deployment</th>
            <th scope="col">Status</th>
            <th scope="col">Task definition</th>
            <th scope="col">Rollout</th>
            <th scope="col">Progress</th>
            <th scope="col">Failed tasks / breaker threshold</th>
          </tr>
        </thead>
        <tbody>
          {svc.deployments.map((d) => (
            <tr key={d.id} data-testid={`deployment-${tdOf(d.taskDefinition)}`}>
              <td>
                <code>{d.id}</code>
              </td>
              <td>{d.status}</td>
              <td>{tdOf(d.taskDefinition)}</td>
              <td>
                <Status value={d.rolloutState} />
                {d.rolloutStateReason && <div className="help">{d.rolloutStateReason}</div>}
              </td>
              <td>
                <progress
                  max={Math.max(d.desiredCount, 1)}
                  value={d.runningCount}
                  aria-label={`Deployment ${d.id} progress`}
                />{' '}
                {d.runningCount}/{d.desiredCount} running, {d.pendingCount} pending
              </td>
              <td className="failed-tasks">
                {d.failedTasks} / {d.circuitBreakerThreshold}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Events</h2>
      <section aria-live="polite" aria-label="Live events">
        {live.length > 0 && (
          <ul className="events">
            {live.slice(0, 20).map((e) => (
              <li key={e.id}>
                {time(e.time)} {e['detail-type']}: {String(e.detail.eventName ?? e.detail.lastStatus ?? '')}{' '}
                {String(e.detail.reason ?? '')}
              </li>
            ))}
          </ul>
        )}
      </section>
      <ErrorMessage error={events.error} />
      <ul className="events" aria-label="Service events">
        {events.data?.events.map((e) => (
          <li key={e.id}>
            <time dateTime={e.createdAt}>{time(e.createdAt)}</time> {e.message}
          </li>
        ))}
      </ul>
    </>
  );
}

function UpdateService({
  service,
  update,
}: {
  service: Service;
  update: (b: Record<string, unknown>) => Promise<void>;
}) {
  const [taskDefinition, setTaskDefinition] = useState(tdOf(service.taskDefinition));
  const [desiredCount, setDesiredCount] = useState(String(service.desiredCount));
  const m = useMutation({
    mutationFn: () => {
      const body: Record<string, unknown> = { desiredCount: Number(desiredCount) };
      if (taskDefinition !== tdOf(service.taskDefinition)) body.taskDefinition = taskDefinition;
      return update(body);
    },
  });
  return (
    <form
      className="inline-form"
      aria-label="Update service"
      onSubmit={(e) => {
        e.preventDefault();
        m.mutate();
      }}
    >
      <label>
        Task definition{' '}
        <input
          name="taskDefinition"
          value={taskDefinition}
          onChange={(e) => setTaskDefinition(e.target.value)}
        />
      </label>
      <label>
        Desired count{' '}
        <input
          name="desiredCount"
          type="number"
          min={0}
          value={desiredCount}
          onChange={(e) => setDesiredCount(e.target.value)}
        />
      </label>
      <button type="submit" disabled={m.isPending}>
        Update
      </button>
      <ErrorMessage error={m.error} />
    </form>
  );
}

export function CreateServicePage() {
  const { cluster } = useParams() as { cluster: string };
  const navigate = useNavigate();
  const client = useQueryClient();
  const [form, setForm] = useState({ serviceName: '', taskDefinition: '', desiredCount: '1' });
  const [breaker, setBreaker] = useState(true);
  const [exec, setExec] = useState(false);
  const m = useMutation({
    mutationFn: () =>
      api<{ service: Service }>('POST', `/v1/clusters/${enc(cluster)}/services`, {
        serviceName: form.serviceName,
        taskDefinition: form.taskDefinition,
        desiredCount: Number(form.desiredCount),
        enableExecuteCommand: exec,
        deploymentConfiguration: { deploymentCircuitBreaker: { enable: breaker, rollback: breaker } },
      }),
    onSuccess: async (r) => {
      await client.invalidateQueries({ queryKey: ['c', cluster] });
      await navigate(`/clusters/${enc(cluster)}/services/${enc(r.service.serviceName)}`);
    },
  });
  const field = (name: keyof typeof form, label: string, type = 'text') => (
    <label>
      {label}
      <input
        name={name}
        type={type}
        required
        value={form[name]}
        onChange={(e) => setForm({ ...form, [name]: e.target.value })}
      />
    </label>
  );
  return (
    <>
      <h1>Create a service in {cluster}</h1>
      <form
        className="form"
        onSubmit={(e: FormEvent) => {
          e.preventDefault();
          m.mutate();
        }}
      >
        {field('serviceName', 'Service name')}
        {field('taskDefinition', 'Task definition (family or family:revision)')}
        {field('desiredCount', 'Desired count', 'number')}
        <label className="check">
          <input type="checkbox" checked={breaker} onChange={(e) => setBreaker(e.target.checked)} /> Circuit
          breaker with rollback
        </label>
        <label className="check">
          <input type="checkbox" checked={exec} onChange={(e) => setExec(e.target.checked)} /> Allow exec into
          its tasks
        </label>
        <button type="submit" className="primary" disabled={m.isPending}>
          Create service
        </button>
        <ErrorMessage error={m.error} />
      </form>
    </>
  );
}
