import { waitFor, type LocalCluster } from '@berth/testing';

/** A small client of the REST API for end-to-end tests. */

export interface Binding {
  bindIP: string;
  hostPort: number;
  containerPort: number;
}
export interface Task {
  taskArn: string;
  lastStatus: string;
  desiredStatus: string;
  containerInstanceArn?: string;
  stopCode?: string;
  stoppedReason?: string;
  provisioningReason?: string;
  enableExecuteCommand?: boolean;
  containers: {
    name: string;
    lastStatus: string;
    exitCode?: number;
    runtimeId?: string;
    networkBindings: Binding[];
  }[];
}
export interface Resource {
  name: string;
  integerValue?: number;
}
export interface Instance {
  containerInstanceArn: string;
  hostAddress: string;
  agentConnected: boolean;
  remainingResources: Resource[];
  registeredResources: Resource[];
  runningTasksCount: number;
}

export const idOf = (arn: string) => arn.split('/').pop()!;
export const remaining = (i: Instance, name: string) =>
  i.remainingResources.find((r) => r.name === name)!.integerValue!;

export function api(cluster: LocalCluster, token = cluster.adminToken) {
  async function call<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const res = await fetch(`${cluster.api}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as T };
  }
  const task = async (arn: string) =>
    (await call<{ task: Task }>('GET', `/v1/clusters/default/tasks/${idOf(arn)}`)).body.task;
  return {
    call,
    /** Polls a task until `until` holds (up to a minute), and returns it. */
    waitForTask: (arn: string, what: string, until: (t: Task) => boolean) =>
      waitFor(
        what,
        async () => {
          const t = await task(arn);
          return until(t) ? t : undefined;
        },
        { timeoutMs: 60_000 },
      ),
    tasks: async (query = '') =>
      (await call<{ tasks: Task[] }>('GET', `/v1/clusters/default/tasks${query}`)).body.tasks,
    task,
    instances: async () =>
      (await call<{ containerInstances: Instance[] }>('GET', '/v1/clusters/default/container-instances')).body
        .containerInstances,
    register: (td: unknown) =>
      call<{ taskDefinition: { taskDefinitionArn: string } }>('POST', '/v1/task-definitions', td),
    run: async (body: unknown) =>
      (await call<{ tasks: Task[] }>('POST', '/v1/clusters/default/tasks', body)).body.tasks,
    stop: (arn: string, reason?: string) =>
      call<{ task: Task }>('POST', `/v1/clusters/default/tasks/${idOf(arn)}/stop`, reason ? { reason } : {}),
  };
}

/** busybox httpd on a dynamic host port; stops at once on SIGTERM thanks to an init process. */
export const httpdTaskDefinition = (family: string, over: { cpu?: number; memory?: number } = {}) => ({
  family,
  containerDefinitions: [
    {
      name: 'web',
      image: 'berth/busybox',
      cpu: over.cpu ?? 512,
      memory: over.memory ?? 64,
      command: ['httpd', '-f', '-p', '8000', '-h', '/var/www'],
      portMappings: [{ containerPort: 8000, hostPort: 0 }],
      linuxParameters: { initProcessEnabled: true },
      stopTimeout: 5,
    },
  ],
});

export async function httpGet(b: Binding): Promise<string> {
  const res = await fetch(`http://${b.bindIP}:${b.hostPort}/`);
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return res.text();
}
