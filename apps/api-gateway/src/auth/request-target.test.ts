import { requestTarget } from './request-target.js';

const ctx = { region: 'local', account: '000000000000' };
const ARN = 'arn:berth:ecs:local:000000000000';

describe('requestTarget', () => {
  it.each<[Record<string, string>, string, string | undefined]>([
    [{}, '*', undefined],
    [{ cluster: 'prod' }, `${ARN}:cluster/prod`, `${ARN}:cluster/prod`],
    [{ cluster: `${ARN}:cluster/prod` }, `${ARN}:cluster/prod`, `${ARN}:cluster/prod`],
    [{ cluster: 'prod', service: 'web' }, `${ARN}:service/prod/web`, `${ARN}:cluster/prod`],
    [{ cluster: 'prod', task: `${ARN}:task/prod/abc` }, `${ARN}:task/prod/abc`, `${ARN}:cluster/prod`],
    [{ cluster: 'prod', id: 'i-1' }, `${ARN}:container-instance/prod/i-1`, `${ARN}:cluster/prod`],
    [{ cluster: 'prod', name: 'db-password' }, `${ARN}:secret/prod/db-password`, `${ARN}:cluster/prod`],
    [{ cluster: 'prod', registry: 'r.example' }, `${ARN}:cluster/prod`, `${ARN}:cluster/prod`],
    [{ ref: 'web:3' }, `${ARN}:task-definition/web:3`, undefined],
    [{ ref: `${ARN}:task-definition/web:3` }, `${ARN}:task-definition/web:3`, undefined],
    [
      { accessKeyId: 'BKIA0123456789ABCDEF' },
      'arn:berth:iam::000000000000:access-key/BKIA0123456789ABCDEF',
      undefined,
    ],
    [
      { targetGroup: 'web-tg' },
      'arn:berth:elasticloadbalancing:local:000000000000:targetgroup/web-tg',
      undefined,
    ],
    [
      { targetGroup: 'arn:berth:elasticloadbalancing:local:000000000000:targetgroup/web-tg' },
      'arn:berth:elasticloadbalancing:local:000000000000:targetgroup/web-tg',
      undefined,
    ],
    [
      { loadBalancer: 'edge' },
      'arn:berth:elasticloadbalancing:local:000000000000:loadbalancer/edge',
      undefined,
    ],
  ])('%j acts on %s in %s', (params, resource, clusterArn) => {
    expect(requestTarget(ctx, params)).toEqual(clusterArn ? { resource, clusterArn } : { resource });
  });
});
