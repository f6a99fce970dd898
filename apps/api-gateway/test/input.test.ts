import { randomUUID } from 'node:crypto';
import { startTestGateway, type TestGateway } from './gateway.js';

/** Malformed ids, queries, tokens and bodies are 400s that name the parameter; every list pages. */

let gw: TestGateway;

const web = { name: 'web', image: 'berth/busybox', cpu: 1, memory: 8 };

beforeAll(async () => {
  gw = await startTestGateway('input');
  for (const name of ['default', 'c1', 'c2', 'c3']) {
    await gw.http.post('/v1/clusters').send({ clusterName: name }).expect(200);
  }
  for (const family of ['fa', 'fa', 'fb']) {
    await gw.http
      .post('/v1/task-definitions')
      .send({ family, containerDefinitions: [web] })
      .expect(200);
  }
  await gw.http.post('/v1/clusters/default/tasks').send({ taskDefinition: 'fa', count: 3 }).expect(200);
  for (const serviceName of ['s1', 's2', 's3']) {
    await gw.http
      .post('/v1/clusters/default/services')
      .send({ serviceName, taskDefinition: 'fb', desiredCount: 0 })
      .expect(200);
  }
  for (const registry of ['r1.example', 'r2.example', 'r3.example']) {
    await gw.http
      .put(`/v1/clusters/default/registry-credentials/${registry}`)
      .send({ username: 'u', password: 'p' })
      .expect(200);
  }
  for (const name of ['s1', 's2', 's3']) {
    await gw.http.put(`/v1/clusters/default/secrets/${name}`).send({ value: 'v' }).expect(200);
    await gw.http.post('/v1/clusters/default/join-tokens').send({ ttlSeconds: 3600 }).expect(200);
    await gw.http
      .post('/v1/access-keys')
      .send({ name, managedPolicies: ['BerthReadOnlyAccess'] })
      .expect(200);
  }
  const { rows } = await gw.sql.query(`SELECT id FROM cluster WHERE name = 'default'`);
  for (let i = 0; i < 3; i++) {
    await gw.sql.query(
      `INSERT INTO container_instance (id, cluster_id, host_address, registered_cpu, registered_memory, updated_at)
       VALUES ($1, $2, $3, 1024, 1024, now())`,
      [randomUUID(), rows[0].id, `10.0.0.${i}`],
    );
  }
});

afterAll(async () => {
  await gw?.close();
});

describe('every list pages with maxResults and nextToken', () => {
  it.each([
    ['/v1/clusters', 'clusters', 4],
    ['/v1/task-definitions', 'taskDefinitions', 3],
    ['/v1/clusters/default/tasks', 'tasks', 3],
    ['/v1/clusters/default/services', 'services', 3],
    ['/v1/clusters/default/container-instances', 'containerInstances', 3],
    ['/v1/clusters/default/registry-credentials', 'registryCredentials', 3],
    ['/v1/clusters/default/services/s1/events', 'events', 0],
    ['/v1/clusters/default/secrets', 'secrets', 3],
    ['/v1/clusters/default/join-tokens', 'joinTokens', 3],
    ['/v1/access-keys', 'accessKeys', 'access_key'],
    ['/v1/audit-events', 'auditEvents', 'audit_event'],
  ])('%s', async (path, key, expected) => {
    // A count, or the table whose rows the list holds (made by the harness as well as here).
    const total =
      typeof expected === 'number'
        ? expected
        : Number((await gw.sql.query(`SELECT count(*)::int AS n FROM ${expected}`)).rows[0].n);
    const seen: unknown[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const res = await gw.http.get(path).query({ maxResults: 2, ...(nextToken ? { nextToken } : {}) });
      expect(res.status).toBe(200);
      expect(res.body[key].length).toBeLessThanOrEqual(2);
      seen.push(...res.body[key]);
      nextToken = res.body.nextToken;
      pages++;
    } while (nextToken && pages < 50);
    expect(seen).toHaveLength(total);
    expect(new Set(seen.map((x) => JSON.stringify(x))).size).toBe(total);
  });
});

describe('malformed input is a 400 that names the parameter', () => {
  const garbage = ['garbage', '%%%', Buffer.from('["x"]').toString('base64url'), 'a'.repeat(3000)];

  it.each([
    '/v1/clusters',
    '/v1/task-definitions',
    '/v1/clusters/default/tasks',
    '/v1/clusters/default/services',
    '/v1/clusters/default/container-instances',
    '/v1/clusters/default/registry-credentials',
    '/v1/clusters/default/services/s1/events',
  ])('a bad nextToken or maxResults on %s', async (path) => {
    for (const nextToken of garbage) {
      const res = await gw.http.get(path).query({ nextToken });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: 'InvalidParameterException', field: 'nextToken' });
    }
    for (const maxResults of ['0', '101', '-1', '1.5', 'ten']) {
      const res = await gw.http.get(path).query({ maxResults });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({
        error: 'InvalidParameterException',
        message: 'maxResults: must be an integer from 1 to 100',
        field: 'maxResults',
      });
    }
  });

  it.each([
    ['GET', '/v1/clusters/default/tasks/not-a-task', 'task'],
    ['GET', `/v1/clusters/default/tasks/${'-'.repeat(36)}`, 'task'],
    ['POST', '/v1/clusters/default/tasks/123/stop', 'task'],
    ['GET', '/v1/clusters/default/container-instances/xyz', 'containerInstance'],
    ['PATCH', '/v1/clusters/default/container-instances/xyz', 'containerInstance'],
    ['GET', '/v1/clusters/bad%00name', 'cluster'],
    ['GET', `/v1/clusters/${'x'.repeat(300)}`, 'cluster'],
    ['GET', '/v1/clusters/default/services/no%20spaces', 'service'],
    ['GET', '/v1/task-definitions/fa:99999999999', 'taskDefinition'],
    ['DELETE', '/v1/clusters/default/registry-credentials/not%20a%20host', 'registry'],
    ['GET', '/v1/clusters/default/tasks?containerInstance=nope', 'containerInstance'],
    ['GET', '/v1/clusters/default/tasks?maxResults=1&maxResults=2', 'maxResults'],
    ['GET', '/v1/clusters?x=1&x=2', 'x'],
    ['GET', '/v1/clusters/default/tasks?startedBy=a%00b', 'startedBy'],
    ['DELETE', '/v1/clusters/default/services/s1?force=maybe', 'force'],
  ])('%s %s names %s', async (method, path, field) => {
    const res = await gw.http[method.toLowerCase() as 'get'](path);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'InvalidParameterException', field });
    expect(res.body.message).toMatch(new RegExp(`^${field}: `));
  });

  it('answers a real task by its ARN, and a well-formed unknown id with 404', async () => {
    const [task] = (await gw.http.get('/v1/clusters/default/tasks?maxResults=1').expect(200)).body.tasks;
    await gw.http.get(`/v1/clusters/default/tasks/${encodeURIComponent(task.taskArn)}`).expect(200);
    await gw.http.get(`/v1/clusters/default/tasks/${randomUUID()}`).expect(404);
  });

  it('refuses a NUL character or absurd nesting in a body, writing nothing', async () => {
    const before = await gw.count('task');
    const nul = await gw.http
      .post('/v1/clusters/default/tasks')
      .send({ taskDefinition: 'fa', startedBy: 'a\u0000b' });
    expect(nul.status).toBe(400);
    expect(nul.body).toMatchObject({
      field: 'startedBy',
      message: 'startedBy: must not contain the NUL character',
    });
    const deep = `{"taskDefinition": "fa", "tags": ${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}`;
    const nested = await gw.http.post('/v1/clusters/default/tasks').type('json').send(deep);
    expect(nested.status).toBe(400);
    expect(nested.body.message).toMatch(/nests deeper than 32 levels$/);
    expect(await gw.count('task')).toBe(before);
  });
});
