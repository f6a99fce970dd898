import { startTestGateway, type TestGateway } from './gateway.js';

/** The REST API against a real Postgres and Redis: shapes, errors, and nothing half-written. */

let gateway: TestGateway;
let http: TestGateway['http'];
let sql: TestGateway['sql'];

const web = {
  name: 'web',
  image: 'berth/busybox',
  cpu: 256,
  memory: 64,
  portMappings: [{ containerPort: 80 }],
};

beforeAll(async () => {
  gateway = await startTestGateway('rest', { BERTH_REGION: 'eu-test-1', BERTH_ACCOUNT: '123456789012' });
  ({ http, sql } = gateway);
});

afterAll(async () => {
  await gateway?.close();
});

const count = (table: string) => gateway.count(table);

describe('clusters', () => {
  it('creates, lists, describes and deletes a cluster, with ECS ARNs', async () => {
    const created = await http.post('/v1/clusters').send({ clusterName: 'prod' }).expect(200);
    expect(created.body.cluster).toMatchObject({
      clusterArn: 'arn:berth:ecs:eu-test-1:123456789012:cluster/prod',
      clusterName: 'prod',
      status: 'ACTIVE',
      runningTasksCount: 0,
    });
    await http.post('/v1/clusters').send({ clusterName: 'prod' }).expect(200);
    const list = await http.get('/v1/clusters').expect(200);
    expect(list.body.clusters.filter((c: { clusterName: string }) => c.clusterName === 'prod')).toHaveLength(
      1,
    );
    await http.get('/v1/clusters/prod').expect(200);
    const deleted = await http.delete('/v1/clusters/prod').expect(200);
    expect(deleted.body.cluster.status).toBe('INACTIVE');
    const missing = await http.get('/v1/clusters/prod').expect(404);
    expect(missing.body.error).toBe('ClusterNotFoundException');
  });

  it('refuses to delete a cluster with live tasks (409)', async () => {
    await http.post('/v1/clusters').send({ clusterName: 'busy' }).expect(200);
    await http
      .post('/v1/task-definitions')
      .send({ family: 'busy-web', containerDefinitions: [web] })
      .expect(200);
    await http.post('/v1/clusters/busy/tasks').send({ taskDefinition: 'busy-web' }).expect(200);
    const refused = await http.delete('/v1/clusters/busy').expect(409);
    expect(refused.body.error).toBe('ClusterContainsTasksException');
    await http.get('/v1/clusters/busy').expect(200);
  });

  it('names the field of a bad cluster name', async () => {
    const res = await http.post('/v1/clusters').send({ clusterName: 'no spaces' }).expect(400);
    expect(res.body).toMatchObject({ error: 'InvalidParameterException', field: 'clusterName' });
  });
});

describe('task definitions', () => {
  it('registers revisions, describes latest ACTIVE, and deregisters', async () => {
    const r1 = await http
      .post('/v1/task-definitions')
      .send({ family: 'api', containerDefinitions: [web] })
      .expect(200);
    const r2 = await http
      .post('/v1/task-definitions')
      .send({ family: 'api', containerDefinitions: [web] })
      .expect(200);
    expect(r1.body.taskDefinition.revision).toBe(1);
    expect(r2.body.taskDefinition).toMatchObject({
      revision: 2,
      status: 'ACTIVE',
      taskDefinitionArn: 'arn:berth:ecs:eu-test-1:123456789012:task-definition/api:2',
      containerDefinitions: [web],
    });
    await http.delete('/v1/task-definitions/api:2').expect(200);
    const latest = await http.get('/v1/task-definitions/api').expect(200);
    expect(latest.body.taskDefinition.revision).toBe(1);
    const inactive = await http.get('/v1/task-definitions/api:2').expect(200);
    expect(inactive.body.taskDefinition.status).toBe('INACTIVE');
    // ACTIVE revisions unless asked otherwise, as in ECS; INACTIVE or ALL to see the others.
    const list = await http.get('/v1/task-definitions?familyPrefix=ap').expect(200);
    expect(list.body.taskDefinitions.map((t: { revision: number }) => t.revision)).toEqual([1]);
    const gone = await http.get('/v1/task-definitions?familyPrefix=ap&status=INACTIVE').expect(200);
    expect(gone.body.taskDefinitions.map((t: { revision: number }) => t.revision)).toEqual([2]);
    const all = await http.get('/v1/task-definitions?familyPrefix=ap&status=ALL').expect(200);
    expect(all.body.taskDefinitions.map((t: { revision: number }) => t.revision)).toEqual([1, 2]);
    await http.get('/v1/task-definitions?status=GONE').expect(400);
    await http.post('/v1/clusters').send({ clusterName: 'default' }).expect(200);
    const refused = await http
      .post('/v1/clusters/default/tasks')
      .send({ taskDefinition: 'api:2' })
      .expect(400);
    expect(refused.body.message).toMatch(/INACTIVE/);
  });

  it('gives concurrent registers of one family distinct revisions', async () => {
    const results = await Promise.all(
      Array.from({ length: 8 }, () =>
        http.post('/v1/task-definitions').send({ family: 'race', containerDefinitions: [web] }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(8).fill(200));
    expect(results.map((r) => r.body.taskDefinition.revision).sort((a: number, b: number) => a - b)).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8,
    ]);
  });

  it.each([
    ['no containers', { family: 'bad', containerDefinitions: [] }, 'containerDefinitions'],
    ['duplicate names', { family: 'bad', containerDefinitions: [web, web] }, 'containerDefinitions[1].name'],
    [
      'more than 10 containers',
      {
        family: 'bad',
        containerDefinitions: Array.from({ length: 11 }, (_, i) => ({ ...web, name: `c${i}` })),
      },
      'containerDefinitions',
    ],
    [
      'a missing image',
      { family: 'bad', containerDefinitions: [{ name: 'x', memory: 8 }] },
      'containerDefinitions[0].image',
    ],
    [
      'cpu that is not an integer',
      { family: 'bad', containerDefinitions: [{ ...web, cpu: 'lots' }] },
      'containerDefinitions[0].cpu',
    ],
    [
      'memory that is not positive',
      { family: 'bad', containerDefinitions: [{ ...web, memory: -5 }] },
      'containerDefinitions[0].memory',
    ],
  ])('rejects %s with 400, naming the field, and writes nothing', async (_, body, field) => {
    const before = await count('task_definition');
    const res = await http.post('/v1/task-definitions').send(body).expect(400);
    expect(res.body.error).toBe('InvalidParameterException');
    expect(res.body.field).toBe(field);
    expect(res.body.message).toContain(field);
    expect(await count('task_definition')).toBe(before);
  });

  it('answers malformed JSON with 400 SerializationException', async () => {
    const res = await http
      .post('/v1/task-definitions')
      .set('content-type', 'application/json')
      .send('{"family": ')
      .expect(400);
    expect(res.body.error).toBe('SerializationException');
  });
});

describe('RunTask', () => {
  beforeAll(async () => {
    await http.post('/v1/clusters').send({ clusterName: 'run' }).expect(200);
    await http
      .post('/v1/task-definitions')
      .send({ family: 'runner', containerDefinitions: [web, { ...web, name: 'side', essential: false }] })
      .expect(200);
  });

  it('writes PROVISIONING tasks with their containers and ECS fields', async () => {
    const res = await http
      .post('/v1/clusters/run/tasks')
      .send({
        taskDefinition: 'runner',
        count: 3,
        startedBy: 'ci',
        overrides: { containerOverrides: [{ name: 'web', command: ['true'] }] },
      })
      .expect(200);
    expect(res.body.failures).toEqual([]);
    expect(res.body.tasks).toHaveLength(3);
    const task = res.body.tasks[0];
    expect(task).toMatchObject({
      lastStatus: 'PROVISIONING',
      desiredStatus: 'RUNNING',
      startedBy: 'ci',
      taskDefinitionArn: 'arn:berth:ecs:eu-test-1:123456789012:task-definition/runner:1',
      cpu: '512',
      memory: '128',
    });
    expect(task.taskArn).toMatch(/^arn:berth:ecs:eu-test-1:123456789012:task\/run\/[0-9a-f-]{36}$/);
    expect(task.containers.map((c: { name: string; lastStatus: string }) => [c.name, c.lastStatus])).toEqual([
      ['web', 'PENDING'],
      ['side', 'PENDING'],
    ]);
    const listed = await http.get('/v1/clusters/run/tasks?startedBy=ci&family=runner').expect(200);
    expect(listed.body.tasks).toHaveLength(3);
    expect(res.body.warnings).toBeUndefined();

    // A Fargate launch type runs on Berth's instances, and the answer says so.
    const fargate = await http
      .post('/v1/clusters/run/tasks')
      .send({ taskDefinition: 'runner', launchType: 'FARGATE', startedBy: 'fargate' })
      .expect(200);
    expect(fargate.body.warnings).toEqual([expect.stringMatching(/^launchType FARGATE is accepted/)]);
    const both = await http
      .post('/v1/clusters/run/tasks')
      .send({
        taskDefinition: 'runner',
        launchType: 'EC2',
        capacityProviderStrategy: [{ capacityProvider: 'x' }],
      })
      .expect(400);
    expect(both.body.field).toBe('capacityProviderStrategy');
    await http
      .post('/v1/clusters/run/tasks')
      .send({ taskDefinition: 'runner', launchType: 'LAMBDA' })
      .expect(400);
    await http.post(`/v1/clusters/run/tasks/${fargate.body.tasks[0].taskArn.split('/').pop()}/stop`).send({});
    const one = await http.get(`/v1/clusters/run/tasks/${encodeURIComponent(task.taskArn)}`).expect(200);
    expect(one.body.task.taskArn).toBe(task.taskArn);
  });

  it('stops a task that was never placed straight away, once', async () => {
    const [task] = (await http.post('/v1/clusters/run/tasks').send({ taskDefinition: 'runner' }).expect(200))
      .body.tasks;
    const id = task.taskArn.split('/').pop();
    const stopped = await http
      .post(`/v1/clusters/run/tasks/${id}/stop`)
      .send({ reason: 'not needed' })
      .expect(200);
    expect(stopped.body.task).toMatchObject({
      lastStatus: 'STOPPED',
      desiredStatus: 'STOPPED',
      stopCode: 'UserInitiated',
      stoppedReason: 'not needed',
    });
    const again = await http.post(`/v1/clusters/run/tasks/${id}/stop`).send({ reason: 'second' }).expect(200);
    expect(again.body.task.stoppedReason).toBe('not needed');

    // ListTasks follows ECS: desired RUNNING unless asked for STOPPED; PENDING answers nothing.
    const arns = async (query: string) =>
      (await http.get(`/v1/clusters/run/tasks${query}`).expect(200)).body.tasks.map(
        (t: { taskArn: string }) => t.taskArn,
      );
    expect(await arns('')).not.toContain(task.taskArn);
    expect(await arns('?desiredStatus=RUNNING')).not.toContain(task.taskArn);
    expect(await arns('?desiredStatus=STOPPED')).toContain(task.taskArn);
    expect(await arns('?desiredStatus=PENDING')).toEqual([]);
    const bad = await http.get('/v1/clusters/run/tasks?desiredStatus=ALL').expect(400);
    expect(bad.body.field).toBe('desiredStatus');
  });

  it.each([
    ['count 0', { taskDefinition: 'runner', count: 0 }, 400, 'count'],
    ['count 11', { taskDefinition: 'runner', count: 11 }, 400, 'count'],
    ['a bad revision', { taskDefinition: 'runner:zero' }, 400, 'taskDefinition'],
    ['an unknown task definition', { taskDefinition: 'nope' }, 404, 'taskDefinition'],
    [
      'an override of an unknown container',
      { taskDefinition: 'runner', overrides: { containerOverrides: [{ name: 'ghost' }] } },
      400,
      'overrides.containerOverrides[0].name',
    ],
  ])('rejects %s and writes nothing', async (_, body, status, field) => {
    const before = await count('task');
    const res = await http.post('/v1/clusters/run/tasks').send(body).expect(status);
    expect(res.body.field).toBe(field);
    expect(await count('task')).toBe(before);
  });

  it('answers 404 for an unknown cluster and an unknown task', async () => {
    expect(
      (await http.post('/v1/clusters/nowhere/tasks').send({ taskDefinition: 'runner' }).expect(404)).body
        .error,
    ).toBe('ClusterNotFoundException');
    await http.get('/v1/clusters/run/tasks/00000000-0000-0000-0000-000000000000').expect(404);
  });
});

describe('documentation and health', () => {
  it('serves the OpenAPI document and a health check', async () => {
    const doc = await http.get('/docs/json').expect(200);
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining(['/v1/clusters', '/v1/clusters/{cluster}/tasks']),
    );
    expect((await http.get('/healthz').expect(200)).body.status).toBe('ok');
  });
});
