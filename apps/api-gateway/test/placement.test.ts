import { randomUUID } from 'node:crypto';
import { startTestGateway, type TestGateway } from './gateway.js';

/** Placement input and instance attributes through the REST API, against a real Postgres. */

let gateway: TestGateway;
let http: TestGateway['http'];
let sql: TestGateway['sql'];
const instanceId = randomUUID();

beforeAll(async () => {
  gateway = await startTestGateway('placement');
  ({ http, sql } = gateway);
  await http.post('/v1/clusters').send({ clusterName: 'default' }).expect(200);
  await http
    .post('/v1/task-definitions')
    .send({ family: 'p', containerDefinitions: [{ name: 'c', image: 'x', memory: 8 }] })
    .expect(200);
  const { rows } = await sql.query(`SELECT id FROM cluster WHERE name = 'default'`);
  await sql.query(
    `INSERT INTO container_instance (id, cluster_id, host_address, registered_cpu, registered_memory, attributes, updated_at)
     VALUES ($1, $2, '10.0.0.1', 1024, 1024, '{"os":"linux","zone":"eu-1a"}', now())`,
    [instanceId, rows[0].id],
  );
});

afterAll(async () => {
  await gateway?.close();
});

it('keeps a RunTask placement, with ECS defaults when none is given', async () => {
  const given = await http
    .post('/v1/clusters/default/tasks')
    .send({
      taskDefinition: 'p',
      placementConstraints: [{ type: 'memberOf', expression: 'attribute:zone in [eu-1a, eu-1b]' }],
      placementStrategy: [{ type: 'binpack', field: 'memory' }],
    })
    .expect(200);
  expect(given.body.tasks[0].placementStrategy).toEqual([{ type: 'binpack', field: 'memory' }]);
  const defaulted = await http.post('/v1/clusters/default/tasks').send({ taskDefinition: 'p' }).expect(200);
  expect(defaulted.body.tasks[0].placementStrategy).toEqual([{ type: 'random' }]);
});

it.each([
  ['an unknown strategy', { placementStrategy: [{ type: 'roundRobin' }] }, 'placementStrategy[0].type'],
  [
    'an unknown spread field',
    { placementStrategy: [{ type: 'spread', field: 'rack' }] },
    'placementStrategy[0].field',
  ],
  ['more than 5 strategies', { placementStrategy: Array(6).fill({ type: 'random' }) }, 'placementStrategy'],
  [
    'more than 10 constraints',
    { placementConstraints: Array(11).fill({ type: 'distinctInstance' }) },
    'placementConstraints',
  ],
  [
    'an expression that does not parse',
    { placementConstraints: [{ type: 'memberOf', expression: 'attribute:zone in eu' }] },
    'placementConstraints[0].expression',
  ],
])('rejects a RunTask with %s, naming the field', async (_, extra, field) => {
  const res = await http
    .post('/v1/clusters/default/tasks')
    .send({ taskDefinition: 'p', ...extra })
    .expect(400);
  expect(res.body.field).toBe(field);
});

it('shows where an expression fails', async () => {
  const res = await http
    .post('/v1/clusters/default/tasks')
    .send({
      taskDefinition: 'p',
      placementConstraints: [{ type: 'memberOf', expression: 'attribute:zone in eu' }],
    })
    .expect(400);
  expect(res.body.message).toContain("expected '[' but found 'eu' at position 19");
});

it('refuses distinctInstance in a task definition', async () => {
  const res = await http
    .post('/v1/task-definitions')
    .send({
      family: 'q',
      placementConstraints: [{ type: 'distinctInstance' }],
      containerDefinitions: [{ name: 'c', image: 'x', memory: 8 }],
    })
    .expect(400);
  expect(res.body.field).toBe('placementConstraints[0].type');
});

it('puts and deletes custom attributes, shown with the agent’s own', async () => {
  await http
    .put('/v1/clusters/default/attributes')
    .send({
      attributes: [
        { name: 'rack', value: 'r12', targetId: instanceId },
        { name: 'zone', value: 'eu-1b', targetId: instanceId },
      ],
    })
    .expect(200);
  const shown = await http.get(`/v1/clusters/default/container-instances/${instanceId}`).expect(200);
  expect(shown.body.containerInstance.attributes).toEqual(
    expect.arrayContaining([
      { name: 'os', value: 'linux' },
      { name: 'rack', value: 'r12' },
      { name: 'zone', value: 'eu-1b' },
    ]),
  );
  await http
    .delete('/v1/clusters/default/attributes')
    .send({ attributes: [{ name: 'zone', targetId: instanceId }] })
    .expect(200);
  const after = await http.get(`/v1/clusters/default/container-instances/${instanceId}`).expect(200);
  expect(after.body.containerInstance.attributes).toEqual(
    expect.arrayContaining([{ name: 'zone', value: 'eu-1a' }]),
  );
});

it.each([
  [
    'a bad attribute name',
    { attributes: [{ name: 'bad name', value: 'x', targetId: instanceId }] },
    400,
    'attributes[0].name',
  ],
  [
    'a value longer than 128',
    { attributes: [{ name: 'a', value: 'x'.repeat(129), targetId: instanceId }] },
    400,
    'attributes[0].value',
  ],
  ['a missing value', { attributes: [{ name: 'a', targetId: instanceId }] }, 400, 'attributes[0].value'],
  [
    'an unknown target',
    {
      attributes: [
        { name: 'a', value: 'b', targetId: instanceId },
        { name: 'a', value: 'b', targetId: randomUUID() },
      ],
    },
    404,
    'attributes[1].targetId',
  ],
])('rejects PutAttributes with %s, and changes nothing', async (_, body, status, field) => {
  const before = (
    await sql.query('SELECT api_attributes FROM container_instance WHERE id = $1', [instanceId])
  ).rows[0];
  const res = await http.put('/v1/clusters/default/attributes').send(body).expect(status);
  expect(res.body.field).toBe(field);
  expect(
    (await sql.query('SELECT api_attributes FROM container_instance WHERE id = $1', [instanceId])).rows[0],
  ).toEqual(before);
});

describe('draining and deregistering', () => {
  it('drains and reactivates an instance, refusing a bad status', async () => {
    const bad = await http
      .patch(`/v1/clusters/default/container-instances/${instanceId}`)
      .send({ status: 'PAUSED' })
      .expect(400);
    expect(bad.body.field).toBe('status');
    const drained = await http
      .patch(`/v1/clusters/default/container-instances/${instanceId}`)
      .send({ status: 'DRAINING' })
      .expect(200);
    expect(drained.body.containerInstance.status).toBe('DRAINING');
    const back = await http
      .patch(`/v1/clusters/default/container-instances/${instanceId}`)
      .send({ status: 'ACTIVE' })
      .expect(200);
    expect(back.body.containerInstance.status).toBe('ACTIVE');
  });

  it('refuses to deregister an instance that runs tasks unless forced, which stops them', async () => {
    const { rows } = await sql.query(`SELECT id FROM task LIMIT 1`);
    await sql.query(`UPDATE task SET container_instance_id = $1, last_status = 'RUNNING' WHERE id = $2`, [
      instanceId,
      rows[0].id,
    ]);
    const refused = await http.delete(`/v1/clusters/default/container-instances/${instanceId}`).expect(409);
    expect(refused.body.message).toMatch(/force=true/);
    const forced = await http
      .delete(`/v1/clusters/default/container-instances/${instanceId}?force=true`)
      .expect(200);
    expect(forced.body.containerInstance.status).toBe('INACTIVE');
    const task = await http.get(`/v1/clusters/default/tasks/${rows[0].id}`).expect(200);
    expect(task.body.task).toMatchObject({
      desiredStatus: 'STOPPED',
      stoppedReason: 'Container instance deregistered',
    });
    await http
      .patch(`/v1/clusters/default/container-instances/${instanceId}`)
      .send({ status: 'ACTIVE' })
      .expect(409);
  });
});
