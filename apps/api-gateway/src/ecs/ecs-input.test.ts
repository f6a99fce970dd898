import { ecsTargets, includeList, pageOf, stringList } from './ecs-input.js';
import { ecsActionName, isReadOnlyAction } from './ecs-protocol.js';

const ARN = 'arn:berth:ecs:local:000000000000';
const TASK = '1a2b3c4d-0000-4000-8000-000000000000';
const INSTANCE = '1a2b3c4d-0000-4000-8000-000000000001';

describe('ecsTargets: the resources an ECS call acts on, as REST route parameters', () => {
  it.each([
    ['ListClusters', {}, [{}]],
    ['CreateCluster', { clusterName: 'prod' }, [{}]],
    ['RegisterTaskDefinition', { family: 'web' }, [{}]],
    ['ListTaskDefinitions', {}, [{}]],
    ['DescribeClusters', {}, [{ cluster: 'default' }]],
    [
      'DescribeClusters',
      { clusters: ['prod', `${ARN}:cluster/dev`, 'bad/name'] },
      [{ cluster: 'prod' }, { cluster: 'dev' }],
    ],
    ['DeleteCluster', { cluster: `${ARN}:cluster/prod` }, [{ cluster: 'prod' }]],
    ['DescribeTaskDefinition', { taskDefinition: 'web:3' }, [{ ref: 'web:3' }]],
    [
      'DeregisterTaskDefinition',
      { taskDefinition: `${ARN}:task-definition/web:3` },
      [{ ref: `${ARN}:task-definition/web:3` }],
    ],
    ['RunTask', { taskDefinition: 'web' }, [{ cluster: 'default' }]],
    ['RunTask', { cluster: 'prod', taskDefinition: 'web' }, [{ cluster: 'prod' }]],
    ['ListTasks', {}, [{ cluster: 'default' }]],
    ['CreateService', { cluster: 'prod' }, [{ cluster: 'prod' }]],
    ['ListContainerInstances', { cluster: 'prod' }, [{ cluster: 'prod' }]],
    ['StopTask', { cluster: 'prod', task: `${ARN}:task/prod/${TASK}` }, [{ cluster: 'prod', task: TASK }]],
    ['DescribeTasks', { cluster: 'prod', tasks: [TASK, 'junk'] }, [{ cluster: 'prod', task: TASK }]],
    ['DescribeTasks', { cluster: 'prod', tasks: ['junk'] }, [{ cluster: 'prod' }]],
    [
      'UpdateService',
      { cluster: 'prod', service: `${ARN}:service/prod/web` },
      [{ cluster: 'prod', service: 'web' }],
    ],
    ['DeleteService', { service: 'web' }, [{ cluster: 'default', service: 'web' }]],
    [
      'DescribeServices',
      { cluster: 'prod', services: ['web', 'api'] },
      [
        { cluster: 'prod', service: 'web' },
        { cluster: 'prod', service: 'api' },
      ],
    ],
    [
      'DescribeContainerInstances',
      { cluster: 'prod', containerInstances: [INSTANCE] },
      [{ cluster: 'prod', id: INSTANCE }],
    ],
    ['UpdateClusterSettings', { cluster: 'prod', settings: [] }, [{ cluster: 'prod' }]],
    ['UpdateCluster', { cluster: `${ARN}:cluster/prod` }, [{ cluster: 'prod' }]],
    ['TagResource', { resourceArn: `${ARN}:cluster/prod`, tags: [] }, [{ cluster: 'prod' }]],
    [
      'UntagResource',
      { resourceArn: `${ARN}:service/prod/web`, tagKeys: ['a'] },
      [{ cluster: 'prod', service: 'web' }],
    ],
    ['ListTagsForResource', { resourceArn: `${ARN}:task/prod/${TASK}` }, [{ cluster: 'prod', task: TASK }]],
    [
      'ListTagsForResource',
      { resourceArn: `${ARN}:container-instance/prod/${INSTANCE}` },
      [{ cluster: 'prod', id: INSTANCE }],
    ],
    ['TagResource', { resourceArn: `${ARN}:task-definition/web:2` }, [{ ref: 'web:2' }]],
    [
      'DeleteTaskDefinitions',
      { taskDefinitions: ['web:1', 'bad def', 'api:2'] },
      [{ ref: 'web:1' }, { ref: 'api:2' }],
    ],
    ['ListServiceDeployments', { cluster: 'prod', service: 'web' }, [{ cluster: 'prod', service: 'web' }]],
    [
      'DescribeServiceDeployments',
      { serviceDeploymentArns: [`${ARN}:service-deployment/prod/web/${TASK}`, 'junk'] },
      [{ cluster: 'prod', service: 'web' }],
    ],
    ['DescribeServiceDeployments', { serviceDeploymentArns: ['junk'] }, [{}]],
    [
      'UpdateContainerInstancesState',
      { cluster: 'prod', containerInstances: [INSTANCE] },
      [{ cluster: 'prod', id: INSTANCE }],
    ],
    ['DeregisterContainerInstance', { containerInstance: INSTANCE }, [{ cluster: 'default', id: INSTANCE }]],
    ['PutAttributes', { attributes: [] }, [{ cluster: 'default' }]],
    // Calls Berth does not offer yet: the cluster they name, else nothing.
    ['PutAccountSetting', { name: 'containerInsights' }, [{}]],
    ['UpdateTaskProtection', { cluster: 'prod', tasks: [TASK] }, [{ cluster: 'prod', task: TASK }]],
    ['GetTaskProtection', { cluster: 'prod' }, [{ cluster: 'prod' }]],
    ['GetTaskProtection', { tasks: [TASK] }, [{ cluster: 'default', task: TASK }]],
    ['CreateTaskSet', { cluster: 'prod' }, [{ cluster: 'prod' }]],
  ])('%s %j → %j', (action, input, targets) => {
    expect(ecsTargets(action, input)).toEqual(targets);
  });

  it.each([
    ['DeleteCluster', {}, /cluster: is required/],
    ['DeleteCluster', { cluster: 'a/b' }, /cluster: must be a cluster name/],
    ['RunTask', { cluster: 7 }, /cluster: must be a string/],
    ['StopTask', { task: 'not-a-uuid' }, /task: must be a task id/],
    ['DescribeTasks', { tasks: [] }, /tasks: must list at least one/],
    ['DescribeTasks', { tasks: Array(101).fill(TASK) }, /tasks: must list at most 100/],
    ['DescribeServices', { services: 'web' }, /services: must be a list of strings/],
    ['DescribeTaskDefinition', { taskDefinition: 'web:x' }, /revision must be a positive integer/],
    ['TagResource', { resourceArn: 'prod' }, /resourceArn: must be the ARN/],
    ['ListTagsForResource', { resourceArn: `${ARN}:task-definition/web` }, /resourceArn: must be the ARN/],
    ['DeleteTaskDefinitions', { taskDefinitions: [] }, /taskDefinitions: must list at least one/],
  ])('%s %j is refused: %s', (action, input, message) => {
    expect(() => ecsTargets(action, input)).toThrow(
      expect.objectContaining({
        exception: 'InvalidParameterException',
        message: expect.stringMatching(message),
      }),
    );
  });
});

describe('reading ECS input', () => {
  it('pages with numbers as the services read strings, and takes a default', () => {
    expect(pageOf({ maxResults: 5, nextToken: 'abc' })).toEqual({ maxResults: '5', nextToken: 'abc' });
    expect(pageOf({}, 10)).toEqual({ maxResults: '10', nextToken: undefined });
    expect(() => pageOf({ maxResults: '5' })).toThrow(/maxResults: must be an integer/);
  });

  it('treats JSON null as absent, as the SDKs do', () => {
    expect(stringList({ tasks: null }, 'tasks')).toBeUndefined();
    expect(pageOf({ maxResults: null })).toEqual({ maxResults: undefined, nextToken: undefined });
  });

  it('accepts only the include values an action defines', () => {
    expect(includeList({ include: ['TAGS'] }, ['TAGS'])).toEqual(new Set(['TAGS']));
    expect(() => includeList({ include: ['SECRETS'] }, ['TAGS'])).toThrow(
      /include: SECRETS is not one of TAGS/,
    );
  });
});

describe('the X-Amz-Target header', () => {
  it.each([
    ['AmazonEC2ContainerServiceV20141113.ListClusters', 'ListClusters'],
    ['AmazonEC2ContainerServiceV20141113.', undefined],
    ['AmazonEC2ContainerServiceV20141113.list clusters', undefined],
    ['DynamoDB_20120810.ListTables', undefined],
    [undefined, undefined],
  ])('%s → %s', (target, action) => expect(ecsActionName(target)).toBe(action));

  it.each([
    ['DescribeTasks', true],
    ['ListClusters', true],
    ['GetTaskProtection', true],
    ['RunTask', false],
    ['Listen', false],
  ])('%s is read-only: %s', (action, readOnly) => expect(isReadOnlyAction(action)).toBe(readOnly));
});
