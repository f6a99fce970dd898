import { useQuery } from '@tanstack/react-query';
import { Link, useParams } from 'react-router';
import { enc, get, getAll, tdOf } from '../api';
import { useAllowed } from '../auth';
import type { Service } from '@berth/api-client';
import type { Cluster, Instance, Resource } from '../types';
import { Bar, ErrorMessage, Loading, Status } from '../ui';

const amount = (list: Resource[], name: string) => list.find((r) => r.name === name)?.integerValue ?? 0;

/** CPU and memory reserved against registered, summed over a cluster's instances. */
export function ReservedBars({ instances }: { instances: Instance[] }) {
  const sum = (pick: (i: Instance) => number) => instances.reduce((n, i) => n + pick(i), 0);
  const cpu = sum((i) => amount(i.registeredResources, 'CPU'));
  const mem = sum((i) => amount(i.registeredResources, 'MEMORY'));
  const cpuLeft = sum((i) => amount(i.remainingResources, 'CPU'));
  const memLeft = sum((i) => amount(i.remainingResources, 'MEMORY'));
  return (
    <div className="bars">
      <Bar label="CPU" used={cpu - cpuLeft} total={cpu} unit="units" />
      <Bar label="Memory" used={mem - memLeft} total={mem} unit="MiB" />
    </div>
  );
}

export function ClustersPage() {
  const q = useQuery({ queryKey: ['clusters'], queryFn: () => get<{ clusters: Cluster[] }>('/v1/clusters') });
  return (
    <>
      <h1>Clusters</h1>
      <ErrorMessage error={q.error} />
      {q.isPending && <Loading what="clusters" />}
      <table>
        <caption className="sr-only">Clusters</caption>
        <thead>
          <tr>
            <th scope="col">Cluster</th>
            <th scope="col">Status</th>
            <th scope="col">Container instances</th>
            <th scope="col">Services</th>
            <th scope="col">Running tasks</th>
            <th scope="col">Pending tasks</th>
          </tr>
        </thead>
        <tbody>
          {q.data?.clusters.map((c) => (
            <tr key={c.clusterName}>
              <td>
                <Link to={`/clusters/${enc(c.clusterName)}`}>{c.clusterName}</Link>
              </td>
              <td>
                <Status value={c.status} />
              </td>
              <td>{c.registeredContainerInstancesCount}</td>
              <td>{c.activeServicesCount}</td>
              <td>{c.runningTasksCount}</td>
              <td>{c.pendingTasksCount}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

export function ClusterPage() {
  const { cluster } = useParams() as { cluster: string };
  const can = useAllowed(cluster);
  const c = useQuery({
    queryKey: ['c', cluster, 'cluster'],
    queryFn: () => get<{ cluster: Cluster }>(`/v1/clusters/${enc(cluster)}`),
  });
  const instances = useQuery({
    queryKey: ['c', cluster, 'instances', 'all'],
    queryFn: () =>
      getAll<'containerInstances', Instance>(
        `/v1/clusters/${enc(cluster)}/container-instances`,
        'containerInstances',
      ),
  });
  const services = useQuery({
    queryKey: ['c', cluster, 'services'],
    queryFn: () => getAll<'services', Service>(`/v1/clusters/${enc(cluster)}/services`, 'services'),
  });
  return (
    <>
      <h1>Cluster {cluster}</h1>
      <ErrorMessage error={c.error ?? instances.error ?? services.error} />
      {c.data && (
        <dl className="facts">
          <dt>Container instances</dt>
          <dd>{c.data.cluster.registeredContainerInstancesCount}</dd>
          <dt>Services</dt>
          <dd>{c.data.cluster.activeServicesCount}</dd>
          <dt>Tasks RUNNING</dt>
          <dd>
            <Link to={`/clusters/${enc(cluster)}/tasks?status=RUNNING`}>
              {c.data.cluster.runningTasksCount}
            </Link>
          </dd>
          <dt>Tasks PENDING</dt>
          <dd>{c.data.cluster.pendingTasksCount}</dd>
        </dl>
      )}
      <h2>Resources</h2>
      {instances.data && <ReservedBars instances={instances.data.containerInstances} />}
      <div className="row spread">
        <h2>Services</h2>
        {can('ecs:CreateService') && (
          <Link className="button primary" to={`/clusters/${enc(cluster)}/services/new`}>
            Create service
          </Link>
        )}
      </div>
      {services.isPending && <Loading what="services" />}
      <table>
        <caption className="sr-only">Services</caption>
        <thead>
          <tr>
            <th scope="col">Service</th>
            <th scope="col">Status</th>
            <th scope="col">Task definition</th>
            <th scope="col">Desired</th>
            <th scope="col">Running</th>
            <th scope="col">Pending</th>
            <th scope="col">Deployments</th>
          </tr>
        </thead>
        <tbody>
          {services.data?.services.map((s) => (
            <tr key={s.serviceArn}>
              <td>
                <Link to={`/clusters/${enc(cluster)}/services/${enc(s.serviceName)}`}>{s.serviceName}</Link>
              </td>
              <td>
                <Status value={s.status} />
              </td>
              <td>{tdOf(s.taskDefinition)}</td>
              <td>{s.desiredCount}</td>
              <td>{s.runningCount}</td>
              <td>{s.pendingCount}</td>
              <td>
                {s.deployments.map((d) => (
                  <div key={d.id}>
                    {d.status} {tdOf(d.taskDefinition)} <Status value={d.rolloutState} />
                  </div>
                ))}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {services.data?.services.length === 0 && <p>No services.</p>}
    </>
  );
}
