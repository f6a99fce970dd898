import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as model from '@aws-sdk/client-ecs';
import { startTestGateway, type TestGateway } from './gateway.js';
import { modelViolations, outputOf } from './ecs-model.js';

/**
 * Every ECS action Berth offers, answered in the shape of the service model that
 * `@aws-sdk/client-ecs` ships: no member the model does not define, required members present,
 * types and enum values as the model says. The actions listed as implemented in
 * docs/ecs-compatibility.md are exactly the ones covered here.
 */

const TARGET = 'AmazonEC2ContainerServiceV20141113';
let gw: TestGateway;
const answers = new Map<string, unknown[]>();

async function call(action: string, input: Record<string, unknown>) {
  const res = await gw.anonymous
    .post('/')
    .set('authorization', `Bearer ${gw.adminToken}`)
    .set('content-type', 'application/x-amz-json-1.1')
    .set('x-amz-target', `${TARGET}.${action}`)
    .send(JSON.stringify(input));
  expect({ action, status: res.status, body: res.status === 200 ? 'ok' : res.text }).toEqual({
    action,
    status: 200,
    body: 'ok',
  });
  const body = JSON.parse(res.text) as Record<string, unknown>;
  answers.set(action, [...(answers.get(action) ?? []), body]);
  return body;
}

beforeAll(async () => {
  gw = await startTestGateway('ecs-contract');
}, 60_000);
afterAll(async () => gw?.close());

test('each implemented action answers in the shape of the ECS service model', async () => {
  await call('CreateCluster', { clusterName: 'prod', tags: [{ key: 'a', value: 'b' }] });
  const { rows } = await gw.sql.query(`SELECT id FROM cluster WHERE name = 'prod'`);
  const instance = randomUUID();
  await gw.sql.query(
    `INSERT INTO container_instance (id, cluster_id, host_address, registered_cpu, registered_memory, attributes, updated_at)
     VALUES ($1, $2, '10.0.0.1', 1024, 1024, '{"os": "linux"}', now())`,
    [instance, rows[0].id],
  );
  await call('ListClusters', { maxResults: 1 });
  await call('DescribeClusters', {
    clusters: ['prod', 'nope'],
    include: ['SETTINGS', 'STATISTICS', 'TAGS', 'ATTACHMENTS', 'CONFIGURATIONS'],
  });
  await call('RegisterTaskDefinition', {
    family: 'web',
    networkMode: 'bridge',
    requiresCompatibilities: ['EC2'],
    cpu: '0.25 vcpu',
    memory: null,
    tags: [{ key: 'team', value: 'web' }],
    volumes: [{ name: 'data' }],
    placementConstraints: [{ type: 'memberOf', expression: 'attribute:os == linux' }],
    containerDefinitions: [
      {
        name: 'web',
        image: 'berth/busybox',
        cpu: 128,
        memory: 64,
        essential: true,
        command: ['httpd', '-f'],
        environment: [{ name: 'A', value: '1' }],
        portMappings: [{ containerPort: 80, hostPort: 0, protocol: 'tcp' }],
        mountPoints: [{ sourceVolume: 'data', containerPath: '/data' }],
        healthCheck: { command: ['CMD-SHELL', 'true'], interval: 5, timeout: 2, retries: 2 },
        linuxParameters: { initProcessEnabled: true },
        stopTimeout: 5,
      },
    ],
  });
  await call('DescribeTaskDefinition', { taskDefinition: 'web', include: ['TAGS'] });
  await call('ListTaskDefinitions', { familyPrefix: 'w', sort: 'DESC', maxResults: 5 });
  await call('ListTaskDefinitionFamilies', { status: 'ACTIVE' });

  const run = await call('RunTask', {
    cluster: 'prod',
    taskDefinition: 'web:1',
    count: 2,
    startedBy: 'contract',
    group: 'g',
    tags: [{ key: 'k', value: 'v' }],
    overrides: { containerOverrides: [{ name: 'web', environment: [{ name: 'B', value: '2' }] }] },
    placementStrategy: [{ type: 'spread', field: 'instanceId' }],
    clientToken: randomUUID(),
  });
  const [first] = run.tasks as { taskArn: string }[];
  await call('StartTask', {
    cluster: 'prod',
    taskDefinition: 'web:1',
    containerInstances: [instance, randomUUID()],
    startedBy: 'contract',
  });
  await call('ListTasks', { cluster: 'prod', family: 'web' });
  await call('DescribeTasks', { cluster: 'prod', tasks: [first!.taskArn, randomUUID()], include: ['TAGS'] });
  await call('StopTask', { cluster: 'prod', task: first!.taskArn, reason: 'contract' });

  await call('CreateService', {
    cluster: 'prod',
    serviceName: 'web',
    taskDefinition: 'web',
    desiredCount: 1,
    deploymentConfiguration: {
      minimumHealthyPercent: 50,
      maximumPercent: 200,
      deploymentCircuitBreaker: { enable: true, rollback: true },
    },
    placementConstraints: [{ type: 'distinctInstance' }],
    healthCheckGracePeriodSeconds: 10,
    clientToken: randomUUID(),
    tags: [{ key: 'svc', value: 'web' }],
    propagateTags: 'SERVICE',
    enableECSManagedTags: true,
  });
  await call('UpdateService', { cluster: 'prod', service: 'web', desiredCount: 2, forceNewDeployment: true });
  const [second] = (run.tasks as { taskArn: string }[]).slice(1);
  await call('UpdateTaskProtection', {
    cluster: 'prod',
    tasks: [second!.taskArn, randomUUID()],
    protectionEnabled: true,
  });
  await call('GetTaskProtection', { cluster: 'prod' });
  await call('ListServices', { cluster: 'prod' });
  await call('DescribeServices', { cluster: 'prod', services: ['web', 'nope'], include: ['TAGS'] });
  await call('ListContainerInstances', { cluster: 'prod', status: 'ACTIVE' });
  await call('DescribeContainerInstances', {
    cluster: 'prod',
    containerInstances: [instance, randomUUID()],
    include: ['TAGS'],
  });
  await call('PutAttributes', {
    cluster: 'prod',
    attributes: [{ name: 'rack', value: 'r1', targetId: instance }],
  });
  await call('ListAttributes', { cluster: 'prod', targetType: 'container-instance', maxResults: 1 });
  await call('DeleteAttributes', { cluster: 'prod', attributes: [{ name: 'rack', targetId: instance }] });
  await call('UpdateContainerInstancesState', {
    cluster: 'prod',
    containerInstances: [instance, randomUUID()],
    status: 'DRAINING',
  });
  await call('DeregisterContainerInstance', { cluster: 'prod', containerInstance: instance, force: true });
  await call('UpdateClusterSettings', {
    cluster: 'prod',
    settings: [{ name: 'containerInsights', value: 'enabled' }],
  });
  await call('UpdateCluster', {
    cluster: 'prod',
    settings: [{ name: 'containerInsights', value: 'disabled' }],
    configuration: { executeCommandConfiguration: { logging: 'DEFAULT' } },
  });
  const serviceArn = 'arn:berth:ecs:local:000000000000:service/prod/web';
  await call('TagResource', { resourceArn: serviceArn, tags: [{ key: 'env', value: 'prod' }] });
  await call('UntagResource', { resourceArn: serviceArn, tagKeys: ['svc'] });
  await call('ListTagsForResource', { resourceArn: serviceArn });
  const listed = await call('ListServiceDeployments', { cluster: 'prod', service: 'web', maxResults: 1 });
  await call('ListServiceDeployments', {
    cluster: 'prod',
    service: 'web',
    status: ['IN_PROGRESS', 'STOPPED'],
    createdAt: { after: 0 },
    nextToken: listed.nextToken,
  });
  const [brief] = listed.serviceDeployments as { serviceDeploymentArn: string }[];
  await call('DescribeServiceDeployments', {
    serviceDeploymentArns: [
      brief!.serviceDeploymentArn,
      `arn:berth:ecs:local:000000000000:service-deployment/prod/web/${randomUUID()}`,
    ],
  });
  await call('DeleteService', { cluster: 'prod', service: 'web', force: true });
  await call('DeregisterTaskDefinition', { taskDefinition: 'web:1' });
  await call('RegisterTaskDefinition', {
    family: 'gone',
    containerDefinitions: [{ name: 'c', image: 'berth/busybox', memory: 16 }],
  });
  await call('DeregisterTaskDefinition', { taskDefinition: 'gone:1' });
  await call('DeleteTaskDefinitions', { taskDefinitions: ['gone:1', 'web:1', 'web:99', 'gone'] });
  await call('CreateCluster', { clusterName: 'empty' });
  await call('DeleteCluster', { cluster: 'empty' });

  const violations = [...answers].flatMap(([action, bodies]) =>
    bodies.flatMap((body) =>
      modelViolations(outputOf((model as Record<string, unknown>)[`${action}$`]), body, action),
    ),
  );
  expect(violations).toEqual([]);

  // The compatibility doc lists exactly these actions as implemented.
  const doc = readFileSync(new URL('../../../docs/ecs-compatibility.md', import.meta.url), 'utf8');
  const documented = [...doc.matchAll(/^\| (\w+) \| implemented \|$/gm)].map((m) => m[1]);
  expect(documented.sort()).toEqual([...answers.keys()].sort());
});

test('the model check catches what it should', () => {
  const failure = outputOf(model.DescribeClusters$);
  expect(modelViolations(failure, { clusters: [{ clusterName: 1, extra: true }], failures: [] })).toEqual([
    '$.clusters[0].clusterName: 1 is not of type 0',
    '$.clusters[0].extra: not a member of Cluster',
  ]);
  expect(
    modelViolations(outputOf(model.StopTask$), { task: { stopCode: 'Whatever', createdAt: 'x' } }),
  ).toEqual([
    expect.stringMatching(/^\$.task.stopCode: Whatever is not one of .*UserInitiated/),
    '$.task.createdAt: "x" is not of type 4',
  ]);
});
