import { startTestGateway, type TestGateway } from './gateway.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway('taskdefs');
  await gw.http.post('/v1/clusters').send({ clusterName: 'default' }).expect(200);
});
afterAll(async () => gw.close());

const container = (name: string, over: Record<string, unknown> = {}) => ({
  name,
  image: 'berth/busybox',
  memory: 64,
  ...over,
});

it('answers a bad definition with 400 naming the JSON path, and writes nothing', async () => {
  const res = await gw.http.post('/v1/task-definitions').send({
    family: 'cyclic',
    containerDefinitions: [
      container('a', { dependsOn: [{ containerName: 'b', condition: 'START' }] }),
      container('b', { essential: false, dependsOn: [{ containerName: 'a', condition: 'START' }] }),
    ],
  });
  expect(res.status).toBe(400);
  expect(res.body).toMatchObject({ error: 'InvalidParameterException', field: 'containerDefinitions' });
  expect(res.body.message).toMatch(/cycle/);
  expect(await gw.count('task_definition')).toBe(0);
});

it('reserves what RunTask overrides ask for, and keeps its tags', async () => {
  await gw.http
    .post('/v1/task-definitions')
    .send({
      family: 'sized',
      containerDefinitions: [container('a', { cpu: 128 }), container('b', { cpu: 128 })],
    })
    .expect(200);
  const run = await gw.http.post('/v1/clusters/default/tasks').send({
    taskDefinition: 'sized',
    overrides: { containerOverrides: [{ name: 'a', cpu: 512, memory: 256 }] },
    tags: [{ key: 'team', value: 'search' }],
  });
  expect(run.status).toBe(200);
  expect(run.body.tasks[0]).toMatchObject({
    cpu: '640',
    memory: '320',
    tags: [{ key: 'team', value: 'search' }],
  });

  const taskLevel = await gw.http
    .post('/v1/clusters/default/tasks')
    .send({ taskDefinition: 'sized', overrides: { cpu: '1024', memory: '2048' } });
  expect(taskLevel.body.tasks[0]).toMatchObject({ cpu: '1024', memory: '2048' });

  const tooBig = await gw.http.post('/v1/clusters/default/tasks').send({
    taskDefinition: 'sized',
    overrides: { memory: '128', containerOverrides: [{ name: 'b', memory: 256 }] },
  });
  expect(tooBig.status).toBe(400);
  expect(tooBig.body.field).toBe('overrides.containerOverrides[0].memory');
});
