import { randomUUID } from 'node:crypto';
import { startTestGateway, type TestGateway } from './gateway.js';

/**
 * UpdateTaskProtection / GetTaskProtection over REST against a real Postgres, and the service
 * fields Berth refuses or now acts on (DAEMON, deploymentController, loadBalancers).
 */

let gateway: TestGateway;
let http: TestGateway['http'];
let sql: TestGateway['sql'];
let serviceTasks: string[];
let standalone: string;

const ARN = 'arn:berth:ecs:local:000000000000';
const web = { name: 'web', image: 'berth/busybox', cpu: 128, memory: 32 };

beforeAll(async () => {
  gateway = await startTestGateway('protection');
  ({ http, sql } = gateway);
  await http.post('/v1/clusters').send({ clusterName: 'default' }).expect(200);
  await http
    .post('/v1/task-definitions')
    .send({ family: 'prot', containerDefinitions: [web] })
    .expect(200);
  await http
    .post('/v1/clusters/default/services')
    .send({ serviceName: 'web', taskDefinition: 'prot', desiredCount: 2 })
    .expect(200);
  // The controller is not running: the service's tasks are written as it would write them.
  const { rows } = await sql.query(`SELECT s.id, s.cluster_id, s.task_definition_id, d.id AS deployment_id
      FROM service s JOIN deployment d ON d.service_id = s.id WHERE s.name = 'web'`);
  const s = rows[0];
  serviceTasks = [randomUUID(), randomUUID()];
  for (const id of serviceTasks) {
    await sql.query(
      `INSERT INTO task (id, cluster_id, task_definition_id, service_id, deployment_id, cpu, memory, updated_at)
       VALUES ($1, $2, $3, $4, $5, 128, 32, now())`,
      [id, s.cluster_id, s.task_definition_id, s.id, s.deployment_id],
    );
  }
  const run = await http.post('/v1/clusters/default/tasks').send({ taskDefinition: 'prot' }).expect(200);
  standalone = run.body.tasks[0].taskArn.split('/').pop();
}, 30_000);

afterAll(async () => {
  await gateway?.close();
});

const minutesFromNow = (iso: string) => (new Date(iso).getTime() - Date.now()) / 60_000;

it('protects service tasks, by id or ARN, and reports the others as failures', async () => {
  const missing = randomUUID();
  const res = await http
    .put('/v1/clusters/default/task-protection')
    .send({
      tasks: [serviceTasks[0], `${ARN}:task/default/${serviceTasks[1]}`, standalone, missing, 'junk'],
      protectionEnabled: true,
      expiresInMinutes: 60,
    })
    .expect(200);
  expect(res.body.protectedTasks).toEqual(
    serviceTasks.map((id) => ({
      taskArn: `${ARN}:task/default/${id}`,
      protectionEnabled: true,
      expirationDate: expect.any(String),
    })),
  );
  for (const t of res.body.protectedTasks) expect(minutesFromNow(t.expirationDate)).toBeCloseTo(60, 0);
  expect(res.body.failures).toEqual([
    {
      arn: `${ARN}:task/default/${standalone}`,
      reason: 'TASK_NOT_VALID',
      detail: 'The task is not part of a service',
    },
    { arn: `${ARN}:task/default/${missing}`, reason: 'MISSING' },
    { arn: 'junk', reason: 'MISSING' },
  ]);
  const { rows } = await sql.query('SELECT id, protected_until FROM task WHERE protected_until IS NOT NULL');
  expect(rows.map((r) => r.id).sort()).toEqual([...serviceTasks].sort());
});

it('reads protection back, for the tasks named or every protected one', async () => {
  const one = await http.get(`/v1/clusters/default/task-protection?tasks=${serviceTasks[0]}`).expect(200);
  expect(one.body).toEqual({
    protectedTasks: [
      {
        taskArn: `${ARN}:task/default/${serviceTasks[0]}`,
        protectionEnabled: true,
        expirationDate: expect.any(String),
      },
    ],
    failures: [],
  });
  const all = await http.get('/v1/clusters/default/task-protection').expect(200);
  expect(all.body.protectedTasks).toHaveLength(2);
});

it('defaults to 120 minutes, and clears the protection when disabled', async () => {
  const res = await http
    .put('/v1/clusters/default/task-protection')
    .send({ tasks: [serviceTasks[0]], protectionEnabled: true })
    .expect(200);
  expect(minutesFromNow(res.body.protectedTasks[0].expirationDate)).toBeCloseTo(120, 0);
  const off = await http
    .put('/v1/clusters/default/task-protection')
    .send({ tasks: [serviceTasks[0]], protectionEnabled: false })
    .expect(200);
  expect(off.body.protectedTasks).toEqual([
    { taskArn: `${ARN}:task/default/${serviceTasks[0]}`, protectionEnabled: false },
  ]);
  const got = await http.get(`/v1/clusters/default/task-protection?tasks=${serviceTasks[0]}`).expect(200);
  expect(got.body.protectedTasks[0]).toEqual({
    taskArn: `${ARN}:task/default/${serviceTasks[0]}`,
    protectionEnabled: false,
  });
});

it.each<[string, Record<string, unknown>, string]>([
  ['2881 minutes', { tasks: ['x'], protectionEnabled: true, expiresInMinutes: 2881 }, 'expiresInMinutes'],
  ['0 minutes', { tasks: ['x'], protectionEnabled: true, expiresInMinutes: 0 }, 'expiresInMinutes'],
  ['11 tasks', { tasks: Array.from({ length: 11 }, () => randomUUID()), protectionEnabled: true }, 'tasks'],
  ['no protectionEnabled', { tasks: ['x'] }, 'protectionEnabled'],
])('refuses %s with a 400 naming %s', async (_label, body, field) => {
  const res = await http.put('/v1/clusters/default/task-protection').send(body).expect(400);
  expect(res.body).toMatchObject({ error: 'InvalidParameterException', field });
});

it('answers 404 for an unknown cluster', async () => {
  await http
    .put('/v1/clusters/nope/task-protection')
    .send({ tasks: [serviceTasks[0]], protectionEnabled: true })
    .expect(404);
});

it('is its own policy action: a read-only key may not protect', async () => {
  const created = await http
    .post('/v1/access-keys')
    .send({ name: 'ro', managedPolicies: ['BerthReadOnlyAccess'] });
  const key = created.body.accessKey as { accessKeyId: string; secretAccessKey: string };
  const ro = gateway.as(`${key.accessKeyId}:${key.secretAccessKey}`);
  const res = await ro
    .put('/v1/clusters/default/task-protection')
    .send({ tasks: [serviceTasks[0]], protectionEnabled: true })
    .expect(403);
  expect(res.body.message).toContain('ecs:UpdateTaskProtection');
  const events = await sql.query(`SELECT action FROM audit_event WHERE action = 'ecs:UpdateTaskProtection'`);
  expect(events.rows.length).toBeGreaterThan(0);
});

describe('service fields', () => {
  it('creates a DAEMON service without desiredCount, stored as DAEMON with 0% / 100%', async () => {
    const res = await http
      .post('/v1/clusters/default/services')
      .send({ serviceName: 'probe', taskDefinition: 'prot', schedulingStrategy: 'DAEMON' })
      .expect(200);
    expect(res.body.service).toMatchObject({
      desiredCount: 0,
      deploymentConfiguration: { minimumHealthyPercent: 0, maximumPercent: 100 },
    });
    const { rows } = await sql.query(`SELECT scheduling_strategy FROM service WHERE name = 'probe'`);
    expect(rows[0].scheduling_strategy).toBe('DAEMON');
    const patch = await http
      .patch('/v1/clusters/default/services/probe')
      .send({ desiredCount: 3 })
      .expect(400);
    expect(patch.body).toMatchObject({ field: 'desiredCount' });
    expect(patch.body.message).toMatch(/daemon scheduling strategy does not support a desired count/);
  });

  it('deletes a DAEMON service without force, whatever its count (as in ECS)', async () => {
    await sql.query(`UPDATE service SET desired_count = 3 WHERE name = 'probe'`);
    const res = await http.delete('/v1/clusters/default/services/probe').expect(200);
    expect(res.body.service).toMatchObject({
      status: 'DRAINING',
      desiredCount: 0,
      schedulingStrategy: 'DAEMON',
    });
  });

  it.each<[Record<string, unknown>, string]>([
    [{ schedulingStrategy: 'DAEMON', desiredCount: 2 }, 'desiredCount'],
    [{ schedulingStrategy: 'DAEMON', placementStrategy: [{ type: 'random' }] }, 'placementStrategy'],
    [{ desiredCount: 1, deploymentController: { type: 'CODE_DEPLOY' } }, 'deploymentController.type'],
    [
      { desiredCount: 1, loadBalancers: [{ containerName: 'web', containerPort: 80 }] },
      'loadBalancers[0].targetGroupArn',
    ],
    [{ desiredCount: 1, serviceRegistries: [{ registryArn: 'x' }] }, 'serviceRegistries'],
  ])('refuses %j naming %s, writing nothing', async (body, field) => {
    const before = await gateway.count('service');
    const res = await http
      .post('/v1/clusters/default/services')
      .send({ serviceName: 'refused', taskDefinition: 'prot', ...body })
      .expect(400);
    expect(res.body).toMatchObject({ error: 'InvalidParameterException', field });
    expect(await gateway.count('service')).toBe(before);
  });
});
