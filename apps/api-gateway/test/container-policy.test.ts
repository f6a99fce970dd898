import { startTestGateway, type TestGateway } from './gateway.js';

/** A cluster's container policy through the REST API: who sets it, and what it refuses. */

let gw: TestGateway;
const ARN = 'arn:berth:ecs:local:000000000000';

const container = (over: Record<string, unknown> = {}) => ({
  name: 'app',
  image: 'berth/busybox',
  memory: 32,
  ...over,
});

/** Task definitions that each break one baseline rule, and the field a refusal names. */
const escapes = [
  {
    field: 'containerDefinitions[0].privileged',
    td: { family: 'priv', containerDefinitions: [container({ privileged: true })] },
  },
  {
    field: 'networkMode',
    td: { family: 'hostnet', networkMode: 'host', containerDefinitions: [container()] },
  },
  {
    field: 'containerDefinitions[0].linuxParameters.capabilities.add[0]',
    td: {
      family: 'sysadmin',
      containerDefinitions: [container({ linuxParameters: { capabilities: { add: ['SYS_ADMIN'] } } })],
    },
  },
  {
    field: 'volumes[0].host.sourcePath',
    td: {
      family: 'docker-sock',
      volumes: [{ name: 'sock', host: { sourcePath: '/var/run/docker.sock' } }],
      containerDefinitions: [
        container({ mountPoints: [{ sourceVolume: 'sock', containerPath: '/var/run/docker.sock' }] }),
      ],
    },
  },
];

const register = (td: Record<string, unknown>) => gw.http.post('/v1/task-definitions').send(td).expect(200);
const setPolicy = (cluster: string, body: Record<string, unknown>) =>
  gw.http.put(`/v1/clusters/${cluster}/policy`).send(body);

beforeAll(async () => {
  gw = await startTestGateway('policy');
  for (const clusterName of ['prod', 'lab'])
    await gw.http.post('/v1/clusters').send({ clusterName }).expect(200);
  for (const { td } of escapes) await register(td);
});
afterAll(async () => gw?.close());

it('starts every cluster at baseline with no host path, and shows what PUT stored', async () => {
  const got = await gw.http.get('/v1/clusters/prod/policy').expect(200);
  expect(got.body).toEqual({
    containerPolicy: {
      clusterArn: `${ARN}:cluster/prod`,
      clusterName: 'prod',
      level: 'baseline',
      allowedHostPathPrefixes: [],
    },
  });

  const put = await setPolicy('lab', {
    level: 'baseline',
    allowedHostPathPrefixes: ['/srv/data/', '/srv//cache'],
  });
  expect(put.status).toBe(200);
  expect(put.body.containerPolicy).toMatchObject({
    level: 'baseline',
    allowedHostPathPrefixes: ['/srv/data', '/srv/cache'],
  });
  expect((await gw.http.get('/v1/clusters/lab/policy')).body).toEqual(put.body);

  expect((await gw.http.get('/v1/clusters/nowhere/policy')).status).toBe(404);
});

it('refuses a bad policy with 400 naming the field, and changes nothing', async () => {
  for (const [body, field] of [
    [{ level: 'restricted' }, 'level'],
    [{ level: 'baseline', allowedHostPathPrefixes: ['srv'] }, 'allowedHostPathPrefixes[0]'],
    [{ level: 'baseline', allowedHostPathPrefixes: ['/srv', '/'] }, 'allowedHostPathPrefixes[1]'],
    [{ level: 'baseline', allowedHostPathPrefixes: ['/etc/nginx'] }, 'allowedHostPathPrefixes[0]'],
  ] as const) {
    const res = await setPolicy('prod', body);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'InvalidParameterException', field });
  }
  expect((await gw.http.get('/v1/clusters/prod/policy')).body.containerPolicy.level).toBe('baseline');
});

it('lets only a key allowed berth:UpdateClusterPolicy change the policy; read-only keys may read it', async () => {
  const res = await gw.http
    .post('/v1/access-keys')
    .send({ name: 'deployer', managedPolicies: ['BerthDeployer'] });
  const deployer = gw.as(`${res.body.accessKey.accessKeyId}:${res.body.accessKey.secretAccessKey}`);
  expect((await deployer.get('/v1/clusters/prod/policy')).status).toBe(200);
  const put = await deployer.put('/v1/clusters/prod/policy').send({ level: 'privileged' });
  expect(put.status).toBe(403);
  expect(put.body.message).toMatch(/berth:UpdateClusterPolicy/);
  expect((await gw.anonymous.get('/v1/clusters/prod/policy')).status).toBe(401);
});

it('refuses RunTask, CreateService and UpdateService under baseline with a 400 naming the field, the rule and the level', async () => {
  for (const { td, field } of escapes) {
    const run = await gw.http.post('/v1/clusters/prod/tasks').send({ taskDefinition: td.family });
    expect(run.status).toBe(400);
    expect(run.body.error).toBe('InvalidParameterException');
    expect(run.body.field).toBe('taskDefinition');
    expect(run.body.message).toContain(
      `container policy baseline of cluster prod refuses ${td.family}:1: ${field}: `,
    );
    expect(run.body.message).toContain('PUT /v1/clusters/prod/policy');

    const service = await gw.http
      .post('/v1/clusters/prod/services')
      .send({ serviceName: td.family, taskDefinition: td.family, desiredCount: 1 });
    expect(service.status).toBe(400);
    expect(service.body.message).toContain(field);
  }
  expect(
    (await gw.http.post('/v1/clusters/prod/tasks').send({ taskDefinition: 'priv' })).body.message,
  ).toMatch(/privileged containers are refused/);

  await register({ family: 'plain', containerDefinitions: [container()] });
  await gw.http
    .post('/v1/clusters/prod/services')
    .send({ serviceName: 'plain', taskDefinition: 'plain', desiredCount: 0 })
    .expect(200);
  const update = await gw.http.patch('/v1/clusters/prod/services/plain').send({ taskDefinition: 'hostnet' });
  expect(update.status).toBe(400);
  expect(update.body.message).toMatch(/networkMode: host networking is refused/);
  expect(await gw.count('task')).toBe(0);
  expect(await gw.count('deployment')).toBe(1);
});

it('runs all of it once the cluster is privileged, and refuses it again at baseline', async () => {
  await setPolicy('prod', { level: 'privileged' }).expect(200);
  for (const { td } of escapes)
    expect((await gw.http.post('/v1/clusters/prod/tasks').send({ taskDefinition: td.family })).status).toBe(
      200,
    );
  await gw.http.patch('/v1/clusters/prod/services/plain').send({ taskDefinition: 'hostnet' }).expect(200);

  await setPolicy('prod', { level: 'baseline' }).expect(200);
  expect((await gw.http.post('/v1/clusters/prod/tasks').send({ taskDefinition: 'priv' })).status).toBe(400);
});

it('mounts host paths under an allowed prefix only, compared by whole path segments', async () => {
  const mounting = (family: string, sourcePath: string) => ({
    family,
    volumes: [{ name: 'data', host: { sourcePath } }],
    containerDefinitions: [container({ mountPoints: [{ sourceVolume: 'data', containerPath: '/data' }] })],
  });
  await register(mounting('data', '/srv/data/web'));
  await register(mounting('data2', '/srv/data2'));
  await register(mounting('escape', '/srv/data/../../etc'));
  expect((await gw.http.post('/v1/clusters/lab/tasks').send({ taskDefinition: 'data' })).status).toBe(200);
  for (const [family, message] of [
    ['data2', /\/srv\/data2 is not under an allowed host path prefix \(\/srv\/data, \/srv\/cache\)/],
    ['escape', /\/etc is the host's configuration/],
  ] as const) {
    const res = await gw.http.post('/v1/clusters/lab/tasks').send({ taskDefinition: family });
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(message);
  }
  // prod allows no host path at all.
  expect(
    (await gw.http.post('/v1/clusters/prod/tasks').send({ taskDefinition: 'data' })).body.message,
  ).toMatch(/\/srv\/data\/web is a host path, and no host path prefix is allowed/);
});

it('no longer takes privilegedContainers as a cluster setting: the answer points to the policy', async () => {
  for (const res of [
    await gw.http
      .put('/v1/clusters/prod/settings')
      .send({ settings: [{ name: 'privilegedContainers', value: 'enabled' }] }),
    await gw.http
      .post('/v1/clusters')
      .send({ clusterName: 'new', settings: [{ name: 'privilegedContainers', value: 'enabled' }] }),
  ]) {
    expect(res.status).toBe(400);
    expect(res.body.field).toBe('settings[0].name');
    expect(res.body.message).toMatch(/PUT \/v1\/clusters\/\{cluster\}\/policy/);
  }
  expect((await gw.http.get('/v1/clusters/new')).status).toBe(404);
  const insights = await gw.http
    .put('/v1/clusters/prod/settings')
    .send({ settings: [{ name: 'containerInsights', value: 'enabled' }] });
  expect(insights.status).toBe(200);
  expect(insights.body.cluster.settings).toBeUndefined();
  expect((await gw.http.get('/v1/clusters/prod/policy')).body.containerPolicy.level).toBe('baseline');
});
