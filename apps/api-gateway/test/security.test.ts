import type { Test } from 'supertest';
import { startTestGateway, type TestGateway } from './gateway.js';

const ARN = 'arn:berth:ecs:local:000000000000';
const td = {
  family: 'web',
  containerDefinitions: [{ name: 'web', image: 'berth/busybox', cpu: 128, memory: 64 }],
};

interface AuditEvent {
  accessKeyId: string | null;
  action: string;
  resource: string;
  outcome: string;
  statusCode: number;
  errorCode: string | null;
  requestId: string;
  sourceAddress: string;
  parameters: { path: Record<string, string>; query: Record<string, string>; body: unknown };
}

describe('access keys and policies', () => {
  let gw: TestGateway;
  const newKey = async (body: Record<string, unknown>) => {
    const res = await gw.http.post('/v1/access-keys').send({ name: 'k', ...body });
    expect(res.status).toBe(200);
    const key = res.body.accessKey as { accessKeyId: string; secretAccessKey: string };
    return { ...key, token: `${key.accessKeyId}:${key.secretAccessKey}` };
  };
  beforeAll(async () => {
    gw = await startTestGateway('security');
    for (const clusterName of ['prod', 'dev']) await gw.http.post('/v1/clusters').send({ clusterName });
    await gw.http.post('/v1/task-definitions').send(td);
  });
  afterAll(async () => gw.close());

  it('answers 401 on every route of the OpenAPI document without a valid key, and 200 on /healthz', async () => {
    const doc = (await gw.http.get('/docs/json')).body as { paths: Record<string, Record<string, unknown>> };
    const routes = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => ({
        method,
        path: path.replace(/\{[^}]+\}/g, (p) => (p === '{cluster}' ? 'prod' : 'x')),
      })),
    );
    expect(routes.length).toBeGreaterThan(25);
    const bad = ['', 'Bearer nonsense', 'Bearer BKIAAAAAAAAAAAAAAAAA:wrong-secret', `Basic ${gw.adminToken}`];
    for (const { method, path } of routes) {
      for (const authorization of bad) {
        const req = (gw.anonymous as unknown as Record<string, (p: string) => Test>)[method]!(path);
        const res = await (authorization ? req.set('authorization', authorization) : req);
        if (path === '/healthz') {
          expect(res.status).toBe(200);
          continue;
        }
        expect({ method, path, authorization, status: res.status, error: res.body.error }).toEqual({
          method,
          path,
          authorization,
          status: 401,
          error: 'UnrecognizedClientException',
        });
      }
    }
    expect((await gw.anonymous.get('/docs/json')).status).toBe(401);
  });

  it('shows the secret once, never again, and keeps it sealed in the database', async () => {
    const key = await newKey({ managedPolicies: ['BerthReadOnlyAccess'] });
    expect(key.accessKeyId).toMatch(/^BKIA[A-Z0-9]{16}$/);
    expect(key.secretAccessKey).toHaveLength(40);
    const got = await gw.http.get(`/v1/access-keys/${key.accessKeyId}`);
    expect(got.body.accessKey).toMatchObject({ accessKeyId: key.accessKeyId, status: 'Active' });
    const listed = await gw.http.get('/v1/access-keys');
    for (const body of [got.text, listed.text]) expect(body).not.toContain(key.secretAccessKey);
    const { rows } = await gw.sql.query('SELECT * FROM access_key WHERE id = $1', [key.accessKeyId]);
    expect(JSON.stringify(rows[0])).not.toContain(key.secretAccessKey);
    expect(Buffer.from(rows[0].sealed_secret).toString('latin1')).not.toContain(key.secretAccessKey);
  });

  it('lets a read-only key describe but not run a task, naming the action and the resource', async () => {
    const key = await newKey({ managedPolicies: ['BerthReadOnlyAccess'] });
    const ro = gw.as(key.token);
    expect((await ro.get('/v1/clusters/prod')).status).toBe(200);
    expect((await ro.get('/v1/clusters/prod/tasks')).status).toBe(200);
    const run = await ro.post('/v1/clusters/prod/tasks').send({ taskDefinition: 'web' });
    expect(run.status).toBe(403);
    expect(run.body).toEqual({
      error: 'AccessDeniedException',
      message: `User: ${key.accessKeyId} is not authorized to perform: ecs:RunTask on resource: ${ARN}:cluster/prod because no identity-based policy allows the ecs:RunTask action`,
    });
    expect(
      (await ro.post('/v1/access-keys').send({ name: 'x', managedPolicies: ['BerthAdministratorAccess'] }))
        .status,
    ).toBe(403);
    expect(await gw.count('task')).toBe(0);
  });

  it('confines a key allowed on one cluster to that cluster', async () => {
    const key = await newKey({
      policies: [
        {
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: ['ecs:*'], Resource: [`${ARN}:cluster/dev`] }],
        },
      ],
    });
    const devOnly = gw.as(key.token);
    const ok = await devOnly.post('/v1/clusters/dev/tasks').send({ taskDefinition: 'web' });
    expect(ok.status).toBe(200);
    const taskId = (ok.body.tasks[0].taskArn as string).split('/').pop();
    expect((await devOnly.get(`/v1/clusters/dev/tasks/${taskId}`)).status).toBe(200);
    const denied = await devOnly.post('/v1/clusters/prod/tasks').send({ taskDefinition: 'web' });
    expect(denied.status).toBe(403);
    expect(denied.body.message).toContain(`ecs:RunTask on resource: ${ARN}:cluster/prod`);
    expect((await devOnly.get('/v1/clusters/prod/services')).status).toBe(403);
    expect((await devOnly.get('/v1/clusters')).status).toBe(403);
  });

  it('lets an explicit Deny win over the administrator policy', async () => {
    const key = await newKey({
      managedPolicies: ['BerthAdministratorAccess'],
      policies: [
        {
          Version: '2012-10-17',
          Statement: [
            { Sid: 'KeepProd', Effect: 'Deny', Action: 'ecs:DeleteCluster', Resource: `${ARN}:cluster/prod` },
          ],
        },
      ],
    });
    const res = await gw.as(key.token).delete('/v1/clusters/prod');
    expect(res.status).toBe(403);
    expect(res.body.message).toContain(
      'with an explicit deny in an identity-based policy (statement KeepProd)',
    );
  });

  it('stops honouring a key made Inactive or deleted, at once', async () => {
    const key = await newKey({ managedPolicies: ['BerthReadOnlyAccess'] });
    const k = gw.as(key.token);
    expect((await k.get('/v1/clusters')).status).toBe(200);
    const patched = await gw.http.patch(`/v1/access-keys/${key.accessKeyId}`).send({ status: 'Inactive' });
    expect(patched.body.accessKey.status).toBe('Inactive');
    expect((await k.get('/v1/clusters')).status).toBe(401);
    await gw.http.patch(`/v1/access-keys/${key.accessKeyId}`).send({ status: 'Active' });
    expect((await k.get('/v1/clusters')).status).toBe(200);
    expect((await gw.http.delete(`/v1/access-keys/${key.accessKeyId}`)).status).toBe(200);
    expect((await k.get('/v1/clusters')).status).toBe(401);
    expect((await gw.http.get(`/v1/access-keys/${key.accessKeyId}`)).status).toBe(404);
  });

  it('answers 401, not 500, for a key whose secret no longer opens (its master key was dropped)', async () => {
    const key = await newKey({ managedPolicies: ['BerthReadOnlyAccess'] });
    await gw.sql.query(`UPDATE access_key SET seal_key_id = 'dropped' WHERE id = $1`, [key.accessKeyId]);
    const res = await gw.as(key.token).get('/v1/clusters');
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('UnrecognizedClientException');
  });

  it('refuses bad keys and policies naming the field, and writes nothing', async () => {
    const before = await gw.count('access_key');
    const cases: [object, string][] = [
      [{ name: 'x' }, 'policies'],
      [{ name: 'bad name!', managedPolicies: ['BerthReadOnlyAccess'] }, 'name'],
      [{ name: 'x', managedPolicies: ['Root'] }, 'managedPolicies[0]'],
      [
        {
          name: 'x',
          policies: [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'x', Resource: '*' }] }],
        },
        'policies[0].Statement[0].Action[0]',
      ],
    ];
    for (const [body, field] of cases) {
      const res = await gw.http.post('/v1/access-keys').send(body);
      expect({ status: res.status, field: res.body.field }).toEqual({ status: 400, field });
    }
    expect((await gw.http.get('/v1/access-keys/not-a-key')).body.field).toBe('accessKeyId');
    expect(await gw.count('access_key')).toBe(before);
  });

  it('pages through keys', async () => {
    const all = (await gw.http.get('/v1/access-keys')).body.accessKeys as { accessKeyId: string }[];
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const res = await gw.http
        .get('/v1/access-keys')
        .query({ maxResults: 2, ...(token ? { nextToken: token } : {}) });
      seen.push(...res.body.accessKeys.map((k: { accessKeyId: string }) => k.accessKeyId));
      token = res.body.nextToken;
    } while (token);
    expect(seen).toEqual(all.map((k) => k.accessKeyId));
    expect((await gw.http.get('/v1/access-keys?nextToken=garbage')).body.field).toBe('nextToken');
  });
});

describe('the audit log', () => {
  let gw: TestGateway;
  let adminKeyId: string;
  const audit = async (query: string) =>
    (await gw.http.get(`/v1/audit-events?${query}`)).body.auditEvents as AuditEvent[];

  beforeAll(async () => {
    gw = await startTestGateway('audit');
    adminKeyId = gw.adminToken.split(':')[0]!;
  });
  afterAll(async () => gw.close());

  it('records a mutating call with who, what, on what, from where and how it ended', async () => {
    const res = await gw.http.post('/v1/clusters').send({ clusterName: 'prod' });
    const [event] = await audit('action=ecs:CreateCluster');
    expect(event).toMatchObject({
      accessKeyId: adminKeyId,
      action: 'ecs:CreateCluster',
      resource: '*',
      outcome: 'Success',
      statusCode: 200,
      requestId: res.headers['x-request-id'],
      sourceAddress: expect.stringMatching(/127\.0\.0\.1/),
      parameters: { body: { clusterName: 'prod' } },
    });
  });

  it('records refused calls as Failed and denied calls as Denied, and reads as nothing', async () => {
    await gw.http.post('/v1/clusters').send({ clusterName: 'prod' });
    const before = await gw.count('audit_event');
    await gw.http.get('/v1/clusters/prod');
    expect(await gw.count('audit_event')).toBe(before);
    await gw.http.post('/v1/clusters/prod/tasks').send({ taskDefinition: 'missing' });
    const [failed] = await audit('action=ecs:RunTask');
    expect(failed).toMatchObject({ outcome: 'Failed', statusCode: 404, resource: `${ARN}:cluster/prod` });
    await gw.anonymous.delete('/v1/clusters/prod');
    await gw.anonymous.get('/v1/clusters/prod');
    const denied = await audit('outcome=Denied');
    expect(denied.map((e) => [e.action, e.statusCode, e.errorCode, e.accessKeyId])).toEqual([
      ['ecs:DescribeClusters', 401, 'UnrecognizedClientException', null],
      ['ecs:DeleteCluster', 401, 'UnrecognizedClientException', null],
    ]);
  });

  it('never holds a password or a secret key', async () => {
    await gw.http.post('/v1/clusters').send({ clusterName: 'prod' });
    await gw.http
      .put('/v1/clusters/prod/registry-credentials/registry.example:5000')
      .send({ username: 'ci', password: 'hunter2-registry' });
    const key = await gw.http
      .post('/v1/access-keys')
      .send({ name: 'ci', managedPolicies: ['BerthDeployer'] });
    const { rows } = await gw.sql.query('SELECT parameters FROM audit_event');
    const all = JSON.stringify(rows);
    expect(all).toContain('registry.example:5000');
    expect(all).not.toContain('hunter2-registry');
    expect(all).not.toContain(key.body.accessKey.secretAccessKey);
  });

  it('commits each event with its change: a change whose event cannot be written is not made', async () => {
    await gw.sql.query(
      `ALTER TABLE audit_event ADD CONSTRAINT no_b CHECK (parameters::text NOT LIKE '%"cluster-b"%')`,
    );
    try {
      const refused = await gw.http.post('/v1/clusters').send({ clusterName: 'cluster-b' });
      expect(refused.status).toBe(500);
      const { rows } = await gw.sql.query(`SELECT count(*)::int AS n FROM cluster WHERE name = 'cluster-b'`);
      expect(rows[0].n).toBe(0);
    } finally {
      await gw.sql.query('ALTER TABLE audit_event DROP CONSTRAINT no_b');
    }
    const made = await gw.http.post('/v1/clusters').send({ clusterName: 'cluster-c' });
    expect(made.status).toBe(200);
    const events = await audit('action=ecs:CreateCluster');
    expect(events.filter((e) => e.requestId === made.headers['x-request-id'])).toHaveLength(1);
  });

  it('is append-only', async () => {
    await gw.http.post('/v1/clusters').send({ clusterName: 'prod' });
    await expect(gw.sql.query(`UPDATE audit_event SET outcome = 'Success'`)).rejects.toThrow(/append-only/);
    await expect(gw.sql.query('DELETE FROM audit_event')).rejects.toThrow(/append-only/);
  });

  it('is readable only with berth:ListAuditEvents, filtered and paged, newest first', async () => {
    const key = await gw.http.post('/v1/access-keys').send({
      name: 'deployer',
      policies: [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ecs:*', Resource: '*' }] }],
    });
    const deployer = gw.as(`${key.body.accessKey.accessKeyId}:${key.body.accessKey.secretAccessKey}`);
    expect((await deployer.get('/v1/audit-events')).status).toBe(403);
    for (const name of ['a', 'b', 'c']) await deployer.post('/v1/clusters').send({ clusterName: name });
    const mine = `accessKeyId=${key.body.accessKey.accessKeyId}&outcome=Success`;
    const names: string[] = [];
    let token: string | undefined;
    do {
      const res = await gw.http.get(
        `/v1/audit-events?${mine}&maxResults=2${token ? `&nextToken=${token}` : ''}`,
      );
      names.push(
        ...res.body.auditEvents.map(
          (e: AuditEvent) => (e.parameters.body as { clusterName: string }).clusterName,
        ),
      );
      token = res.body.nextToken;
    } while (token);
    expect(names).toEqual(['c', 'b', 'a']);
    expect((await gw.http.get('/v1/audit-events?outcome=Maybe')).body.field).toBe('outcome');
    expect((await gw.http.get('/v1/audit-events?startTime=yesterday')).body.field).toBe('startTime');
    expect((await gw.http.get('/v1/audit-events?nextToken=zzz')).body.field).toBe('nextToken');
  });
});
