import { touched } from './invalidation';
import type { BerthEvent } from '@berth/api-client';

const ARN = 'arn:berth:ecs:local:000000000000';
const event = (type: string, detail: Record<string, unknown>, resources: string[] = []): BerthEvent => ({
  id: '1-1',
  'detail-type': type,
  time: '2026-11-28T00:00:00Z',
  resources,
  detail,
});

describe('touched', () => {
  it('a service task: the task, task lists, its instance, its service and the cluster counts', () => {
    expect(
      touched(
        'prod',
        event('ECS Task State Change', {
          taskArn: `${ARN}:task/prod/t1`,
          containerInstanceArn: `${ARN}:container-instance/prod/i1`,
          group: 'service:web',
        }),
      ),
    ).toEqual([
      ['clusters'],
      ['c', 'prod', 'cluster'],
      ['c', 'prod', 'tasks'],
      ['c', 'prod', 'task', 't1'],
      ['c', 'prod', 'instances'],
      ['c', 'prod', 'instance', 'i1'],
      ['c', 'prod', 'services'],
      ['c', 'prod', 'service', 'web'],
    ]);
  });

  it('a task of no service, not yet placed, leaves services and instances pages alone', () => {
    const keys = touched(
      'prod',
      event('ECS Task State Change', { taskArn: `${ARN}:task/prod/t2`, group: 'family:web' }),
    );
    expect(keys).not.toContainEqual(['c', 'prod', 'services']);
    expect(keys.some((k) => k[2] === 'instance' || k[2] === 'service')).toBe(false);
  });

  it('a deployment or service action: that service and the services list, not the tasks', () => {
    for (const type of ['ECS Deployment State Change', 'ECS Service Action']) {
      const keys = touched('prod', event(type, { eventName: 'x' }, [`${ARN}:service/prod/web`]));
      expect(keys).toContainEqual(['c', 'prod', 'service', 'web']);
      expect(keys).toContainEqual(['c', 'prod', 'services']);
      expect(keys).not.toContainEqual(['c', 'prod', 'tasks']);
    }
  });

  it('an instance: the instance and the instance lists', () => {
    expect(
      touched(
        'prod',
        event('ECS Container Instance State Change', {
          containerInstanceArn: `${ARN}:container-instance/prod/i1`,
        }),
      ),
    ).toEqual([
      ['clusters'],
      ['c', 'prod', 'cluster'],
      ['c', 'prod', 'instances'],
      ['c', 'prod', 'instance', 'i1'],
    ]);
  });
});
