import { age, servicesTable, tasksTable } from './views.js';

test('servicesTable: one row per service with its counts, revision and rollout', () => {
  const table = servicesTable([
    {
      serviceArn: 'arn:berth:ecs:local:0:service/default/web',
      serviceName: 'web',
      status: 'ACTIVE',
      taskDefinition: 'arn:berth:ecs:local:0:task-definition/web:7',
      desiredCount: 3,
      runningCount: 2,
      pendingCount: 1,
      deployments: [
        { id: 'a', status: 'PRIMARY', rolloutState: 'IN_PROGRESS' },
        { id: 'b', status: 'ACTIVE', rolloutState: 'COMPLETED' },
      ] as never,
      deploymentConfiguration: {
        minimumHealthyPercent: 100,
        maximumPercent: 200,
        deploymentCircuitBreaker: { enable: false, rollback: false },
      },
      enableExecuteCommand: false,
      events: [],
    },
  ]);
  expect(table.head).toEqual([
    'SERVICE',
    'STATUS',
    'DESIRED',
    'RUNNING',
    'PENDING',
    'TASK DEFINITION',
    'ROLLOUT',
  ]);
  expect(table.rows).toEqual([['web', 'ACTIVE', '3', '2', '1', 'web:7', 'IN_PROGRESS (2 deployments)']]);
});

test('tasksTable: short ids, ports as host:port->container, age', () => {
  const now = new Date('2026-11-28T12:00:00Z');
  const table = tasksTable(
    [
      {
        taskArn: 'arn:berth:ecs:local:0:task/default/4f1c',
        taskDefinitionArn: 'arn:berth:ecs:local:0:task-definition/web:7',
        lastStatus: 'RUNNING',
        desiredStatus: 'RUNNING',
        group: 'service:web',
        healthStatus: 'HEALTHY',
        enableExecuteCommand: false,
        cpu: '256',
        memory: '128',
        createdAt: '2026-11-28T11:56:00Z',
        startedAt: '2026-11-28T11:57:00Z',
        containers: [
          {
            name: 'web',
            lastStatus: 'RUNNING',
            networkBindings: [{ bindIP: '127.0.0.2', hostPort: 32768, containerPort: 8000 }],
          },
        ],
      },
    ],
    now,
  );
  expect(table.rows).toEqual([
    ['4f1c', 'service:web', 'RUNNING', 'RUNNING', 'HEALTHY', 'web:7', '127.0.0.2:32768->8000', '3m'],
  ]);
});

test.each([
  [45, '45s'],
  [119, '119s'],
  [120, '2m'],
  [7199, '119m'],
  [7200, '2h'],
  [172_800, '2d'],
])('age of %i seconds is %s', (seconds, want) => {
  const now = new Date('2026-11-28T12:00:00Z');
  expect(age(new Date(now.getTime() - seconds * 1000), now)).toBe(want);
});
