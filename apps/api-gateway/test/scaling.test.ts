import { startTestGateway, type TestGateway } from './gateway.js';

/** PUT, GET and DELETE .../services/{service}/scaling against a real Postgres: rules, audit, access. */

let gateway: TestGateway;
let http: TestGateway['http'];
const route = '/v1/clusters/default/services/web/scaling';
const cpu50 = { predefinedMetric: 'ECSServiceAverageCPUUtilization', targetValue: 50 };
const nightly = {
  scheduledActionName: 'nightly',
  schedule: 'cron(0 22 * * ? *)',
  timezone: 'Europe/Paris',
  scalableTargetAction: { maxCapacity: 1 },
};

beforeAll(async () => {
  gateway = await startTestGateway('scaling');
  ({ http } = gateway);
  await http.post('/v1/clusters').send({ clusterName: 'default' }).expect(200);
  await http
    .post('/v1/task-definitions')
    .send({
      family: 'web',
      containerDefinitions: [{ name: 'web', image: 'berth/busybox', cpu: 256, memory: 32 }],
    })
    .expect(200);
  await http
    .post('/v1/clusters/default/services')
    .send({ serviceName: 'web', taskDefinition: 'web', desiredCount: 1 })
    .expect(200);
}, 30_000);

afterAll(async () => {
  await gateway?.close();
});

it('sets, shows and removes a service scaling, with Application Auto Scaling defaults, audited', async () => {
  await http.get(route).expect(404);
  const put = await http
    .put(route)
    .send({ minCapacity: 1, maxCapacity: 3, targetTrackingPolicies: [{ ...cpu50, scaleOutCooldown: 10 }] })
    .expect(200);
  const view = {
    serviceArn: 'arn:berth:ecs:local:000000000000:service/default/web',
    minCapacity: 1,
    maxCapacity: 3,
    targetTrackingPolicies: [
      {
        policyName: 'ECSServiceAverageCPUUtilization-50',
        predefinedMetric: 'ECSServiceAverageCPUUtilization',
        targetValue: 50,
        scaleOutCooldown: 10,
        scaleInCooldown: 300,
        disableScaleIn: false,
      },
    ],
    scheduledActions: [],
    lastScaleOutAt: null,
    lastScaleInAt: null,
  };
  expect(put.body).toEqual(view);
  expect((await http.get(route).expect(200)).body).toEqual(view);

  // PUT again replaces the whole configuration.
  await http.put(route).send({ minCapacity: 2, maxCapacity: 4 }).expect(200);
  expect((await http.get(route).expect(200)).body).toMatchObject({
    minCapacity: 2,
    targetTrackingPolicies: [],
  });

  expect((await http.delete(route).expect(200)).body).toMatchObject({ minCapacity: 2, maxCapacity: 4 });
  await http.delete(route).expect(404);
  const { rows } = await gateway.sql.query(
    `SELECT action, outcome FROM audit_event WHERE action LIKE 'application-autoscaling:%' AND outcome = 'Success' ORDER BY event_time`,
  );
  expect(rows.map((r) => r.action)).toEqual([
    'application-autoscaling:RegisterScalableTarget',
    'application-autoscaling:RegisterScalableTarget',
    'application-autoscaling:DeregisterScalableTarget',
  ]);
});

it.each([
  [{ minCapacity: 3, maxCapacity: 1 }, 'minCapacity: 3 is greater than maxCapacity 1'],
  [
    { minCapacity: 1, maxCapacity: 3, targetTrackingPolicies: [{ ...cpu50, targetValue: 0 }] },
    'targetTrackingPolicies[0].targetValue: must be a number greater than 0',
  ],
  [
    { minCapacity: 1, maxCapacity: 3, targetTrackingPolicies: [{ ...cpu50, predefinedMetric: 'Disk' }] },
    'targetTrackingPolicies[0].predefinedMetric: must be one of',
  ],
  [
    {
      minCapacity: 1,
      maxCapacity: 3,
      targetTrackingPolicies: [{ ...cpu50, predefinedMetric: 'ALBRequestCountPerTarget' }],
    },
    'ALBRequestCountPerTarget needs a service with loadBalancers',
  ],
  [
    { minCapacity: 1, maxCapacity: 3, scheduledActions: [{ ...nightly, schedule: 'cron(0 22 * * *)' }] },
    'scheduledActions[0].schedule: cron() takes 6 fields',
  ],
  [
    { minCapacity: 1, maxCapacity: 3, scheduledActions: [{ ...nightly, scalableTargetAction: {} }] },
    'scheduledActions[0].scalableTargetAction: must set minCapacity, maxCapacity or both',
  ],
  [
    { minCapacity: 1, maxCapacity: 3, scheduledActions: [{ ...nightly, timezone: 'Paris' }] },
    'scheduledActions[0].timezone: must be an IANA time zone',
  ],
])('refuses %j with a 400 naming the field, writing nothing', async (body, message) => {
  const res = await http.put(route).send(body).expect(400);
  expect(res.body.message).toContain(message);
  expect(await gateway.count('service_scaling')).toBe(0);
});

it('shows each scheduled action with its next firing, kept across a PUT that leaves it unchanged', async () => {
  const body = {
    minCapacity: 1,
    maxCapacity: 3,
    scheduledActions: [
      nightly,
      {
        scheduledActionName: 'launch',
        schedule: 'at(2099-01-01T09:00:00)',
        endTime: '2099-12-31T00:00:00Z',
        scalableTargetAction: { minCapacity: 2, maxCapacity: 3 },
      },
    ],
  };
  const put = await http.put(route).send(body).expect(200);
  const [night, launch] = put.body.scheduledActions;
  expect(launch).toEqual({
    scheduledActionName: 'launch',
    schedule: 'at(2099-01-01T09:00:00)',
    timezone: 'UTC',
    startTime: null,
    endTime: '2099-12-31T00:00:00.000Z',
    scalableTargetAction: { minCapacity: 2, maxCapacity: 3 },
    creationTime: expect.any(String),
    nextFiringTime: '2099-01-01T09:00:00.000Z',
    lastFiringTime: null,
  });
  // 22:00 in Paris is 21:00 UTC in winter, 20:00 in summer.
  expect(night.nextFiringTime).toMatch(/T2[01]:00:00\.000Z$/);
  const again = await http.put(route).send(body).expect(200);
  expect(again.body.scheduledActions[0].creationTime).toBe(night.creationTime);
  await http.delete(route).expect(200);
});

it('answers 404 for a service that does not exist', async () => {
  await http
    .put('/v1/clusters/default/services/nope/scaling')
    .send({ minCapacity: 1, maxCapacity: 2 })
    .expect(404);
});

it('lets a read-only key read a scaling but not change it', async () => {
  await http.put(route).send({ minCapacity: 1, maxCapacity: 2 }).expect(200);
  const key = await http
    .post('/v1/access-keys')
    .send({ name: 'viewer', managedPolicies: ['BerthReadOnlyAccess'] })
    .expect(200);
  const viewer = gateway.as(`${key.body.accessKey.accessKeyId}:${key.body.accessKey.secretAccessKey}`);
  await viewer.get(route).expect(200);
  await viewer.put(route).send({ minCapacity: 1, maxCapacity: 5 }).expect(403);
  await viewer.delete(route).expect(403);
});
