import { randomUUID } from 'node:crypto';
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DeleteClusterCommand,
  DeleteTaskDefinitionsCommand,
  DeregisterTaskDefinitionCommand,
  DescribeClustersCommand,
  DescribeContainerInstancesCommand,
  DescribeServiceDeploymentsCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSClient,
  ListClustersCommand,
  ListServiceDeploymentsCommand,
  ListTagsForResourceCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateClusterCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { startTestGateway, type TestGateway } from './gateway.js';

/**
 * Tags (TagResource, UntagResource, ListTagsForResource, tags given at creation, propagateTags),
 * INACTIVE clusters, UpdateCluster, DeleteTaskDefinitions and the service deployment calls, through
 * the AWS SDK against a gateway on its own database.
 */

const ARN = 'arn:berth:ecs:local:000000000000';

let gw: TestGateway;
let ecs: ECSClient;

const keyOf = (token: string) => {
  const [accessKeyId, secretAccessKey] = token.split(':') as [string, string];
  return { accessKeyId, secretAccessKey };
};
const clientFor = (token: string) =>
  new ECSClient({ endpoint: gw.url, region: 'local', credentials: keyOf(token), maxAttempts: 1 });
const failure = (p: Promise<unknown>) => p.then(() => undefined).catch((e: unknown) => e as Error);

const definition = (family: string, tags?: { key: string; value: string }[]) =>
  new RegisterTaskDefinitionCommand({
    family,
    containerDefinitions: [{ name: 'c', image: 'berth/busybox', memory: 16 }],
    ...(tags ? { tags } : {}),
  });

async function addInstance(cluster: string): Promise<string> {
  const id = randomUUID();
  await gw.sql.query(
    `INSERT INTO container_instance (id, cluster_id, host_address, registered_cpu, registered_memory, updated_at)
     SELECT $1, id, '10.0.0.9', 1024, 1024, now() FROM cluster WHERE name = $2`,
    [id, cluster],
  );
  return id;
}

beforeAll(async () => {
  gw = await startTestGateway('ecs-tags');
  ecs = clientFor(gw.adminToken);
}, 60_000);
afterAll(async () => gw?.close());

describe('tags', () => {
  it('stores the tags CreateCluster is given and answers them with include TAGS', async () => {
    await ecs.send(new CreateClusterCommand({ clusterName: 'tagged', tags: [{ key: 'team', value: 'a' }] }));
    const { clusters } = await ecs.send(
      new DescribeClustersCommand({ clusters: ['tagged'], include: ['TAGS'] }),
    );
    expect(clusters?.[0]?.tags).toEqual([{ key: 'team', value: 'a' }]);
    const untagged = await ecs.send(new DescribeClustersCommand({ clusters: ['tagged'] }));
    expect(untagged.clusters?.[0]?.tags).toBeUndefined();
  });

  it('tags, lists and untags each kind of resource by its ARN', async () => {
    await ecs.send(definition('tagdef', [{ key: 'from', value: 'td' }]));
    const run = await ecs.send(new RunTaskCommand({ cluster: 'tagged', taskDefinition: 'tagdef:1' }));
    const taskArn = run.tasks![0]!.taskArn!;
    await ecs.send(
      new CreateServiceCommand({
        cluster: 'tagged',
        serviceName: 'svc',
        taskDefinition: 'tagdef',
        desiredCount: 0,
      }),
    );
    const instance = await addInstance('tagged');
    const resources = [
      `${ARN}:cluster/tagged`,
      `${ARN}:service/tagged/svc`,
      taskArn,
      `${ARN}:container-instance/tagged/${instance}`,
      `${ARN}:task-definition/tagdef:1`,
    ];
    for (const resourceArn of resources) {
      await ecs.send(
        new TagResourceCommand({
          resourceArn,
          tags: [
            { key: 'env', value: 'prod' },
            { key: 'owner', value: 'x' },
          ],
        }),
      );
      // A key the resource has takes the new value.
      await ecs.send(new TagResourceCommand({ resourceArn, tags: [{ key: 'owner', value: 'y' }] }));
      await ecs.send(new UntagResourceCommand({ resourceArn, tagKeys: ['env', 'nothing'] }));
      const { tags } = await ecs.send(new ListTagsForResourceCommand({ resourceArn }));
      expect({ resourceArn, owner: tags?.find((t) => t.key === 'owner') }).toEqual({
        resourceArn,
        owner: { key: 'owner', value: 'y' },
      });
      expect(tags?.some((t) => t.key === 'env')).toBe(false);
    }
    // Each Describe* answers them with include TAGS.
    const td = await ecs.send(
      new DescribeTaskDefinitionCommand({ taskDefinition: 'tagdef:1', include: ['TAGS'] }),
    );
    expect(td.tags).toEqual([
      { key: 'from', value: 'td' },
      { key: 'owner', value: 'y' },
    ]);
    const svc = await ecs.send(
      new DescribeServicesCommand({ cluster: 'tagged', services: ['svc'], include: ['TAGS'] }),
    );
    expect(svc.services?.[0]?.tags).toEqual([{ key: 'owner', value: 'y' }]);
    const tasks = await ecs.send(
      new DescribeTasksCommand({ cluster: 'tagged', tasks: [taskArn], include: ['TAGS'] }),
    );
    expect(tasks.tasks?.[0]?.tags).toEqual([{ key: 'owner', value: 'y' }]);
    const instances = await ecs.send(
      new DescribeContainerInstancesCommand({
        cluster: 'tagged',
        containerInstances: [instance],
        include: ['TAGS'],
      }),
    );
    expect(instances.containerInstances?.[0]?.tags).toEqual([{ key: 'owner', value: 'y' }]);
  });

  it("refuses ECS's limits: 50 tags, key and value lengths, the aws: prefix, bad characters", async () => {
    const resourceArn = `${ARN}:cluster/tagged`;
    const tooMany = Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: 'v' }));
    const cases = [
      tooMany, // 50 new ones on top of the cluster's own
      [{ key: 'x'.repeat(129), value: 'v' }],
      [{ key: 'k', value: 'v'.repeat(257) }],
      [{ key: 'aws:owner', value: 'v' }],
      [{ key: 'AWS:owner', value: 'v' }],
      [{ key: 'semi;colon', value: 'v' }],
      [{ key: '', value: 'v' }],
    ];
    for (const tags of cases) {
      const error = await failure(ecs.send(new TagResourceCommand({ resourceArn, tags })));
      expect({ key: tags[0]!.key.slice(0, 10), error: error?.name }).toEqual({
        key: tags[0]!.key.slice(0, 10),
        error: 'InvalidParameterException',
      });
    }
    const untag = await failure(ecs.send(new UntagResourceCommand({ resourceArn, tagKeys: ['aws:x'] })));
    expect(untag?.name).toBe('InvalidParameterException');
    const created = await failure(
      ecs.send(new CreateClusterCommand({ clusterName: 'limits', tags: [{ key: 'aws:x', value: '1' }] })),
    );
    expect(created?.name).toBe('InvalidParameterException');
    // Nothing was written.
    expect((await ecs.send(new ListTagsForResourceCommand({ resourceArn }))).tags).toHaveLength(2);
  });

  it('answers ResourceNotFoundException, ClusterNotFoundException or InvalidParameterException for ARNs that name nothing', async () => {
    const names = async (resourceArn: string) =>
      (await failure(ecs.send(new ListTagsForResourceCommand({ resourceArn }))))?.name;
    expect(await names(`${ARN}:task/tagged/${randomUUID()}`)).toBe('ResourceNotFoundException');
    expect(await names(`${ARN}:service/tagged/nope`)).toBe('ResourceNotFoundException');
    expect(await names(`${ARN}:task-definition/tagdef:99`)).toBe('ResourceNotFoundException');
    expect(await names(`${ARN}:cluster/nope`)).toBe('ClusterNotFoundException');
    expect(await names(`${ARN}:task-definition/tagdef`)).toBe('InvalidParameterException');
    expect(await names(`${ARN}:service/svc`)).toBe('InvalidParameterException');
    expect(await names('not-an-arn')).toBe('InvalidParameterException');
  });

  it('propagates tags to tasks: RunTask TASK_DEFINITION (its own tags win), SERVICE refused', async () => {
    const run = await ecs.send(
      new RunTaskCommand({
        cluster: 'tagged',
        taskDefinition: 'tagdef:1',
        propagateTags: 'TASK_DEFINITION',
        tags: [
          { key: 'owner', value: 'task' },
          { key: 'own', value: '1' },
        ],
      }),
    );
    const { tags } = await ecs.send(new ListTagsForResourceCommand({ resourceArn: run.tasks![0]!.taskArn! }));
    expect(tags).toEqual([
      { key: 'from', value: 'td' },
      { key: 'owner', value: 'task' },
      { key: 'own', value: '1' },
    ]);
    const error = await failure(
      ecs.send(
        new RunTaskCommand({ cluster: 'tagged', taskDefinition: 'tagdef:1', propagateTags: 'SERVICE' }),
      ),
    );
    expect(error?.name).toBe('InvalidParameterException');
  });

  it('keeps a service propagateTags and enableECSManagedTags, and answers them', async () => {
    await ecs.send(
      new CreateServiceCommand({
        cluster: 'tagged',
        serviceName: 'prop',
        taskDefinition: 'tagdef',
        desiredCount: 0,
        propagateTags: 'SERVICE',
        enableECSManagedTags: true,
        tags: [{ key: 'svc', value: 'prop' }],
      }),
    );
    const { services } = await ecs.send(
      new DescribeServicesCommand({ cluster: 'tagged', services: ['prop'], include: ['TAGS'] }),
    );
    expect(services?.[0]).toMatchObject({
      propagateTags: 'SERVICE',
      enableECSManagedTags: true,
      tags: [{ key: 'svc', value: 'prop' }],
    });
    const updated = await ecs.send(
      new UpdateServiceCommand({ cluster: 'tagged', service: 'prop', propagateTags: 'TASK_DEFINITION' }),
    );
    expect(updated.service?.propagateTags).toBe('TASK_DEFINITION');
  });

  it('checks the policy against the tagged ARN and its cluster, over ECS and REST', async () => {
    const created = await gw.http.post('/v1/access-keys').send({
      name: 'tagger',
      policies: [
        {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Action: ['ecs:TagResource', 'ecs:ListTagsForResource'],
              Resource: [`${ARN}:cluster/tagged`],
            },
          ],
        },
      ],
    });
    expect(created.status).toBe(200);
    const token = `${created.body.accessKey.accessKeyId}:${created.body.accessKey.secretAccessKey}`;
    const tagger = clientFor(token);
    // A grant on a cluster covers what lives in it.
    await tagger.send(
      new TagResourceCommand({ resourceArn: `${ARN}:service/tagged/svc`, tags: [{ key: 'ok', value: '1' }] }),
    );
    await ecs.send(new CreateClusterCommand({ clusterName: 'other' }));
    const denied = await failure(
      tagger.send(
        new TagResourceCommand({ resourceArn: `${ARN}:cluster/other`, tags: [{ key: 'no', value: '1' }] }),
      ),
    );
    expect(denied?.name).toBe('AccessDeniedException');
    expect(denied?.message).toContain(`ecs:TagResource on resource: ${ARN}:cluster/other`);
    const untag = await failure(
      tagger.send(new UntagResourceCommand({ resourceArn: `${ARN}:cluster/tagged`, tagKeys: ['team'] })),
    );
    expect(untag?.name).toBe('AccessDeniedException');
    // The same over REST, the ARN URL-encoded in the path.
    const path = (arn: string) => `/v1/tags/${encodeURIComponent(arn)}`;
    const listed = await gw.as(token).get(path(`${ARN}:service/tagged/svc`));
    expect(listed.status).toBe(200);
    expect(listed.body.tags).toContainEqual({ key: 'ok', value: '1' });
    expect(
      (
        await gw
          .as(token)
          .post(path(`${ARN}:cluster/other`))
          .send({ tags: [{ key: 'a', value: 'b' }] })
      ).status,
    ).toBe(403);
    const { rows } = await gw.sql.query(
      `SELECT action, resource, outcome FROM audit_event WHERE access_key_id = $1 AND outcome = 'Denied' ORDER BY event_time`,
      [created.body.accessKey.accessKeyId],
    );
    expect(rows[0]).toEqual({
      action: 'ecs:TagResource',
      resource: `${ARN}:cluster/other`,
      outcome: 'Denied',
    });
  });

  it('tags over REST: POST adds, DELETE ?tagKeys removes, GET lists', async () => {
    const path = `/v1/tags/${encodeURIComponent(`${ARN}:task-definition/tagdef:1`)}`;
    const added = await gw.http.post(path).send({ tags: [{ key: 'rest', value: 'yes' }] });
    expect(added.status).toBe(200);
    expect(added.body.tags).toContainEqual({ key: 'rest', value: 'yes' });
    const removed = await gw.http.delete(`${path}?tagKeys=rest,owner`);
    expect(removed.status).toBe(200);
    expect(removed.body.tags).toEqual([{ key: 'from', value: 'td' }]);
    expect((await gw.http.get(path)).body.tags).toEqual([{ key: 'from', value: 'td' }]);
    expect((await gw.http.post(path).send({})).status).toBe(400);
    expect(
      (await gw.http.get(`/v1/tags/${encodeURIComponent(`${ARN}:task/tagged/${randomUUID()}`)}`)).status,
    ).toBe(404);
  });
});

describe('clusters', () => {
  it('keeps UpdateCluster settings and configuration and answers them', async () => {
    const { cluster } = await ecs.send(
      new UpdateClusterCommand({
        cluster: 'tagged',
        settings: [{ name: 'containerInsights', value: 'enabled' }],
        configuration: { executeCommandConfiguration: { logging: 'DEFAULT' } },
      }),
    );
    expect(cluster).toMatchObject({
      settings: [{ name: 'containerInsights', value: 'enabled' }],
      configuration: { executeCommandConfiguration: { logging: 'DEFAULT' } },
    });
    const described = await ecs.send(
      new DescribeClustersCommand({ clusters: ['tagged'], include: ['SETTINGS'] }),
    );
    expect(described.clusters?.[0]?.settings).toEqual([{ name: 'containerInsights', value: 'enabled' }]);
    const bad = await failure(
      ecs.send(
        new UpdateClusterCommand({ cluster: 'tagged', settings: [{ name: 'nope' as never, value: 'x' }] }),
      ),
    );
    expect(bad?.name).toBe('InvalidParameterException');
    expect((await failure(ecs.send(new UpdateClusterCommand({ cluster: 'nope' }))))?.name).toBe(
      'ClusterNotFoundException',
    );
  });

  it('leaves a deleted cluster INACTIVE and describable; its name can be created again', async () => {
    await ecs.send(new CreateClusterCommand({ clusterName: 'gone', tags: [{ key: 'old', value: '1' }] }));
    const deleted = await ecs.send(new DeleteClusterCommand({ cluster: 'gone' }));
    expect(deleted.cluster?.status).toBe('INACTIVE');
    const { clusters, failures } = await ecs.send(
      new DescribeClustersCommand({ clusters: ['gone'], include: ['TAGS'] }),
    );
    expect(failures).toEqual([]);
    expect(clusters?.[0]).toMatchObject({
      clusterName: 'gone',
      status: 'INACTIVE',
      registeredContainerInstancesCount: 0,
    });
    expect((await ecs.send(new ListClustersCommand({}))).clusterArns).not.toContain(`${ARN}:cluster/gone`);
    // Every other call treats it as missing.
    for (const call of [
      ecs.send(new RunTaskCommand({ cluster: 'gone', taskDefinition: 'tagdef:1' })),
      ecs.send(new DeleteClusterCommand({ cluster: 'gone' })),
      ecs.send(
        new TagResourceCommand({ resourceArn: `${ARN}:cluster/gone`, tags: [{ key: 'a', value: 'b' }] }),
      ),
    ])
      expect((await failure(call))?.name).toBe('ClusterNotFoundException');
    expect((await gw.http.get('/v1/clusters/gone')).status).toBe(404);
    // Created again: ACTIVE, with the new call's tags only.
    const again = await ecs.send(
      new CreateClusterCommand({ clusterName: 'gone', tags: [{ key: 'new', value: '2' }] }),
    );
    expect(again.cluster).toMatchObject({ status: 'ACTIVE', tags: [{ key: 'new', value: '2' }] });
    expect((await ecs.send(new ListClustersCommand({}))).clusterArns).toContain(`${ARN}:cluster/gone`);
  });

  it('removes what a deleted cluster held: stopped tasks, INACTIVE services and instances', async () => {
    await ecs.send(new CreateClusterCommand({ clusterName: 'held' }));
    await ecs.send(new RunTaskCommand({ cluster: 'held', taskDefinition: 'tagdef:1' }));
    await gw.sql.query(
      `UPDATE task SET last_status = 'STOPPED', desired_status = 'STOPPED' WHERE cluster_id = (SELECT id FROM cluster WHERE name = 'held')`,
    );
    await ecs.send(new DeleteClusterCommand({ cluster: 'held' }));
    const { rows } = await gw.sql.query(
      `SELECT count(*)::int AS n FROM task WHERE cluster_id = (SELECT id FROM cluster WHERE name = 'held')`,
    );
    expect(rows[0].n).toBe(0);
  });
});

describe('DeleteTaskDefinitions', () => {
  it('deletes INACTIVE revisions, fails ACTIVE and missing ones, and never gives a revision number twice', async () => {
    await ecs.send(definition('del'));
    await ecs.send(definition('del'));
    await ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: 'del:2' }));
    const { taskDefinitions, failures } = await ecs.send(
      new DeleteTaskDefinitionsCommand({
        taskDefinitions: ['del:2', 'del:1', 'del:9', `${ARN}:task-definition/del`],
      }),
    );
    expect(taskDefinitions?.map((td) => [td.taskDefinitionArn, td.status])).toEqual([
      [`${ARN}:task-definition/del:2`, 'DELETE_IN_PROGRESS'],
    ]);
    expect(failures?.map((f) => [f.arn, f.reason])).toEqual([
      [`${ARN}:task-definition/del`, 'INVALID'],
      [`${ARN}:task-definition/del:1`, 'TASK_DEFINITION_ACTIVE'],
      [`${ARN}:task-definition/del:9`, 'MISSING'],
    ]);
    // Nothing referred to it: it is gone.
    const gone = await failure(ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'del:2' })));
    expect(gone?.name).toBe('ClientException');
    const next = await ecs.send(definition('del'));
    expect(next.taskDefinition?.revision).toBe(3);
  });

  it('keeps a revision that a task refers to DELETE_IN_PROGRESS until its cluster goes', async () => {
    await ecs.send(new CreateClusterCommand({ clusterName: 'keep' }));
    await ecs.send(definition('kept'));
    await ecs.send(new RunTaskCommand({ cluster: 'keep', taskDefinition: 'kept:1' }));
    await ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: 'kept:1' }));
    await ecs.send(new DeleteTaskDefinitionsCommand({ taskDefinitions: ['kept:1'] }));
    const { taskDefinition } = await ecs.send(
      new DescribeTaskDefinitionCommand({ taskDefinition: 'kept:1' }),
    );
    expect(taskDefinition?.status).toBe('DELETE_IN_PROGRESS');
    const run = await failure(ecs.send(new RunTaskCommand({ cluster: 'keep', taskDefinition: 'kept:1' })));
    expect(run?.name).toBe('InvalidParameterException');
    // Over REST too.
    expect((await gw.http.post('/v1/task-definitions/kept:1/delete')).status).toBe(200);
    expect((await gw.http.post('/v1/task-definitions/tagdef:1/delete')).status).toBe(400);
    expect((await gw.http.post('/v1/task-definitions/kept:7/delete')).status).toBe(404);
    // The task stops and its cluster is deleted: nothing refers to the revision any more.
    await gw.sql.query(
      `UPDATE task SET last_status = 'STOPPED', desired_status = 'STOPPED' WHERE cluster_id = (SELECT id FROM cluster WHERE name = 'keep')`,
    );
    await ecs.send(new DeleteClusterCommand({ cluster: 'keep' }));
    const gone = await failure(ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'kept:1' })));
    expect(gone?.name).toBe('ClientException');
  });
});

describe('service deployments', () => {
  it('lists a service deployments newest first and describes them by ARN', async () => {
    await ecs.send(definition('sd'));
    await ecs.send(
      new CreateServiceCommand({
        cluster: 'tagged',
        serviceName: 'sd',
        taskDefinition: 'sd',
        desiredCount: 1,
        deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true } },
      }),
    );
    await ecs.send(new UpdateServiceCommand({ cluster: 'tagged', service: 'sd', forceNewDeployment: true }));
    const listed = await ecs.send(new ListServiceDeploymentsCommand({ cluster: 'tagged', service: 'sd' }));
    expect(listed.serviceDeployments?.map((d) => d.status)).toEqual(['IN_PROGRESS', 'STOPPED']);
    const [newest, oldest] = listed.serviceDeployments!;
    expect(newest?.serviceDeploymentArn).toMatch(
      new RegExp(`^${ARN}:service-deployment/tagged/sd/[0-9a-f-]{36}$`),
    );
    expect(newest).toMatchObject({
      serviceArn: `${ARN}:service/tagged/sd`,
      clusterArn: `${ARN}:cluster/tagged`,
    });
    const filtered = await ecs.send(
      new ListServiceDeploymentsCommand({ cluster: 'tagged', service: 'sd', status: ['STOPPED'] }),
    );
    expect(filtered.serviceDeployments?.map((d) => d.serviceDeploymentArn)).toEqual([
      oldest?.serviceDeploymentArn,
    ]);
    const paged = await ecs.send(
      new ListServiceDeploymentsCommand({ cluster: 'tagged', service: 'sd', maxResults: 1 }),
    );
    expect(paged.serviceDeployments).toHaveLength(1);
    const rest = await ecs.send(
      new ListServiceDeploymentsCommand({ cluster: 'tagged', service: 'sd', nextToken: paged.nextToken }),
    );
    expect(rest.serviceDeployments?.map((d) => d.serviceDeploymentArn)).toEqual([
      oldest?.serviceDeploymentArn,
    ]);

    const missing = `${ARN}:service-deployment/tagged/sd/${randomUUID()}`;
    const described = await ecs.send(
      new DescribeServiceDeploymentsCommand({
        serviceDeploymentArns: [newest!.serviceDeploymentArn!, missing],
      }),
    );
    expect(described.failures).toEqual([{ arn: missing, reason: 'MISSING' }]);
    expect(described.serviceDeployments?.[0]).toMatchObject({
      status: 'IN_PROGRESS',
      targetServiceRevision: { requestedTaskCount: 1, runningTaskCount: 0 },
      sourceServiceRevisions: [{ arn: expect.stringContaining(`${ARN}:service-revision/tagged/sd/`) }],
      deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true } },
      deploymentCircuitBreaker: { status: 'MONITORING', failureCount: 0, threshold: 3 },
    });
    expect(described.serviceDeployments?.[0]?.createdAt).toBeInstanceOf(Date);

    const rest2 = await gw.http.get('/v1/clusters/tagged/services/sd/deployments?status=IN_PROGRESS');
    expect(rest2.status).toBe(200);
    expect(rest2.body.serviceDeployments).toHaveLength(1);
    const unknown = await failure(
      ecs.send(new ListServiceDeploymentsCommand({ cluster: 'tagged', service: 'nope' })),
    );
    expect(unknown?.name).toBe('ServiceNotFoundException');
  });

  it('shows a circuit-breaker rollback on the deployment that failed', async () => {
    const { rows } = await gw.sql.query(
      `SELECT d.id, d.service_id FROM deployment d JOIN service s ON s.id = d.service_id
       WHERE s.name = 'sd' ORDER BY d.created_at DESC LIMIT 1`,
    );
    const failed = rows[0] as { id: string; service_id: string };
    // What the controller writes when the breaker trips with rollback on.
    await gw.sql.query(
      `UPDATE deployment SET status = 'ACTIVE', rollout_state = 'FAILED', rollout_state_reason = 'tasks failed to start' WHERE id = $1`,
      [failed.id],
    );
    await gw.sql.query(
      `INSERT INTO deployment (id, service_id, status, task_definition_id, desired_count, rolled_back_from, updated_at)
       SELECT gen_random_uuid(), service_id, 'PRIMARY', task_definition_id, 1, id, now() FROM deployment WHERE id = $1`,
      [failed.id],
    );
    const arn = `${ARN}:service-deployment/tagged/sd/${failed.id}`;
    const { serviceDeployments } = await ecs.send(
      new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [arn] }),
    );
    expect(serviceDeployments?.[0]).toMatchObject({
      status: 'ROLLBACK_IN_PROGRESS',
      statusReason: 'tasks failed to start',
      deploymentCircuitBreaker: { status: 'TRIGGERED' },
      rollback: { reason: 'tasks failed to start' },
    });
  });
});
