import { randomUUID } from 'node:crypto';
import { startTestGateway, type TestGateway } from './gateway.js';

/** StartTask over REST against a real Postgres: one task targeted at each instance named. */

let gateway: TestGateway;
let http: TestGateway['http'];
let sql: TestGateway['sql'];
let instances: string[];

const ARN = 'arn:berth:ecs:local:000000000000';

beforeAll(async () => {
  gateway = await startTestGateway('start-task');
  ({ http, sql } = gateway);
  await http.post('/v1/clusters').send({ clusterName: 'default' }).expect(200);
  await http
    .post('/v1/task-definitions')
    .send({ family: 'probe', containerDefinitions: [{ name: 'app', image: 'berth/busybox', memory: 32 }] })
    .expect(200);
  const { rows } = await sql.query(`SELECT id FROM cluster WHERE name = 'default'`);
  instances = [randomUUID(), randomUUID(), randomUUID()];
  for (const [i, id] of instances.entries()) {
    await sql.query(
      `INSERT INTO container_instance (id, cluster_id, status, host_address, registered_cpu, registered_memory, updated_at)
       VALUES ($1, $2, $3, '10.0.0.1', 1024, 1024, now())`,
      [id, rows[0].id, i === 2 ? 'INACTIVE' : 'ACTIVE'],
    );
  }
}, 30_000);

afterAll(async () => {
  await gateway?.close();
});

it('starts one task targeted at each registered instance, and reports the others MISSING', async () => {
  const unknown = randomUUID();
  const res = await http
    .post('/v1/clusters/default/tasks/start')
    .send({
      taskDefinition: 'probe',
      containerInstances: [
        instances[0],
        `${ARN}:container-instance/default/${instances[1]}`,
        instances[2],
        unknown,
        'junk',
      ],
      startedBy: 'ops',
    })
    .expect(200);
  expect(res.body.tasks).toHaveLength(2);
  for (const t of res.body.tasks) expect(t).toMatchObject({ lastStatus: 'PROVISIONING', startedBy: 'ops' });
  expect(res.body.failures).toEqual([
    { arn: `${ARN}:container-instance/default/${instances[2]}`, reason: 'MISSING' },
    { arn: `${ARN}:container-instance/default/${unknown}`, reason: 'MISSING' },
    { arn: 'junk', reason: 'MISSING' },
  ]);
  const { rows } = await sql.query(
    `SELECT target_container_instance_id AS target, placement_strategy FROM task ORDER BY target_container_instance_id`,
  );
  expect(rows.map((r) => r.target).sort()).toEqual([instances[0], instances[1]].sort());
  expect(rows.every((r) => Array.isArray(r.placement_strategy) && r.placement_strategy.length === 0)).toBe(
    true,
  );
});

it.each<[string, Record<string, unknown>, string]>([
  ['no instances', { taskDefinition: 'probe', containerInstances: [] }, 'containerInstances'],
  [
    '11 instances',
    { taskDefinition: 'probe', containerInstances: Array(11).fill(randomUUID()) },
    'containerInstances',
  ],
  ['no task definition', { containerInstances: [randomUUID()] }, 'taskDefinition'],
])('refuses %s with a 400 naming %s', async (_label, body, field) => {
  const res = await http.post('/v1/clusters/default/tasks/start').send(body).expect(400);
  expect(res.body).toMatchObject({ error: 'InvalidParameterException', field });
});
