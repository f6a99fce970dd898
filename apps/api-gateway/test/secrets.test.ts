import { startTestGateway, type TestGateway } from './gateway.js';

const path = '/v1/clusters/default/secrets';
const VALUE = 'correct horse battery staple 4f9c1e';

describe('secrets', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway('secrets');
    await gw.http.post('/v1/clusters').send({ clusterName: 'default' });
  });
  afterAll(async () => gw.close());

  it('stores a secret and answers with its metadata, never its value', async () => {
    const put = await gw.http.put(`${path}/db-password`).send({ value: VALUE, description: 'orders DB' });
    expect(put.status).toBe(200);
    expect(put.body).toEqual({
      secret: {
        secretArn: 'arn:berth:ecs:local:000000000000:secret/default/db-password',
        name: 'db-password',
        description: 'orders DB',
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      },
    });
    const got = await gw.http.get(`${path}/db-password`).expect(200);
    expect(got.body.secret).toEqual(put.body.secret);
    const list = await gw.http.get(path).expect(200);
    for (const body of [put.body, got.body, list.body]) expect(JSON.stringify(body)).not.toContain(VALUE);

    // Sealed at rest: no column of the row holds the value.
    const { rows } = await gw.sql.query(`SELECT row_to_json(s)::text AS row FROM secret s`);
    expect(rows).toHaveLength(1);
    expect(rows[0].row).toContain('db-password');
    expect(rows[0].row).not.toContain(VALUE);
    const { rows: bytes } = await gw.sql.query(
      `SELECT position($1::bytea IN sealed_value) AS at FROM secret`,
      [Buffer.from(VALUE)],
    );
    expect(bytes[0].at).toBe(0);
  });

  it('replaces the value and description of an existing secret, keeping its creation time', async () => {
    const first = await gw.http.put(`${path}/api-key`).send({ value: 'one', description: 'v1' }).expect(200);
    const second = await gw.http.put(`${path}/api-key`).send({ value: 'two' }).expect(200);
    expect(second.body.secret.createdAt).toBe(first.body.secret.createdAt);
    expect(second.body.secret).not.toHaveProperty('description');
    expect(await gw.count(`secret WHERE name = 'api-key'`)).toBe(1);
  });

  it('takes names with slashes, URL-encoded', async () => {
    const put = await gw.http.put(`${path}/prod%2Forders%2Fdb`).send({ value: 'x' }).expect(200);
    expect(put.body.secret).toMatchObject({
      name: 'prod/orders/db',
      secretArn: 'arn:berth:ecs:local:000000000000:secret/default/prod/orders/db',
    });
    await gw.http.get(`${path}/prod%2Forders%2Fdb`).expect(200);
  });

  it('lists secrets in name order, a page at a time', async () => {
    for (const name of ['page-a', 'page-b', 'page-c'])
      await gw.http.put(`${path}/${name}`).send({ value: name });
    const names: string[] = [];
    let nextToken: string | undefined;
    do {
      const res = await gw.http.get(path).query({ maxResults: 2, ...(nextToken ? { nextToken } : {}) });
      expect(res.status).toBe(200);
      expect(res.body.secrets.length).toBeLessThanOrEqual(2);
      names.push(...res.body.secrets.map((s: { name: string }) => s.name));
      nextToken = res.body.nextToken;
    } while (nextToken);
    expect(names).toEqual([...names].sort());
    expect(names).toEqual(expect.arrayContaining(['db-password', 'page-a', 'page-b', 'page-c']));
  });

  it('deletes a secret; then it is not found', async () => {
    await gw.http.put(`${path}/short-lived`).send({ value: 'x' }).expect(200);
    const deleted = await gw.http.delete(`${path}/short-lived`).expect(200);
    expect(deleted.body.secret.name).toBe('short-lived');
    for (const res of [
      await gw.http.get(`${path}/short-lived`),
      await gw.http.delete(`${path}/short-lived`),
    ]) {
      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({
        error: 'ResourceNotFoundException',
        message: 'secret short-lived does not exist in cluster default',
        field: 'name',
      });
    }
  });

  it.each([
    ['a name with a space', 'db%20password', { value: 'x' }, 'name', /1-512 letters, digits or \/_\+=\.@!-/],
    ['a value over 64 KiB', 'big', { value: 'x'.repeat(65537) }, 'value', /at most 65536 bytes/],
    ['an empty value', 'empty', { value: '' }, 'value', /must not be empty/],
    ['a key it does not know', 'typo', { value: 'x', Value: 'y' }, '', /Value/],
  ])('refuses %s with 400 naming the field, and stores nothing', async (_, name, body, field, message) => {
    const before = await gw.count('secret');
    const res = await gw.http.put(`${path}/${name}`).send(body);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('InvalidParameterException');
    expect(res.body.message).toMatch(message);
    if (field) expect(res.body.field).toBe(field);
    expect(await gw.count('secret')).toBe(before);
  });

  it('refuses a page size out of range and a forged token', async () => {
    expect((await gw.http.get(path).query({ maxResults: 0 })).body.field).toBe('maxResults');
    expect((await gw.http.get(path).query({ nextToken: '%%%' })).body.field).toBe('nextToken');
  });

  it('answers 404 for an unknown cluster', async () => {
    const res = await gw.http.put('/v1/clusters/nope/secrets/x').send({ value: 'x' });
    expect(res.status).toBe(404);
    expect(res.body.error).toBe('ClusterNotFoundException');
  });

  it('keeps only the reference in a task definition, and refuses a reference it cannot read', async () => {
    const container = { name: 'app', image: 'berth/busybox', memory: 32 };
    const ok = await gw.http.post('/v1/task-definitions').send({
      family: 'with-secrets',
      containerDefinitions: [
        {
          ...container,
          secrets: [
            {
              name: 'DB_PASSWORD',
              valueFrom: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-password-AbCdEf',
            },
          ],
          repositoryCredentials: { credentialsParameter: 'registry-login' },
        },
      ],
    });
    expect(ok.status).toBe(200);
    expect(ok.body.warnings).toEqual([]);
    const bad = await gw.http.post('/v1/task-definitions').send({
      family: 'bad-secrets',
      containerDefinitions: [
        { ...container, secrets: [{ name: 'X', valueFrom: 'arn:aws:s3:::bucket/key' }] },
      ],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe('containerDefinitions[0].secrets[0].valueFrom');
  });
});
