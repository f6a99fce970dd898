import { startTestGateway, type TestGateway } from './gateway.js';

/** ECS clientToken on RunTask and CreateService: a retry creates nothing and answers the same. */

let gw: TestGateway;

const arnsOf = (body: { tasks: { taskArn: string }[] }) => body.tasks.map((t) => t.taskArn).sort();

beforeAll(async () => {
  gw = await startTestGateway('client-token');
  for (const clusterName of ['default', 'other']) {
    await gw.http.post('/v1/clusters').send({ clusterName }).expect(200);
  }
  for (const family of ['web', 'api']) {
    await gw.http
      .post('/v1/task-definitions')
      .send({ family, containerDefinitions: [{ name: 'web', image: 'berth/busybox', cpu: 1, memory: 8 }] })
      .expect(200);
  }
});

afterAll(async () => {
  await gw?.close();
});

describe('RunTask', () => {
  const run = (body: object, cluster = 'default') => gw.http.post(`/v1/clusters/${cluster}/tasks`).send(body);

  it('answers a retry with the tasks the first call created, and creates nothing more', async () => {
    const first = await run({ taskDefinition: 'web', count: 2, clientToken: 'retry-1', startedBy: 'ci' });
    expect(first.status).toBe(200);
    const tasks = await gw.count('task');
    // The same parameters in another order, and count's default written out, are the same request.
    const again = await run({ startedBy: 'ci', clientToken: 'retry-1', count: 2, taskDefinition: 'web' });
    expect(again.status).toBe(200);
    expect(arnsOf(again.body)).toEqual(arnsOf(first.body));
    expect(await gw.count('task')).toBe(tasks);

    const once = await run({ taskDefinition: 'web', clientToken: 'retry-2' }).expect(200);
    const defaulted = await run({ taskDefinition: 'web', count: 1, clientToken: 'retry-2' }).expect(200);
    expect(arnsOf(defaulted.body)).toEqual(arnsOf(once.body));
  });

  it('refuses the same token with other parameters, naming clientToken and writing nothing', async () => {
    await run({ taskDefinition: 'web', clientToken: 'changed' }).expect(200);
    const tasks = await gw.count('task');
    const res = await run({ taskDefinition: 'web', count: 3, clientToken: 'changed' });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      error: 'InvalidParameterException',
      message: 'clientToken: was already used with other parameters; use a new token for a new request',
      field: 'clientToken',
    });
    expect(await gw.count('task')).toBe(tasks);
  });

  it('scopes a token to its cluster', async () => {
    const a = await run({ taskDefinition: 'web', clientToken: 'scoped' }).expect(200);
    const b = await run({ taskDefinition: 'web', clientToken: 'scoped' }, 'other').expect(200);
    expect(arnsOf(a.body)).not.toEqual(arnsOf(b.body));
  });

  it('creates once when calls with one token race', async () => {
    const tasks = await gw.count('task');
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => run({ taskDefinition: 'web', count: 3, clientToken: 'race' })),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(6).fill(200));
    const first = arnsOf(answers[0]!.body);
    expect(first).toHaveLength(3);
    for (const a of answers) expect(arnsOf(a.body)).toEqual(first);
    expect(await gw.count('task')).toBe(tasks + 3);
  });

  it.each([
    ['longer than 64 characters', 'x'.repeat(65)],
    ['not ASCII', 'jetón'],
    ['empty', ''],
    ['not a string', 7],
  ])('refuses a token %s', async (_, clientToken) => {
    const res = await run({ taskDefinition: 'web', clientToken });
    expect(res.status).toBe(400);
    expect(res.body.field).toBe('clientToken');
  });
});

describe('CreateService', () => {
  const create = (body: object) => gw.http.post('/v1/clusters/default/services').send(body);

  it('answers a retry with the service the first call created', async () => {
    const body = { serviceName: 'svc', taskDefinition: 'web', desiredCount: 0, clientToken: 'create-svc' };
    const first = await create(body).expect(200);
    const again = await create(body);
    expect(again.status).toBe(200);
    expect(again.body.service.serviceArn).toBe(first.body.service.serviceArn);
    expect(await gw.count('service')).toBe(1);
    // Without the token, the name is taken.
    expect((await create({ ...body, clientToken: undefined })).status).toBe(400);
  });

  it('refuses the same token with other parameters', async () => {
    const res = await create({
      serviceName: 'svc2',
      taskDefinition: 'web',
      desiredCount: 0,
      clientToken: 'create-svc',
    });
    expect(res.status).toBe(400);
    expect(res.body.field).toBe('clientToken');
    expect(await gw.count('service')).toBe(1);
  });

  it('creates once when calls with one token race', async () => {
    const body = { serviceName: 'raced', taskDefinition: 'api', desiredCount: 0, clientToken: 'race-svc' };
    const answers = await Promise.all(Array.from({ length: 6 }, () => create(body)));
    expect(answers.map((a) => a.status)).toEqual(Array(6).fill(200));
    expect(new Set(answers.map((a) => a.body.service.serviceArn)).size).toBe(1);
    expect(await gw.count('service')).toBe(2);
  });

  it('refuses a token longer than 36 characters', async () => {
    const res = await create({
      serviceName: 'x',
      taskDefinition: 'web',
      desiredCount: 0,
      clientToken: 'x'.repeat(37),
    });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({
      field: 'clientToken',
      message: 'clientToken: must be 1-36 printable ASCII characters',
    });
  });
});
