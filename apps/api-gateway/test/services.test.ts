import { startTestGateway, type TestGateway } from './gateway.js';

/** The services API against a real Postgres: shapes, rules, and nothing half-written. */

let gateway: TestGateway;
let http: TestGateway['http'];
let sql: TestGateway['sql'];

const web = { name: 'web', image: 'berth/busybox', cpu: 128, memory: 32 };
const base = { serviceName: 'api', taskDefinition: 'svc', desiredCount: 2 };

beforeAll(async () => {
  gateway = await startTestGateway('svc');
  ({ http, sql } = gateway);
  await http.post('/v1/clusters').send({ clusterName: 'default' }).expect(200);
  await http
    .post('/v1/task-definitions')
    .send({ family: 'svc', containerDefinitions: [web] })
    .expect(200);
  await http
    .post('/v1/task-definitions')
    .send({ family: 'svc', containerDefinitions: [web] })
    .expect(200);
});

afterAll(async () => {
  await gateway?.close();
});

const count = (table: string) => gateway.count(table);

it('creates a service with ECS defaults and one PRIMARY deployment', async () => {
  const res = await http.post('/v1/clusters/default/services').send(base).expect(200);
  expect(res.body.service).toMatchObject({
    serviceArn: 'arn:berth:ecs:local:000000000000:service/default/api',
    serviceName: 'api',
    status: 'ACTIVE',
    desiredCount: 2,
    runningCount: 0,
    taskDefinition: 'arn:berth:ecs:local:000000000000:task-definition/svc:2',
    deploymentConfiguration: {
      minimumHealthyPercent: 100,
      maximumPercent: 200,
      deploymentCircuitBreaker: { enable: false, rollback: false },
    },
    disconnectedTaskBehavior: 'REPLACE',
  });
  expect(res.body.service.deployments).toEqual([
    expect.objectContaining({
      status: 'PRIMARY',
      rolloutState: 'IN_PROGRESS',
      desiredCount: 2,
      failedTasks: 0,
      circuitBreakerThreshold: 3,
    }),
  ]);
});

it('starts a new PRIMARY deployment on a new task definition, and only scales on desiredCount', async () => {
  const scaled = await http.patch('/v1/clusters/default/services/api').send({ desiredCount: 4 }).expect(200);
  expect(scaled.body.service.deployments).toHaveLength(1);
  expect(scaled.body.service.deployments[0].desiredCount).toBe(4);
  const rolled = await http
    .patch('/v1/clusters/default/services/api')
    .send({ taskDefinition: 'svc:1' })
    .expect(200);
  expect(rolled.body.service.deployments.map((d: { status: string }) => d.status)).toEqual([
    'PRIMARY',
    'ACTIVE',
  ]);
  const forced = await http
    .patch('/v1/clusters/default/services/api')
    .send({ forceNewDeployment: true })
    .expect(200);
  expect(forced.body.service.deployments.map((d: { status: string }) => d.status)).toEqual([
    'PRIMARY',
    'ACTIVE',
    'ACTIVE',
  ]);
});

it('keeps the tasks of a lost instance for a service that WAITs, set and shown like any setting', async () => {
  const waiting = await http
    .patch('/v1/clusters/default/services/api')
    .send({ disconnectedTaskBehavior: 'WAIT' })
    .expect(200);
  expect(waiting.body.service.disconnectedTaskBehavior).toBe('WAIT');
  const shown = await http.get('/v1/clusters/default/services/api').expect(200);
  expect(shown.body.service).toMatchObject({ disconnectedTaskBehavior: 'WAIT', desiredCount: 4 });
  const refused = await http
    .patch('/v1/clusters/default/services/api')
    .send({ disconnectedTaskBehavior: 'wait' })
    .expect(400);
  expect(refused.body).toMatchObject({ field: 'disconnectedTaskBehavior' });
  expect(refused.body.message).toMatch(/disconnectedTaskBehavior: must be REPLACE or WAIT/);
});

it.each([
  ['an unknown cluster', '/v1/clusters/nope/services', { ...base, serviceName: 'x' }, 404, 'cluster'],
  [
    'an unknown task definition',
    '/v1/clusters/default/services',
    { ...base, serviceName: 'x', taskDefinition: 'ghost' },
    404,
    'taskDefinition',
  ],
  ['a duplicate live service name', '/v1/clusters/default/services', base, 400, 'serviceName'],
  [
    'a negative desiredCount',
    '/v1/clusters/default/services',
    { ...base, serviceName: 'x', desiredCount: -1 },
    400,
    'desiredCount',
  ],
  [
    'minimumHealthyPercent above maximumPercent',
    '/v1/clusters/default/services',
    {
      ...base,
      serviceName: 'x',
      deploymentConfiguration: { minimumHealthyPercent: 150, maximumPercent: 120 },
    },
    400,
    'deploymentConfiguration.minimumHealthyPercent',
  ],
  [
    'minimumHealthyPercent and maximumPercent both 100 (no task could be replaced)',
    '/v1/clusters/default/services',
    {
      ...base,
      serviceName: 'x',
      deploymentConfiguration: { minimumHealthyPercent: 100, maximumPercent: 100 },
    },
    400,
    'deploymentConfiguration.maximumPercent',
  ],
  [
    'maximumPercent below 100',
    '/v1/clusters/default/services',
    {
      ...base,
      serviceName: 'x',
      deploymentConfiguration: { minimumHealthyPercent: 100, maximumPercent: 90 },
    },
    400,
    'deploymentConfiguration.maximumPercent',
  ],
  [
    'a disconnectedTaskBehavior that is not REPLACE or WAIT',
    '/v1/clusters/default/services',
    { ...base, serviceName: 'x', disconnectedTaskBehavior: 'KEEP' },
    400,
    'disconnectedTaskBehavior',
  ],
  [
    'a launchType and a capacityProviderStrategy at once',
    '/v1/clusters/default/services',
    {
      ...base,
      serviceName: 'x',
      launchType: 'FARGATE',
      capacityProviderStrategy: [{ capacityProvider: 'FARGATE' }],
    },
    400,
    'capacityProviderStrategy',
  ],
  [
    'a breaker without rollback flag',
    '/v1/clusters/default/services',
    { ...base, serviceName: 'x', deploymentConfiguration: { deploymentCircuitBreaker: { enable: true } } },
    400,
    'deploymentConfiguration.deploymentCircuitBreaker.rollback',
  ],
])('rejects %s, naming the field, and writes nothing', async (_, path, body, status, field) => {
  const [services, deployments] = [await count('service'), await count('deployment')];
  const res = await http.post(path).send(body).expect(status);
  expect(res.body.field).toBe(field);
  expect(await count('service')).toBe(services);
  expect(await count('deployment')).toBe(deployments);
});

it('creates a service asked for on FARGATE, on the cluster’s instances, and says so', async () => {
  const res = await http
    .post('/v1/clusters/default/services')
    .send({ ...base, serviceName: 'fargate', desiredCount: 0, launchType: 'FARGATE' })
    .expect(200);
  expect(res.body.service).toMatchObject({ serviceName: 'fargate', status: 'ACTIVE' });
  expect(res.body.warnings).toEqual([
    expect.stringMatching(/^launchType FARGATE is accepted and not acted on/),
  ]);
  const plain = await http
    .post('/v1/clusters/default/services')
    .send({ ...base, serviceName: 'ec2', desiredCount: 0, launchType: 'EC2' })
    .expect(200);
  expect(plain.body.warnings).toBeUndefined();
  for (const name of ['fargate', 'ec2'])
    await http.delete(`/v1/clusters/default/services/${name}`).expect(200);
});

it('refuses to delete a service with tasks wanted, unless forced', async () => {
  const refused = await http.delete('/v1/clusters/default/services/api').expect(400);
  expect(refused.body.message).toMatch(/force=true/);
  const forced = await http.delete('/v1/clusters/default/services/api?force=true').expect(200);
  expect(forced.body.service).toMatchObject({ status: 'DRAINING', desiredCount: 0 });
  // A DRAINING service still holds its name.
  await http.post('/v1/clusters/default/services').send(base).expect(400);
});

it('pages through service events newest first', async () => {
  const created = await http
    .post('/v1/clusters/default/services')
    .send({ ...base, serviceName: 'paged' })
    .expect(200);
  const { rows } = await sql.query('SELECT id FROM service WHERE name = $1', ['paged']);
  for (let i = 0; i < 5; i++) {
    await sql.query(
      'INSERT INTO service_event (id, service_id, created_at, message) VALUES (gen_random_uuid(), $1, $2, $3)',
      [rows[0].id, new Date(Date.parse('2026-01-01T00:00:00Z') + i * 1000), `event ${i}`],
    );
  }
  expect(created.body.service.events).toEqual([]);
  const page1 = await http.get('/v1/clusters/default/services/paged/events?maxResults=3').expect(200);
  expect(page1.body.events.map((e: { message: string }) => e.message)).toEqual([
    'event 4',
    'event 3',
    'event 2',
  ]);
  const page2 = await http
    .get(`/v1/clusters/default/services/paged/events?maxResults=3&nextToken=${page1.body.nextToken}`)
    .expect(200);
  expect(page2.body.events.map((e: { message: string }) => e.message)).toEqual(['event 1', 'event 0']);
  expect(page2.body.nextToken).toBeUndefined();
});

it('refuses to delete a cluster that still has services', async () => {
  const res = await http.delete('/v1/clusters/default').expect(409);
  expect(res.body.error).toBe('ClusterContainsServicesException');
  const cluster = await http.get('/v1/clusters/default').expect(200);
  expect(cluster.body.cluster.activeServicesCount).toBeGreaterThan(0);
});
