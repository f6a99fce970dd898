import {
  CreateClusterCommand,
  CreateServiceCommand,
  DeleteAttributesCommand,
  DeleteServiceCommand,
  DeregisterContainerInstanceCommand,
  DeregisterTaskDefinitionCommand,
  DescribeClustersCommand,
  DescribeContainerInstancesCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSClient,
  GetTaskProtectionCommand,
  ListClustersCommand,
  ListContainerInstancesCommand,
  ListServicesCommand,
  ListTaskDefinitionFamiliesCommand,
  ListTaskDefinitionsCommand,
  ListTasksCommand,
  PutAttributesCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
  UpdateClusterSettingsCommand,
  UpdateContainerInstancesStateCommand,
  UpdateServiceCommand,
  UpdateTaskProtectionCommand,
  ListAttributesCommand,
  paginateListAttributes,
  paginateListTaskDefinitions,
} from '@aws-sdk/client-ecs';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { startTestGateway, type TestGateway } from './gateway.js';

const ARN = 'arn:berth:ecs:local:000000000000';
const TARGET = 'AmazonEC2ContainerServiceV20141113';

let gw: TestGateway;
let ecs: ECSClient;
let admin: { accessKeyId: string; secretAccessKey: string };

const keyOf = (token: string) => {
  const [accessKeyId, secretAccessKey] = token.split(':') as [string, string];
  return { accessKeyId, secretAccessKey };
};
const clientFor = (credentials: { accessKeyId: string; secretAccessKey: string }, region = 'local') =>
  new ECSClient({ endpoint: gw.url, region, credentials, maxAttempts: 1 });

/** A request signed by the SDKs' own signer, with the knobs a test needs to break it. */
async function signed(
  action: string,
  body: unknown,
  opts: {
    key?: { accessKeyId: string; secretAccessKey: string };
    region?: string;
    service?: string;
    date?: Date;
    tamper?: (raw: string) => string;
  } = {},
) {
  const url = new URL(gw.url);
  const raw = JSON.stringify(body);
  const request = new HttpRequest({
    method: 'POST',
    protocol: 'http:',
    hostname: url.hostname,
    port: Number(url.port),
    path: '/',
    headers: {
      host: url.host,
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': `${TARGET}.${action}`,
    },
    body: raw,
  });
  const signer = new SignatureV4({
    service: opts.service ?? 'ecs',
    region: opts.region ?? 'local',
    credentials: opts.key ?? admin,
    sha256: Hash.bind(null, 'sha256'),
  });
  const out = await signer.sign(request, { signingDate: opts.date ?? new Date() });
  const res = await fetch(gw.url, {
    method: 'POST',
    headers: out.headers,
    body: opts.tamper ? opts.tamper(raw) : raw,
  });
  return {
    status: res.status,
    contentType: res.headers.get('content-type'),
    warnings: res.headers.get('x-berth-warnings'),
    body: (await res.json()) as Record<string, unknown>,
  };
}

const taskDefinition = (family: string) => ({
  family,
  containerDefinitions: [
    {
      name: 'web',
      image: 'berth/busybox',
      cpu: 128,
      memory: 32,
      memoryReservation: null,
      command: ['sleep', '60'],
    },
  ],
  memory: '0.25 GB',
  tags: [{ key: 'team', value: 'web' }],
});

beforeAll(async () => {
  gw = await startTestGateway('ecs-protocol');
  admin = keyOf(gw.adminToken);
  ecs = clientFor(admin);
}, 60_000);
afterAll(async () => {
  ecs?.destroy();
  await gw?.close();
});

describe('the ECS JSON 1.1 protocol with the AWS SDK', () => {
  it('creates, lists and describes clusters, with failures for unknown ones', async () => {
    const created = await ecs.send(new CreateClusterCommand({ clusterName: 'prod' }));
    expect(created.cluster).toMatchObject({
      clusterArn: `${ARN}:cluster/prod`,
      clusterName: 'prod',
      status: 'ACTIVE',
    });
    const listed = await ecs.send(new ListClustersCommand({}));
    expect(listed.clusterArns).toContain(`${ARN}:cluster/prod`);
    const described = await ecs.send(
      new DescribeClustersCommand({ clusters: ['prod', `${ARN}:cluster/nope`], include: ['SETTINGS'] }),
    );
    expect(described.clusters).toEqual([
      expect.objectContaining({ clusterName: 'prod', runningTasksCount: 0, settings: expect.any(Array) }),
    ]);
    expect(described.failures).toEqual([{ arn: `${ARN}:cluster/nope`, reason: 'MISSING' }]);
  });

  it('registers, describes, lists and deregisters task definitions, pages with the paginator', async () => {
    const registered = await ecs.send(new RegisterTaskDefinitionCommand(taskDefinition('ecs-web') as never));
    expect(registered.taskDefinition).toMatchObject({
      taskDefinitionArn: `${ARN}:task-definition/ecs-web:1`,
      revision: 1,
      status: 'ACTIVE',
      memory: '256',
    });
    expect(registered.taskDefinition!.registeredAt).toBeInstanceOf(Date);
    expect(registered.tags).toEqual([{ key: 'team', value: 'web' }]);
    await ecs.send(new RegisterTaskDefinitionCommand(taskDefinition('ecs-web') as never));
    await ecs.send(new RegisterTaskDefinitionCommand(taskDefinition('ecs-other') as never));

    const described = await ecs.send(
      new DescribeTaskDefinitionCommand({ taskDefinition: 'ecs-web', include: ['TAGS'] }),
    );
    expect(described.taskDefinition!.revision).toBe(2);
    expect(described.tags).toEqual([{ key: 'team', value: 'web' }]);

    const pages: string[][] = [];
    for await (const page of paginateListTaskDefinitions(
      { client: ecs, pageSize: 2 },
      { familyPrefix: 'ecs-' },
    ))
      pages.push(page.taskDefinitionArns ?? []);
    expect(pages.flat()).toEqual([
      `${ARN}:task-definition/ecs-other:1`,
      `${ARN}:task-definition/ecs-web:1`,
      `${ARN}:task-definition/ecs-web:2`,
    ]);
    expect(pages.length).toBeGreaterThan(1);
    const desc = await ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: 'ecs-web', sort: 'DESC' }));
    expect(desc.taskDefinitionArns).toEqual([
      `${ARN}:task-definition/ecs-web:2`,
      `${ARN}:task-definition/ecs-web:1`,
    ]);

    await ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: 'ecs-other:1' }));
    // ListTaskDefinitions lists ACTIVE revisions unless asked otherwise.
    const active = await ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: 'ecs-other' }));
    expect(active.taskDefinitionArns).toEqual([]);
    const families = await ecs.send(new ListTaskDefinitionFamiliesCommand({ familyPrefix: 'ecs-' }));
    expect(families.families).toEqual(['ecs-other', 'ecs-web']);
    const activeFamilies = await ecs.send(
      new ListTaskDefinitionFamiliesCommand({ familyPrefix: 'ecs-', status: 'ACTIVE' }),
    );
    expect(activeFamilies.families).toEqual(['ecs-web']);
  });

  it('runs, lists, describes and stops tasks', async () => {
    const run = await ecs.send(
      new RunTaskCommand({ cluster: 'prod', taskDefinition: 'ecs-web', count: 2, startedBy: 'sdk' }),
    );
    expect(run.failures).toEqual([]);
    expect(run.tasks).toHaveLength(2);
    const [first] = run.tasks!;
    expect(first).toMatchObject({
      clusterArn: `${ARN}:cluster/prod`,
      taskDefinitionArn: `${ARN}:task-definition/ecs-web:2`,
      lastStatus: 'PROVISIONING',
      desiredStatus: 'RUNNING',
      launchType: 'EC2',
    });
    expect(first!.createdAt).toBeInstanceOf(Date);

    const listed = await ecs.send(new ListTasksCommand({ cluster: 'prod', startedBy: 'sdk' }));
    expect(listed.taskArns!.sort()).toEqual(run.tasks!.map((t) => t.taskArn).sort());
    const unknownArn = `${ARN}:task/prod/00000000-0000-4000-8000-000000000000`;
    const described = await ecs.send(
      new DescribeTasksCommand({ cluster: 'prod', tasks: [first!.taskArn!, unknownArn] }),
    );
    expect(described.tasks!.map((t) => t.taskArn)).toEqual([first!.taskArn]);
    expect(described.failures).toEqual([{ arn: unknownArn, reason: 'MISSING' }]);

    const stopped = await ecs.send(
      new StopTaskCommand({ cluster: 'prod', task: first!.taskArn!, reason: 'done' }),
    );
    expect(stopped.task).toMatchObject({
      desiredStatus: 'STOPPED',
      stopCode: 'UserInitiated',
      stoppedReason: 'done',
    });
    // ListTasks lists desiredStatus RUNNING unless asked for STOPPED.
    expect(
      (await ecs.send(new ListTasksCommand({ cluster: 'prod', startedBy: 'sdk' }))).taskArns,
    ).toHaveLength(1);
    expect(
      (await ecs.send(new ListTasksCommand({ cluster: 'prod', startedBy: 'sdk', desiredStatus: 'STOPPED' })))
        .taskArns,
    ).toEqual([first!.taskArn]);
  });

  it('runs a task asked for on FARGATE on its own instances, with a warning, and refuses both targets', async () => {
    const fargate = await signed('RunTask', {
      cluster: 'prod',
      taskDefinition: 'ecs-web',
      launchType: 'FARGATE',
      startedBy: 'fargate',
    });
    expect(fargate.status).toBe(200);
    const [task] = fargate.body.tasks as { taskArn: string; launchType: string }[];
    expect(task!.launchType).toBe('EC2');
    expect(JSON.parse(fargate.warnings!)).toEqual([
      expect.stringMatching(/^launchType FARGATE is accepted and not acted on/),
    ]);
    const spot = await ecs.send(
      new RunTaskCommand({
        cluster: 'prod',
        taskDefinition: 'ecs-web',
        capacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }],
        startedBy: 'fargate',
      }),
    );
    expect(spot.tasks).toHaveLength(1);
    const both = await signed('RunTask', {
      cluster: 'prod',
      taskDefinition: 'ecs-web',
      launchType: 'FARGATE',
      capacityProviderStrategy: [{ capacityProvider: 'FARGATE' }],
    });
    expect(both.status).toBe(400);
    expect(both.body).toMatchObject({ __type: 'InvalidParameterException' });
    for (const arn of [task!.taskArn, spot.tasks![0]!.taskArn!])
      await ecs.send(new StopTaskCommand({ cluster: 'prod', task: arn }));
  });

  it('creates, updates, lists, describes and deletes services', async () => {
    const created = await ecs.send(
      new CreateServiceCommand({
        cluster: 'prod',
        serviceName: 'web',
        taskDefinition: 'ecs-web:1',
        desiredCount: 1,
      }),
    );
    expect(created.service).toMatchObject({
      serviceArn: `${ARN}:service/prod/web`,
      status: 'ACTIVE',
      desiredCount: 1,
      taskDefinition: `${ARN}:task-definition/ecs-web:1`,
      schedulingStrategy: 'REPLICA',
    });
    const updated = await ecs.send(
      new UpdateServiceCommand({ cluster: 'prod', service: 'web', taskDefinition: 'ecs-web:2' }),
    );
    expect(updated.service!.deployments!.map((d) => [d.status, d.taskDefinition])).toEqual([
      ['PRIMARY', `${ARN}:task-definition/ecs-web:2`],
      ['ACTIVE', `${ARN}:task-definition/ecs-web:1`],
    ]);
    expect((await ecs.send(new ListServicesCommand({ cluster: 'prod' }))).serviceArns).toEqual([
      `${ARN}:service/prod/web`,
    ]);
    const described = await ecs.send(
      new DescribeServicesCommand({
        cluster: `${ARN}:cluster/prod`,
        services: [`${ARN}:service/prod/web`, 'nope'],
      }),
    );
    expect(described.services!.map((s) => s.serviceName)).toEqual(['web']);
    expect(described.failures).toEqual([{ arn: `${ARN}:service/prod/nope`, reason: 'MISSING' }]);

    // Scale-in protection of a service task (written as the controller, not running here, would).
    const { rows } = await gw.sql.query(
      `SELECT s.cluster_id, d.task_definition_id, s.id, d.id AS deployment_id FROM service s
       JOIN deployment d ON d.service_id = s.id AND d.status = 'PRIMARY' WHERE s.name = 'web'`,
    );
    const serviceTask = '00000000-0000-4000-8000-0000000000aa';
    await gw.sql.query(
      `INSERT INTO task (id, cluster_id, task_definition_id, service_id, deployment_id, cpu, memory, updated_at)
       VALUES ($1, $2, $3, $4, $5, 128, 32, now())`,
      [serviceTask, rows[0].cluster_id, rows[0].task_definition_id, rows[0].id, rows[0].deployment_id],
    );
    const missingTask = '00000000-0000-4000-8000-0000000000ab';
    const before = Date.now();
    const protectedNow = await ecs.send(
      new UpdateTaskProtectionCommand({
        cluster: 'prod',
        tasks: [serviceTask, missingTask],
        protectionEnabled: true,
        expiresInMinutes: 30,
      }),
    );
    expect(protectedNow.protectedTasks).toEqual([
      {
        taskArn: `${ARN}:task/prod/${serviceTask}`,
        protectionEnabled: true,
        expirationDate: expect.any(Date),
      },
    ]);
    const expiry = protectedNow.protectedTasks![0]!.expirationDate!.getTime();
    expect(expiry - before).toBeGreaterThanOrEqual(30 * 60_000 - 1000);
    expect(expiry - before).toBeLessThan(31 * 60_000);
    expect(protectedNow.failures).toEqual([
      expect.objectContaining({ arn: `${ARN}:task/prod/${missingTask}`, reason: 'MISSING' }),
    ]);
    const got = await ecs.send(new GetTaskProtectionCommand({ cluster: 'prod' }));
    expect(got.protectedTasks!.map((t) => t.taskArn)).toEqual([`${ARN}:task/prod/${serviceTask}`]);

    const deleted = await ecs.send(
      new DeleteServiceCommand({ cluster: 'prod', service: 'web', force: true }),
    );
    expect(deleted.service!.status).toBe('DRAINING');
  });

  it('lists and describes container instances, filtered with the cluster query language', async () => {
    expect(
      (await ecs.send(new ListContainerInstancesCommand({ cluster: 'prod' }))).containerInstanceArns,
    ).toEqual([]);
    const { rows } = await gw.sql.query(`SELECT id FROM cluster WHERE name = 'prod'`);
    const ids = [
      '00000000-0000-4000-8000-00000000000a',
      '00000000-0000-4000-8000-00000000000b',
      '00000000-0000-4000-8000-00000000000c',
    ];
    for (const [n, id] of ids.entries())
      await gw.sql.query(
        `INSERT INTO container_instance (id, cluster_id, host_address, registered_cpu, registered_memory, attributes, registered_at, updated_at)
         VALUES ($1, $2, $3, 1024, 1024, $4, now() + $5 * interval '1 second', now())`,
        [id, rows[0].id, `10.0.0.${n}`, JSON.stringify({ zone: n === 1 ? 'b' : 'a' }), n],
      );
    const arn = (id: string) => `${ARN}:container-instance/prod/${id}`;
    // Paged one at a time: the filter skips the instance in zone b between the two pages.
    const first = await ecs.send(
      new ListContainerInstancesCommand({ cluster: 'prod', filter: 'attribute:zone == a', maxResults: 1 }),
    );
    expect(first.containerInstanceArns).toEqual([arn(ids[0]!)]);
    const second = await ecs.send(
      new ListContainerInstancesCommand({
        cluster: 'prod',
        filter: 'attribute:zone == a',
        maxResults: 1,
        nextToken: first.nextToken,
      }),
    );
    expect(second.containerInstanceArns).toEqual([arn(ids[2]!)]);
    const all = await ecs.send(
      new ListContainerInstancesCommand({ cluster: 'prod', filter: 'registeredCpu >= 1024' }),
    );
    expect(all.containerInstanceArns).toHaveLength(3);
    await expect(
      ecs.send(new ListContainerInstancesCommand({ cluster: 'prod', filter: 'attribute:zone ==' })),
    ).rejects.toMatchObject({
      name: 'InvalidParameterException',
      message: expect.stringMatching(/^filter: /),
    });

    const unknown = '00000000-0000-4000-8000-000000000001';
    const described = await ecs.send(
      new DescribeContainerInstancesCommand({ cluster: 'prod', containerInstances: [ids[1]!, unknown] }),
    );
    expect(described.containerInstances).toEqual([
      expect.objectContaining({
        containerInstanceArn: arn(ids[1]!),
        status: 'ACTIVE',
        // The agent's zone, and the same under ECS's own name.
        attributes: [
          { name: 'zone', value: 'b' },
          { name: 'ecs.availability-zone', value: 'b' },
        ],
      }),
    ]);
    expect(described.failures).toEqual([{ arn: arn(unknown), reason: 'MISSING' }]);
    // A filter copied from ECS, on ECS's attribute name, selects the same instances.
    const ecsNamed = await ecs.send(
      new ListContainerInstancesCommand({ cluster: 'prod', filter: 'attribute:ecs.availability-zone == a' }),
    );
    expect(ecsNamed.containerInstanceArns).toEqual([arn(ids[0]!), arn(ids[2]!)]);

    const put = await ecs.send(
      new PutAttributesCommand({
        cluster: 'prod',
        attributes: [{ name: 'rack', value: 'r1', targetId: arn(ids[0]!) }],
      }),
    );
    expect(put.attributes).toEqual([
      { name: 'rack', value: 'r1', targetType: 'container-instance', targetId: arn(ids[0]!) },
    ]);
    const inRack = await ecs.send(
      new ListContainerInstancesCommand({ cluster: 'prod', filter: 'attribute:rack == r1' }),
    );
    expect(inRack.containerInstanceArns).toEqual([arn(ids[0]!)]);
    const pages = [];
    for await (const page of paginateListAttributes(
      { client: ecs, pageSize: 1 },
      { cluster: 'prod', targetType: 'container-instance' },
    ))
      pages.push(...page.attributes!.map((a) => [a.name, a.value, a.targetId]));
    expect(pages).toEqual([
      ['ecs.availability-zone', 'a', arn(ids[0]!)],
      ['rack', 'r1', arn(ids[0]!)],
      ['zone', 'a', arn(ids[0]!)],
      ['ecs.availability-zone', 'b', arn(ids[1]!)],
      ['zone', 'b', arn(ids[1]!)],
      ['ecs.availability-zone', 'a', arn(ids[2]!)],
      ['zone', 'a', arn(ids[2]!)],
    ]);
    const zoneB = await ecs.send(
      new ListAttributesCommand({
        cluster: 'prod',
        targetType: 'container-instance',
        attributeName: 'zone',
        attributeValue: 'b',
      }),
    );
    expect(zoneB.attributes!.map((a) => a.targetId)).toEqual([arn(ids[1]!)]);
    await ecs.send(
      new DeleteAttributesCommand({ cluster: 'prod', attributes: [{ name: 'rack', targetId: ids[0]! }] }),
    );
    const drained = await ecs.send(
      new UpdateContainerInstancesStateCommand({
        cluster: 'prod',
        containerInstances: [ids[1]!, unknown],
        status: 'DRAINING',
      }),
    );
    expect(drained.containerInstances!.map((i) => [i.containerInstanceArn, i.status])).toEqual([
      [arn(ids[1]!), 'DRAINING'],
    ]);
    expect(drained.failures).toEqual([{ arn: arn(unknown), reason: 'MISSING' }]);
    const gone = await ecs.send(
      new DeregisterContainerInstanceCommand({ cluster: 'prod', containerInstance: ids[2]!, force: true }),
    );
    expect(gone.containerInstance!.status).toBe('INACTIVE');
    const settings = await ecs.send(
      new UpdateClusterSettingsCommand({
        cluster: 'prod',
        settings: [{ name: 'containerInsights', value: 'enabled' }],
      }),
    );
    expect(settings.cluster!.clusterName).toBe('prod');
    await gw.sql.query(`DELETE FROM container_instance WHERE id = ANY($1)`, [ids]);
  });

  it("answers ECS's exceptions, which the SDK raises by name", async () => {
    await expect(ecs.send(new ListTasksCommand({ cluster: 'missing' }))).rejects.toMatchObject({
      name: 'ClusterNotFoundException',
      $metadata: { httpStatusCode: 400 },
    });
    await expect(
      ecs.send(new RunTaskCommand({ cluster: 'prod', taskDefinition: 'ecs-web', count: 11 })),
    ).rejects.toMatchObject({
      name: 'InvalidParameterException',
    });
    // The implicit cluster is `default`, which does not exist here.
    await expect(ecs.send(new ListServicesCommand({}))).rejects.toMatchObject({
      name: 'ClusterNotFoundException',
    });
  });
});

describe('SigV4 and authorization on the ECS protocol', () => {
  it('accepts a request signed with @smithy/signature-v4, and a bearer key', async () => {
    const res = await signed('ListClusters', {});
    expect(res.status).toBe(200);
    expect(res.contentType).toMatch(/^application\/x-amz-json-1\.1/);
    expect(res.body.clusterArns).toContain(`${ARN}:cluster/prod`);
    const bearer = await gw.anonymous
      .post('/')
      .set('authorization', `Bearer ${gw.adminToken}`)
      .set('content-type', 'application/x-amz-json-1.1')
      .set('x-amz-target', `${TARGET}.ListClusters`)
      .send('{}');
    expect(bearer.status).toBe(200);
  });

  it.each([
    [
      'an unknown key',
      { key: { accessKeyId: 'BKIAAAAAAAAAAAAAAAAA', secretAccessKey: 'x'.repeat(40) } },
      'UnrecognizedClientException',
      /security token included in the request is invalid/,
    ],
    [
      'a stale date',
      { date: new Date(Date.now() - 20 * 60_000) },
      'InvalidSignatureException',
      /^Signature expired: \d{8}T\d{6}Z is now earlier than/,
    ],
    [
      'a future date',
      { date: new Date(Date.now() + 20 * 60_000) },
      'InvalidSignatureException',
      /^Signature not yet current/,
    ],
    [
      'another region',
      { region: 'us-east-1' },
      'InvalidSignatureException',
      /scoped to a valid region, not 'us-east-1'/,
    ],
    ['another service', { service: 's3' }, 'InvalidSignatureException', /scoped to correct service: 'ecs'/],
    [
      'a body changed after signing',
      { tamper: (raw: string) => raw.replace('{}', '{"maxResults":1}') },
      'InvalidSignatureException',
      /does not match/,
    ],
  ] as const)('refuses %s', async (_what, opts, exception, message) => {
    const res = await signed('ListClusters', {}, opts as Parameters<typeof signed>[2]);
    expect(res.status).toBe(400);
    expect(res.body.__type).toBe(exception);
    expect(res.body.message).toMatch(message);
  });

  it('refuses a known key signed with the wrong secret, without echoing a secret', async () => {
    const res = await signed(
      'ListClusters',
      {},
      { key: { accessKeyId: admin.accessKeyId, secretAccessKey: 'y'.repeat(40) } },
    );
    expect(res.status).toBe(400);
    expect(res.body.__type).toBe('InvalidSignatureException');
    expect(JSON.stringify(res.body)).not.toContain(admin.secretAccessKey);
  });

  it('answers an unsigned request MissingAuthenticationTokenException and audits it', async () => {
    const res = await gw.anonymous
      .post('/')
      .set('content-type', 'application/x-amz-json-1.1')
      .set('x-amz-target', `${TARGET}.ListClusters`)
      .send('{}');
    expect(res.status).toBe(403);
    expect(JSON.parse(res.text)).toEqual({
      __type: 'MissingAuthenticationTokenException',
      message: 'Missing Authentication Token',
    });
    const { rows } = await gw.sql.query(
      `SELECT action, outcome, status_code, error_code FROM audit_event WHERE request_id = $1`,
      [res.headers['x-request-id']],
    );
    expect(rows).toEqual([
      {
        action: 'ecs:ListClusters',
        outcome: 'Denied',
        status_code: 403,
        error_code: 'MissingAuthenticationTokenException',
      },
    ]);
  });

  it("refuses a read-only key's RunTask with AccessDeniedException, names the cluster and audits it", async () => {
    const created = await gw.http
      .post('/v1/access-keys')
      .send({ name: 'ro', managedPolicies: ['BerthReadOnlyAccess'] });
    const ro = clientFor(
      keyOf(`${created.body.accessKey.accessKeyId}:${created.body.accessKey.secretAccessKey}`),
    );
    expect((await ro.send(new ListClustersCommand({}))).clusterArns).toContain(`${ARN}:cluster/prod`);
    const error = await ro
      .send(new RunTaskCommand({ cluster: 'prod', taskDefinition: 'ecs-web' }))
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } });
    expect((error as Error).message).toContain(`ecs:RunTask on resource: ${ARN}:cluster/prod`);
    const { rows } = await gw.sql.query(
      `SELECT action, resource, outcome, status_code FROM audit_event WHERE access_key_id = $1 AND outcome = 'Denied'`,
      [created.body.accessKey.accessKeyId],
    );
    expect(rows).toEqual([
      { action: 'ecs:RunTask', resource: `${ARN}:cluster/prod`, outcome: 'Denied', status_code: 400 },
    ]);
    // A DescribeTasks of a task in a cluster the key may read passes; reads that pass are not audited.
    ro.destroy();
  });

  it('audits a mutating call with its ECS action and body, and not a read', async () => {
    await ecs.send(new CreateClusterCommand({ clusterName: 'audited' }));
    await ecs.send(new DescribeClustersCommand({ clusters: ['audited'] }));
    const { rows } = await gw.sql.query(
      `SELECT action, resource, outcome, parameters FROM audit_event WHERE action IN ('ecs:CreateCluster', 'ecs:DescribeClusters') AND parameters->'body'->>'clusterName' = 'audited' OR parameters->'body'->'clusters'->>0 = 'audited'`,
    );
    expect(rows).toEqual([
      {
        action: 'ecs:CreateCluster',
        resource: '*',
        outcome: 'Success',
        parameters: expect.objectContaining({ body: { clusterName: 'audited' } }),
      },
    ]);
  });

  it('answers an action Berth does not offer UnsupportedFeatureException naming it, never a 404', async () => {
    const res = await signed('CreateCapacityProvider', { name: 'x' });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      __type: 'UnsupportedFeatureException',
      message: 'Berth does not support the ECS action CreateCapacityProvider yet',
    });
    const garbled = await signed('not an action', {});
    expect(garbled.body.__type).toBe('UnknownOperationException');
  });

  it('answers malformed JSON SerializationException', async () => {
    const res = await gw.anonymous
      .post('/')
      .set('authorization', `Bearer ${gw.adminToken}`)
      .set('content-type', 'application/x-amz-json-1.1')
      .set('x-amz-target', `${TARGET}.ListClusters`)
      .send('{"maxResults": ');
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text).__type).toBe('SerializationException');
  });
});
