import { deployProgress, needsFinalReason, newEvents, taskDefinitionFromFile } from './deploy.js';
import type { Deployment, Service } from '@berth/api-client';

const td = (rev: number) => `arn:berth:ecs:local:000000000000:task-definition/web:${rev}`;
const deployment = (over: Partial<Deployment>): Deployment => ({
  id: 'new-deployment-id',
  status: 'PRIMARY',
  taskDefinition: td(2),
  desiredCount: 3,
  runningCount: 0,
  pendingCount: 0,
  failedTasks: 0,
  circuitBreakerThreshold: 3,
  rolloutState: 'IN_PROGRESS',
  ...over,
});
const service = (deployments: Deployment[]): Service => ({
  serviceArn: 'arn:berth:ecs:local:000000000000:service/default/web',
  serviceName: 'web',
  status: 'ACTIVE',
  taskDefinition: td(2),
  desiredCount: 3,
  runningCount: 3,
  pendingCount: 0,
  deploymentConfiguration: {
    minimumHealthyPercent: 100,
    maximumPercent: 200,
    deploymentCircuitBreaker: { enable: true, rollback: true },
  },
  enableExecuteCommand: false,
  deployments,
  events: [],
});
const old = deployment({
  id: 'old-deployment-id',
  status: 'ACTIVE',
  taskDefinition: td(1),
  runningCount: 3,
  rolloutState: 'COMPLETED',
});

describe('deployProgress', () => {
  test('in progress: the counts of the new deployment and the old tasks still running', () => {
    expect(
      deployProgress(
        service([deployment({ runningCount: 1, pendingCount: 2, failedTasks: 1 }), old]),
        'new-deployment-id',
      ),
    ).toEqual({
      line: 'web:2 IN_PROGRESS: 1/3 running, 2 pending, 1 failed (circuit breaker at 3); 3 old tasks running',
      outcome: { done: false },
    });
  });

  test('completed', () => {
    expect(
      deployProgress(
        service([deployment({ runningCount: 3, rolloutState: 'COMPLETED' })]),
        'new-deployment-id',
      ),
    ).toEqual({
      line: 'web:2 COMPLETED: 3/3 running, 0 pending, 0 failed (circuit breaker at 3)',
      outcome: { done: true, ok: true },
    });
  });

  test('failed and rolled back: the breaker reason and where it rolled back to', () => {
    const failed = deployment({
      status: 'ACTIVE',
      failedTasks: 3,
      rolloutState: 'FAILED',
      rolloutStateReason:
        'ECS deployment circuit breaker: 3 tasks failed to start or stay healthy (threshold 3).',
    });
    const rollback = deployment({
      id: 'rollback-id',
      taskDefinition: td(1),
      rolledBackFrom: 'new-deployment-id',
    });
    expect(deployProgress(service([rollback, failed]), 'new-deployment-id').outcome).toEqual({
      done: true,
      ok: false,
      reason:
        'ECS deployment circuit breaker: 3 tasks failed to start or stay healthy (threshold 3). Rolled back to web:1 (deployment rollback-id).',
    });
  });

  test('rolled back before a look saw it fail: the reason ListServiceDeployments kept', () => {
    const rollback = deployment({
      id: 'rollback-id',
      taskDefinition: td(1),
      rolloutState: 'COMPLETED',
      rolledBackFrom: 'new-deployment-id',
    });
    expect(needsFinalReason(service([rollback]), 'new-deployment-id')).toBe(true);
    const reason = 'ECS deployment circuit breaker: 3 tasks failed to start or stay healthy (threshold 3).';
    expect(deployProgress(service([rollback]), 'new-deployment-id', reason).outcome).toEqual({
      done: true,
      ok: false,
      reason: `${reason} Rolled back to web:1 (deployment rollback-id).`,
    });
  });

  test('replaced by another deployment before it completed', () => {
    const other = deployment({ id: 'someone-elses', taskDefinition: td(3) });
    expect(needsFinalReason(service([other]), 'new-deployment-id')).toBe(false);
    expect(deployProgress(service([other]), 'new-deployment-id').outcome).toEqual({
      done: true,
      ok: false,
      reason:
        'deployment new-deployment-id was replaced by deployment someone-elses (web:3) before it completed',
    });
  });
});

test('newEvents: those not shown yet and not older than the deploy, oldest first', () => {
  const events = [
    { id: 'c', createdAt: '2026-11-28T10:00:03.000Z', message: 'third' },
    { id: 'b', createdAt: '2026-11-28T10:00:02.000Z', message: 'second' },
    { id: 'a', createdAt: '2026-11-28T09:59:00.000Z', message: 'before the deploy' },
  ];
  const shown = new Set(['b']);
  expect(newEvents(events, shown, new Date('2026-11-28T10:00:00Z')).map((e) => e.message)).toEqual(['third']);
});

test('taskDefinitionFromFile takes ECS JSON or DescribeTaskDefinition output, and names the file otherwise', () => {
  const def = { family: 'web', containerDefinitions: [{ name: 'web', image: 'x' }] };
  expect(taskDefinitionFromFile(JSON.stringify(def), 'web.json')).toEqual(def);
  expect(taskDefinitionFromFile(JSON.stringify({ taskDefinition: def }), 'web.json')).toEqual(def);
  expect(() => taskDefinitionFromFile('{', 'web.json')).toThrow(/^web.json: not JSON/);
  expect(() => taskDefinitionFromFile('{"family":"web"}', 'web.json')).toThrow(
    'web.json: not a task definition: it needs family and containerDefinitions',
  );
});
