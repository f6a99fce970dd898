import { useCallback, useMemo } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useNavigate, useParams } from 'react-router';
import { api, enc, get, getAll, idOf } from '../api';
import { useAllowed } from '../auth';
import type { Instance, Resource } from '../types';
import { ConfirmButton, ErrorMessage, Loading, Status, time, VirtualTable } from '../ui';
import { ReservedBars } from './clusters';
import { taskColumns, useTasks } from './tasks';

const amount = (list: Resource[], name: string) => list.find((r) => r.name === name)?.integerValue ?? 0;

export function InstancesPage() {
  const { cluster } = useParams() as { cluster: string };
  const q = useQuery({
    queryKey: ['c', cluster, 'instances', 'all'],
    queryFn: () =>
      getAll<'containerInstances', Instance>(
        `/v1/clusters/${enc(cluster)}/container-instances`,
        'containerInstances',
      ),
  });
  return (
    <>
      <h1>Container instances</h1>
      <ErrorMessage error={q.error} />
      {q.isPending && <Loading what="container instances" />}
      <table>
        <caption className="sr-only">Container instances</caption>
        <thead>
          <tr>
            <th scope="col">Instance</th>
            <th scope="col">Address</th>
            <th scope="col">Status</th>
            <th scope="col">Agent</th>
            <th scope="col">CPU free / registered</th>
            <th scope="col">Memory free / registered</th>
            <th scope="col">Running tasks</th>
          </tr>
        </thead>
        <tbody>
          {q.data?.containerInstances.map((i) => (
            <tr key={i.containerInstanceArn}>
              <td>
                <Link to={`/clusters/${enc(cluster)}/instances/${idOf(i.containerInstanceArn)}`}>
                  {idOf(i.containerInstanceArn)}
                </Link>
              </td>
              <td>{i.hostAddress}</td>
              <td>
                <Status value={i.status} />
              </td>
              <td>{i.agentConnected ? 'connected' : 'disconnected'}</td>
              <td>
                {amount(i.remainingResources, 'CPU')} / {amount(i.registeredResources, 'CPU')}
              </td>
              <td>
                {amount(i.remainingResources, 'MEMORY')} / {amount(i.registeredResources, 'MEMORY')}
              </td>
              <td>{i.runningTasksCount}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

export function InstancePage() {
  const { cluster, id } = useParams() as { cluster: string; id: string };
  const can = useAllowed(cluster);
  const client = useQueryClient();
  const navigate = useNavigate();
  const base = `/v1/clusters/${enc(cluster)}/container-instances/${enc(id)}`;
  const q = useQuery({
    queryKey: ['c', cluster, 'instance', id],
    queryFn: () => get<{ containerInstance: Instance }>(base),
  });
  const tasks = useTasks(cluster, { containerInstance: id, desiredStatus: 'RUNNING' });
  const rows = useMemo(() => tasks.data?.pages.flatMap((p) => p.tasks) ?? [], [tasks.data]);
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = tasks;
  const loadMore = useCallback(() => {
    if (hasNextPage && !isFetchingNextPage) void fetchNextPage();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage]);
  const setStatus = async (status: string) => {
    await api('PATCH', base, { status });
    await client.invalidateQueries({ queryKey: ['c', cluster] });
  };
  if (q.error) return <ErrorMessage error={q.error} />;
  if (!q.data) return <Loading what="the container instance" />;
  const i = q.data.containerInstance;
  return (
    <>
      <h1>Container instance {id}</h1>
      <dl className="facts">
        <dt>Status</dt>
        <dd data-testid="instance-status">
          <Status value={i.status} />
        </dd>
        <dt>Agent</dt>
        <dd>
          {i.agentConnected ? 'connected' : 'disconnected'} {i.agentVersion}
        </dd>
        <dt>Address</dt>
        <dd>{i.hostAddress}</dd>
        <dt>Registered</dt>
        <dd>{time(i.registeredAt)}</dd>
        <dt>Last heartbeat</dt>
        <dd>{time(i.lastHeartbeatAt)}</dd>
      </dl>
      <ReservedBars instances={[i]} />
      <div className="row">
        {i.status === 'ACTIVE' && can('ecs:UpdateContainerInstancesState') && (
          <ConfirmButton
            danger
            label="Drain"
            title={`Drain ${id}?`}
            description="No new task is placed here, and service tasks move to other instances."
            action={() => setStatus('DRAINING')}
          />
        )}
        {i.status === 'DRAINING' && can('ecs:UpdateContainerInstancesState') && (
          <ConfirmButton
            label="Activate"
            title={`Activate ${id}?`}
            description="Tasks may be placed here again."
            action={() => setStatus('ACTIVE')}
          />
        )}
        {i.status !== 'INACTIVE' && can('ecs:DeregisterContainerInstance') && (
          <ConfirmButton
            danger
            label="Deregister"
            title={`Deregister ${id}?`}
            description="The instance leaves the cluster. Refused while tasks run there."
            confirm="Deregister"
            action={async () => {
              await api('DELETE', base);
              await client.invalidateQueries({ queryKey: ['c', cluster] });
              await navigate(`/clusters/${enc(cluster)}/instances`);
            }}
          />
        )}
      </div>
      <h2>Attributes</h2>
      <ul className="attributes">
        {i.attributes.map((a) => (
          <li key={a.name}>
            <code>{a.name}</code>
            {a.value !== undefined && <> = {a.value}</>}
          </li>
        ))}
      </ul>
      <h2>Tasks</h2>
      <ErrorMessage error={tasks.error} />
      <VirtualTable
        label="Tasks on this instance"
        rows={rows}
        columns={taskColumns(cluster)}
        rowKey={(t) => t.taskArn}
        hasMore={tasks.hasNextPage}
        loadMore={loadMore}
      />
    </>
  );
}
