import { useQuery } from '@tanstack/react-query';
import { Link, useSearchParams } from 'react-router';
import { enc, get, idOf } from '../api';
import { ErrorMessage, Loading, Status } from '../ui';

interface LoadBalancer {
  loadBalancerArn: string;
  loadBalancerName: string;
  listeners: {
    port: number;
    protocol: string;
    defaultTargetGroupArn: string;
    rules: { priority: number; pathPrefix?: string; host?: string; targetGroupArn: string }[];
  }[];
}
interface TargetGroup {
  targetGroupArn: string;
  targetGroupName: string;
  protocol: string;
  healthCheckPath?: string;
}
interface TargetHealth {
  target: { id: string; port: number };
  taskArn?: string;
  targetHealth: { state: string; reason?: string; description?: string };
}

const nameOf = (arn: string) => arn.slice(arn.lastIndexOf('/') + 1);

/** Load balancers with their listeners, target groups, and the health of one group's targets. */
export function LoadBalancersPage() {
  const [search] = useSearchParams();
  const selected = search.get('targetGroup');
  const lbs = useQuery({
    queryKey: ['load-balancers'],
    queryFn: () => get<{ loadBalancers: LoadBalancer[] }>('/v1/load-balancers'),
  });
  const groups = useQuery({
    queryKey: ['target-groups'],
    queryFn: () => get<{ targetGroups: TargetGroup[] }>('/v1/target-groups'),
  });
  return (
    <>
      <h1>Load balancers</h1>
      <ErrorMessage error={lbs.error ?? groups.error} />
      {lbs.isPending && <Loading what="load balancers" />}
      {lbs.data?.loadBalancers.length === 0 && <p>No load balancers.</p>}
      {lbs.data?.loadBalancers.map((lb) => (
        <section key={lb.loadBalancerArn} aria-labelledby={`lb-${lb.loadBalancerName}`}>
          <h2 id={`lb-${lb.loadBalancerName}`}>{lb.loadBalancerName}</h2>
          <ul>
            {lb.listeners.map((l) => (
              <li key={l.port}>
                {l.protocol} :{l.port} →{' '}
                <Link to={`?targetGroup=${enc(nameOf(l.defaultTargetGroupArn))}`}>
                  {nameOf(l.defaultTargetGroupArn)}
                </Link>
                {l.rules.map((r) => (
                  <div key={r.priority}>
                    rule {r.priority}: {r.host ?? ''}
                    {r.pathPrefix ?? ''} →{' '}
                    <Link to={`?targetGroup=${enc(nameOf(r.targetGroupArn))}`}>
                      {nameOf(r.targetGroupArn)}
                    </Link>
                  </div>
                ))}
              </li>
            ))}
          </ul>
        </section>
      ))}
      <h2>Target groups</h2>
      <ul>
        {groups.data?.targetGroups.map((g) => (
          <li key={g.targetGroupArn}>
            <Link
              to={`?targetGroup=${enc(g.targetGroupName)}`}
              aria-current={g.targetGroupName === selected ? 'page' : undefined}
            >
              {g.targetGroupName}
            </Link>{' '}
            ({g.protocol}
            {g.healthCheckPath ? `, health check ${g.healthCheckPath}` : ''})
          </li>
        ))}
      </ul>
      {selected && <TargetHealthTable group={selected} />}
    </>
  );
}

function TargetHealthTable({ group }: { group: string }) {
  const q = useQuery({
    queryKey: ['target-health', group],
    queryFn: () =>
      get<{ targetHealthDescriptions: TargetHealth[] }>(`/v1/target-groups/${enc(group)}/health`),
  });
  return (
    <section aria-labelledby="health-title">
      <h2 id="health-title">Targets of {group}</h2>
      <ErrorMessage error={q.error} />
      <table>
        <caption className="sr-only">Target health</caption>
        <thead>
          <tr>
            <th scope="col">Target</th>
            <th scope="col">Task</th>
            <th scope="col">State</th>
            <th scope="col">Reason</th>
          </tr>
        </thead>
        <tbody>
          {q.data?.targetHealthDescriptions.map((t) => (
            <tr key={`${t.target.id}:${t.target.port}`}>
              <td>
                {t.target.id}:{t.target.port}
              </td>
              <td>
                {t.taskArn ? (
                  <Link to={`/clusters/${enc(t.taskArn.split('/')[1]!)}/tasks/${idOf(t.taskArn)}`}>
                    {idOf(t.taskArn)}
                  </Link>
                ) : (
                  '–'
                )}
              </td>
              <td>
                <Status value={t.targetHealth.state} />
              </td>
              <td>{t.targetHealth.description ?? t.targetHealth.reason ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {q.isPending && <Loading what="targets" />}
    </section>
  );
}
