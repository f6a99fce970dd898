import { startTestGateway, type TestGateway } from './gateway.js';

const path = '/v1/clusters/default/schedules';
const ARN = 'arn:berth:scheduler:local:000000000000:schedule/default';
const td = { family: 'nightly', containerDefinitions: [{ name: 'main', image: 'busybox', memory: 16 }] };

describe('schedules', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway('schedules');
    await gw.http.post('/v1/clusters').send({ clusterName: 'default' });
    await gw.http.post('/v1/task-definitions').send(td).expect(200);
  });
  afterAll(async () => gw.close());

  it('creates a schedule with its next firing in its time zone, and lists and reads it', async () => {
    const created = await gw.http.post(path).send({
      name: 'report',
      scheduleExpression: 'cron(0 3 * * ? *)',
      scheduleExpressionTimezone: 'Europe/Paris',
      taskDefinition: 'nightly',
      count: 2,
      overrides: { containerOverrides: [{ name: 'main', command: ['report'] }] },
    });
    expect(created.status).toBe(200);
    expect(created.body.schedule).toEqual({
      scheduleArn: `${ARN}/report`,
      clusterArn: 'arn:berth:ecs:local:000000000000:cluster/default',
      name: 'report',
      scheduleExpression: 'cron(0 3 * * ? *)',
      scheduleExpressionTimezone: 'Europe/Paris',
      flexibleTimeWindow: { mode: 'OFF' },
      state: 'ENABLED',
      taskDefinition: 'nightly',
      count: 2,
      overrides: { containerOverrides: [{ name: 'main', command: ['report'] }] },
      nextFireTime: expect.any(String),
      creationDate: expect.any(String),
      lastModificationDate: expect.any(String),
    });
    // 03:00 in Paris is 02:00 UTC in winter (01:00 in summer).
    expect(created.body.schedule.nextFireTime).toMatch(/T0[12]:00:00\.000Z$/);
    const got = await gw.http.get(`${path}/report`).expect(200);
    expect(got.body.schedule).toEqual({ ...created.body.schedule, lastRuns: [] });
    const listed = await gw.http.get(path).expect(200);
    expect(listed.body.schedules.map((s: { name: string }) => s.name)).toEqual(['report']);
    expect(
      await gw.count(`audit_event WHERE action = 'scheduler:CreateSchedule' AND outcome = 'Success'`),
    ).toBe(1);
  });

  it.each<[string, Record<string, unknown>, number, string, string]>([
    [
      'a cron of 5 fields',
      { scheduleExpression: 'cron(0 3 * * ?)' },
      400,
      'scheduleExpression',
      'cron() takes 6 fields',
    ],
    [
      'a rate under a minute',
      { scheduleExpression: 'rate(30 seconds)' },
      400,
      'scheduleExpression',
      'rate() takes a positive integer',
    ],
    [
      'an unknown time zone',
      { scheduleExpressionTimezone: 'Europe/Atlantis' },
      400,
      'scheduleExpressionTimezone',
      'must be an IANA time zone',
    ],
    [
      'a missing task definition',
      { taskDefinition: 'nope' },
      404,
      'taskDefinition',
      'task definition an ACTIVE revision of family nope does not exist',
    ],
    [
      'an override of no container',
      { overrides: { containerOverrides: [{ name: 'other' }] } },
      400,
      'overrides.containerOverrides[0].name',
      '',
    ],
  ])('refuses %s with a 4xx naming the field, writing nothing', async (_, change, status, field, message) => {
    const res = await gw.http
      .post(path)
      .send({ name: 'bad', scheduleExpression: 'rate(5 minutes)', taskDefinition: 'nightly', ...change });
    expect(res.status).toBe(status);
    expect(res.body.field ?? res.body.message).toContain(field);
    expect(res.body.message).toContain(message);
    expect(await gw.count(`schedule WHERE name = 'bad'`)).toBe(0);
  });

  it('refuses a second schedule of the same name with 409', async () => {
    const res = await gw.http
      .post(path)
      .send({ name: 'report', scheduleExpression: 'rate(1 hour)', taskDefinition: 'nightly' });
    expect(res.status).toBe(409);
    expect(res.body.error).toBe('ConflictException');
  });

  it('PATCH changes the fields it names; PUT replaces the whole schedule', async () => {
    const patched = await gw.http.patch(`${path}/report`).send({ state: 'DISABLED' }).expect(200);
    expect(patched.body.schedule).toMatchObject({
      state: 'DISABLED',
      count: 2,
      scheduleExpression: 'cron(0 3 * * ? *)',
    });
    const put = await gw.http
      .put(`${path}/report`)
      .send({ scheduleExpression: 'rate(5 minutes)', taskDefinition: 'nightly:1' })
      .expect(200);
    expect(put.body.schedule).toMatchObject({
      state: 'ENABLED',
      scheduleExpression: 'rate(5 minutes)',
      scheduleExpressionTimezone: 'UTC',
      taskDefinition: 'nightly:1',
    });
    expect(put.body.schedule).not.toHaveProperty('count');
    const renamed = await gw.http.patch(`${path}/report`).send({ name: 'other' });
    expect(renamed.status).toBe(400);
    expect(renamed.body.message).toContain('name: a schedule cannot be renamed');
  });

  it('lists the runs a firing recorded, with the task ARNs', async () => {
    const { rows } = await gw.sql.query(`SELECT id FROM schedule WHERE name = 'report'`);
    const taskId = '0b9d4a84-5c29-4c5e-9f0a-6f3f3c1d2e01';
    await gw.sql.query(
      `INSERT INTO schedule_run (id, schedule_id, scheduled_at, status, task_ids, reason)
       VALUES (gen_random_uuid(), $1, '2026-11-28T03:00:00Z', 'SUCCEEDED', $2, NULL),
              (gen_random_uuid(), $1, '2026-11-28T03:05:00Z', 'FAILED', '{}', 'task definition nightly:1 is INACTIVE')`,
      [rows[0].id, [taskId]],
    );
    const res = await gw.http.get(`${path}/report/runs`).expect(200);
    expect(res.body.runs).toEqual([
      {
        scheduledTime: '2026-11-28T03:05:00.000Z',
        status: 'FAILED',
        taskArns: [],
        reason: 'task definition nightly:1 is INACTIVE',
        recordedAt: expect.any(String),
      },
      {
        scheduledTime: '2026-11-28T03:00:00.000Z',
        status: 'SUCCEEDED',
        taskArns: [`arn:berth:ecs:local:000000000000:task/default/${taskId}`],
        recordedAt: expect.any(String),
      },
    ]);
    const got = await gw.http.get(`${path}/report`).expect(200);
    expect(got.body.schedule.lastRuns).toEqual(res.body.runs);
  });

  it('needs ecs:RunTask on the cluster as well to create or update a schedule, which runs tasks', async () => {
    const key = await gw.http
      .post('/v1/access-keys')
      .send({
        name: 'scheduler-only',
        policies: [
          {
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Action: ['scheduler:*'], Resource: ['*'] }],
          },
        ],
      })
      .expect(200);
    const as = gw.as(`${key.body.accessKey.accessKeyId}:${key.body.accessKey.secretAccessKey}`);
    const res = await as
      .post(path)
      .send({ name: 'sneaky', scheduleExpression: 'rate(1 minute)', taskDefinition: 'nightly' });
    expect(res.status).toBe(403);
    expect(res.body.message).toContain(
      'ecs:RunTask on resource: arn:berth:ecs:local:000000000000:cluster/default',
    );
    expect((await as.patch(`${path}/report`).send({ count: 10 })).status).toBe(403);
    expect((await as.get(`${path}/report`)).status).toBe(200);
    expect(await gw.count(`schedule WHERE name = 'sneaky'`)).toBe(0);
    expect(
      await gw.count(`audit_event WHERE action = 'scheduler:CreateSchedule' AND outcome = 'Denied'`),
    ).toBe(1);
  });

  it('deletes a schedule with its runs; then it is not found', async () => {
    const deleted = await gw.http.delete(`${path}/report`).expect(200);
    expect(deleted.body.schedule.name).toBe('report');
    expect((await gw.http.get(`${path}/report`)).status).toBe(404);
    expect(await gw.count('schedule_run')).toBe(0);
  });
});
