import {
  ecsEvent,
  formatEventPosition,
  parseEventPosition,
  serviceActionOf,
  type DeploymentSnapshot,
  type InstanceSnapshot,
  type TaskSnapshot,
} from './events.js';
import { serviceEvents } from './service-plan.js';

const ctx = { region: 'local', account: '000000000000' };
const at = new Date('2026-11-28T00:30:00.000Z');
const TASK = '0b6c1f3e-54a1-4a8e-9d3f-2f0d9a6f7c11';
const INSTANCE = '6f1d2c3b-0a9e-4b8c-8d7e-1f2a3b4c5d6e';
const DEPLOYMENT = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';

const task = (over: Partial<TaskSnapshot> = {}): TaskSnapshot => ({
  id: TASK,
  cluster_name: 'prod',
  family: 'web',
  revision: 3,
  container_instance_id: INSTANCE,
  last_status: 'RUNNING',
  desired_status: 'RUNNING',
  started_by: 'ecs-svc/x',
  group: 'service:web',
  overrides: {},
  cpu: 256,
  memory: 512,
  stop_code: null,
  stopped_reason: null,
  // Postgres' timestamp(3) without a zone, as to_jsonb writes it.
  created_at: '2026-11-28T00:29:58.120',
  pull_started_at: null,
  pull_stopped_at: null,
  started_at: '2026-11-28T00:29:59.500',
  stopping_at: null,
  stopped_at: null,
  container_definitions: [{ name: 'app', image: 'busybox:latest' }],
  containers: [
    {
      name: 'app',
      runtime_id: 'abc123',
      last_status: 'RUNNING',
      exit_code: null,
      reason: null,
      health_status: 'UNKNOWN',
      network_bindings: [{ bindIP: '127.0.0.1', containerPort: 80, hostPort: 32768, protocol: 'tcp' }],
    },
  ],
  ...over,
});

const row = (kind: 'task' | 'instance' | 'deployment' | 'service', payload: unknown) => ({
  position: '812-40',
  time: at,
  kind,
  payload,
});

describe('ECS Task State Change', () => {
  it('wraps the task as DescribeTasks shows it in the EventBridge envelope', () => {
    expect(ecsEvent(ctx, row('task', task()))).toEqual({
      version: '0',
      id: '812-40',
      'detail-type': 'ECS Task State Change',
      source: 'aws.ecs',
      account: '000000000000',
      time: '2026-11-28T00:30:00.000Z',
      region: 'local',
      resources: [`arn:berth:ecs:local:000000000000:task/prod/${TASK}`],
      detail: expect.objectContaining({
        clusterArn: 'arn:berth:ecs:local:000000000000:cluster/prod',
        containerInstanceArn: `arn:berth:ecs:local:000000000000:container-instance/prod/${INSTANCE}`,
        taskArn: `arn:berth:ecs:local:000000000000:task/prod/${TASK}`,
        taskDefinitionArn: 'arn:berth:ecs:local:000000000000:task-definition/web:3',
        lastStatus: 'RUNNING',
        desiredStatus: 'RUNNING',
        launchType: 'EC2',
        cpu: '256',
        memory: '512',
        group: 'service:web',
        startedBy: 'ecs-svc/x',
        createdAt: '2026-11-28T00:29:58.120Z',
        startedAt: '2026-11-28T00:29:59.500Z',
        updatedAt: '2026-11-28T00:30:00.000Z',
        containers: [
          {
            taskArn: `arn:berth:ecs:local:000000000000:task/prod/${TASK}`,
            name: 'app',
            image: 'busybox:latest',
            runtimeId: 'abc123',
            lastStatus: 'RUNNING',
            exitCode: undefined,
            reason: undefined,
            healthStatus: 'UNKNOWN',
            networkBindings: [{ bindIP: '127.0.0.1', containerPort: 80, hostPort: 32768, protocol: 'tcp' }],
          },
        ],
      }),
    });
  });

  it('carries the stop code, reason and exit codes of a STOPPED task', () => {
    const stopped = task({
      last_status: 'STOPPED',
      desired_status: 'STOPPED',
      stop_code: 'EssentialContainerExited',
      stopped_reason: 'Essential container in task exited',
      stopped_at: '2026-11-28T00:31:00.000+00:00',
      containers: [
        {
          name: 'app',
          runtime_id: 'abc123',
          last_status: 'STOPPED',
          exit_code: 3,
          reason: null,
          health_status: 'UNKNOWN',
          network_bindings: [],
        },
      ],
    });
    const detail = ecsEvent(ctx, row('task', stopped))!.detail;
    expect(detail).toMatchObject({
      lastStatus: 'STOPPED',
      desiredStatus: 'STOPPED',
      stopCode: 'EssentialContainerExited',
      stoppedReason: 'Essential container in task exited',
      stoppedAt: '2026-11-28T00:31:00.000Z',
      containers: [
        { name: 'app', lastStatus: 'STOPPED', exitCode: 3, healthStatus: 'UNKNOWN', networkBindings: [] },
      ],
    });
  });

  it("shows a new task, whose container rows are not written yet, with its definition's containers PENDING", () => {
    const created = task({
      last_status: 'PROVISIONING',
      container_instance_id: null,
      container_definitions: [
        { name: 'app', image: 'busybox:latest' },
        { name: 'sidecar', image: 'envoy' },
      ],
      containers: [],
    });
    const detail = ecsEvent(ctx, row('task', created))!.detail;
    expect(detail.containerInstanceArn).toBeUndefined();
    expect(detail.containers).toEqual([
      expect.objectContaining({
        name: 'app',
        image: 'busybox:latest',
        lastStatus: 'PENDING',
        healthStatus: 'UNKNOWN',
      }),
      expect.objectContaining({
        name: 'sidecar',
        image: 'envoy',
        lastStatus: 'PENDING',
        networkBindings: [],
      }),
    ]);
  });

  it('still shows a task whose definition was deleted since, from its container rows', () => {
    const orphan = task({ family: undefined, revision: undefined, container_definitions: undefined });
    const detail = ecsEvent(ctx, row('task', orphan))!.detail;
    expect(detail.taskDefinitionArn).toBeUndefined();
    expect(detail.containers).toEqual([
      expect.objectContaining({ name: 'app', image: undefined, lastStatus: 'RUNNING' }),
    ]);
  });

  it('refuses a snapshot it cannot read, naming the field', () => {
    expect(() => ecsEvent(ctx, row('task', { ...task(), revision: 'x' }))).toThrow(/revision/);
  });
});

describe('ECS Container Instance State Change', () => {
  const instance = (over: Partial<InstanceSnapshot> = {}): InstanceSnapshot => ({
    id: INSTANCE,
    cluster_name: 'prod',
    status: 'DRAINING',
    agent_connected: true,
    agent_version: '0.1.0',
    registered_cpu: 2048,
    registered_memory: 4096,
    reserved_cpu: 512,
    reserved_memory: 1024,
    attributes: { os: 'linux', zone: 'a' },
    api_attributes: { stack: 'blue' },
    registered_at: '2026-11-28T00:00:00.000',
    ...over,
  });

  it('shows status, connection, resources and attributes', () => {
    const event = ecsEvent(ctx, row('instance', instance()))!;
    expect(event['detail-type']).toBe('ECS Container Instance State Change');
    expect(event.resources).toEqual([`arn:berth:ecs:local:000000000000:container-instance/prod/${INSTANCE}`]);
    expect(event.detail).toMatchObject({
      status: 'DRAINING',
      agentConnected: true,
      clusterArn: 'arn:berth:ecs:local:000000000000:cluster/prod',
      registeredResources: [
        { name: 'CPU', type: 'INTEGER', integerValue: 2048 },
        { name: 'MEMORY', type: 'INTEGER', integerValue: 4096 },
      ],
      remainingResources: [
        { name: 'CPU', type: 'INTEGER', integerValue: 1536 },
        { name: 'MEMORY', type: 'INTEGER', integerValue: 3072 },
      ],
      versionInfo: { agentVersion: '0.1.0' },
      registeredAt: '2026-11-28T00:00:00.000Z',
    });
    expect(event.detail.attributes).toEqual(
      expect.arrayContaining([
        { name: 'os', value: 'linux' },
        { name: 'ecs.availability-zone', value: 'a' },
        { name: 'stack', value: 'blue' },
      ]),
    );
  });
});

describe('ECS Deployment State Change', () => {
  const deployment = (over: Partial<DeploymentSnapshot>): DeploymentSnapshot => ({
    id: DEPLOYMENT,
    cluster_name: 'prod',
    service_name: 'web',
    status: 'PRIMARY',
    rollout_state: 'IN_PROGRESS',
    rollout_state_reason: null,
    rolled_back_from: null,
    previous_rollout_state: null,
    ...over,
  });

  it.each([
    [
      'a new deployment',
      {},
      'INFO',
      'SERVICE_DEPLOYMENT_IN_PROGRESS',
      `ECS deployment ecs-svc/${DEPLOYMENT} in progress.`,
    ],
    [
      'a rollback',
      { rolled_back_from: TASK },
      'INFO',
      'SERVICE_DEPLOYMENT_IN_PROGRESS',
      `ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/${DEPLOYMENT}.`,
    ],
    [
      'a completed rollout',
      { previous_rollout_state: 'IN_PROGRESS', rollout_state: 'COMPLETED' },
      'INFO',
      'SERVICE_DEPLOYMENT_COMPLETED',
      `ECS deployment ecs-svc/${DEPLOYMENT} completed.`,
    ],
    [
      'a failed rollout',
      {
        previous_rollout_state: 'IN_PROGRESS',
        rollout_state: 'FAILED',
        rollout_state_reason: '3 tasks failed',
      },
      'ERROR',
      'SERVICE_DEPLOYMENT_FAILED',
      '3 tasks failed',
    ],
  ] as const)('%s', (_, over, eventType, eventName, reason) => {
    const event = ecsEvent(ctx, row('deployment', deployment(over)))!;
    expect(event['detail-type']).toBe('ECS Deployment State Change');
    expect(event.resources).toEqual(['arn:berth:ecs:local:000000000000:service/prod/web']);
    expect(event.detail).toEqual({
      eventType,
      eventName,
      deploymentId: `ecs-svc/${DEPLOYMENT}`,
      reason,
      updatedAt: '2026-11-28T00:30:00.000Z',
    });
  });

  it.each([
    ['PRIMARY → ACTIVE (a newer one took over)', { status: 'ACTIVE', previous_rollout_state: 'IN_PROGRESS' }],
    [
      'ACTIVE → INACTIVE',
      { status: 'INACTIVE', rollout_state: 'COMPLETED', previous_rollout_state: 'COMPLETED' },
    ],
  ])('%s is no ECS event', (_, over) => {
    expect(ecsEvent(ctx, row('deployment', deployment(over)))).toBeNull();
  });
});

describe('ECS Service Action', () => {
  const ids = [TASK, DEPLOYMENT];
  it.each([
    [serviceEvents.steady('web'), 'INFO', 'SERVICE_STEADY_STATE'],
    [serviceEvents.stopped('web', ids), 'INFO', 'TASKS_STOPPED'],
    [serviceEvents.daemonCount('web', 3), 'INFO', 'SERVICE_DESIRED_COUNT_UPDATED'],
    [
      serviceEvents.unableToPlace(
        'web',
        'No container instance met all of its requirements: 2 had insufficient memory.',
      ),
      'ERROR',
      'SERVICE_TASK_PLACEMENT_FAILURE',
    ],
    [
      serviceEvents.unableToStart('web', 'ContainerPolicyError: privileged'),
      'ERROR',
      'SERVICE_TASK_CONFIGURATION_FAILURE',
    ],
  ])('%s → %s %s', (message, eventType, eventName) => {
    expect(serviceActionOf('web', message)).toMatchObject({ eventType, eventName });
  });

  it.each([
    serviceEvents.started('web', ids),
    serviceEvents.deploymentCompleted('web', DEPLOYMENT),
    serviceEvents.deploymentFailed('web', DEPLOYMENT, 3, 3),
    serviceEvents.rollingBack('web', DEPLOYMENT, TASK),
    serviceEvents.unhealthy('web', TASK),
    // Another service's line that happens to share a prefix is not this one's.
    serviceEvents.steady('web-2'),
  ])('%s is no service action', (message) => {
    expect(serviceActionOf('web', message)).toBeNull();
  });

  it('shows the action with its cluster, and the desired count when that is what changed', () => {
    const event = ecsEvent(
      ctx,
      row('service', {
        message: serviceEvents.daemonCount('web', 3),
        created_at: '2026-11-28T00:29:00.000',
        service_name: 'web',
        desired_count: 3,
        cluster_name: 'prod',
      }),
    )!;
    expect(event['detail-type']).toBe('ECS Service Action');
    expect(event.resources).toEqual(['arn:berth:ecs:local:000000000000:service/prod/web']);
    expect(event.detail).toEqual({
      eventType: 'INFO',
      eventName: 'SERVICE_DESIRED_COUNT_UPDATED',
      clusterArn: 'arn:berth:ecs:local:000000000000:cluster/prod',
      createdAt: '2026-11-28T00:29:00.000Z',
      desiredCount: 3,
    });
  });
});

describe('event positions', () => {
  it('round-trip', () => {
    expect(parseEventPosition(formatEventPosition({ xid: 812n, id: 40n }), 'after')).toEqual({
      xid: 812n,
      id: 40n,
    });
  });
  it.each(['', '12', '12-', 'a-1', '1-2-3', '-1-2', '12345678901234567890-1'])(
    'refuses %p naming the field',
    (v) => {
      expect(() => parseEventPosition(v, 'Last-Event-ID')).toThrow(/Last-Event-ID: must be an event id/);
    },
  );
});
