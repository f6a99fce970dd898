import { startTestGateway, type TestGateway } from './gateway.js';

const path = '/v1/clusters/default/registry-credentials';

describe('registry credentials', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway('creds');
    await gw.http.post('/v1/clusters').send({ clusterName: 'default' });
  });
  afterAll(async () => gw.close());

  it('replaces the credentials of a registry rather than adding a second set', async () => {
    await gw.http
      .put(`${path}/Registry.Example.com`)
      .send({ username: 'first', password: 'one' })
      .expect(200);
    const res = await gw.http
      .put(`${path}/registry.example.com`)
      .send({ username: 'second', password: 'two' });
    expect(res.status).toBe(200);
    expect(res.body.registryCredential).toEqual({
      registry: 'registry.example.com',
      username: 'second',
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    const list = await gw.http.get(path).expect(200);
    expect(list.body.registryCredentials).toHaveLength(1);
    expect(list.body.registryCredentials[0]).not.toHaveProperty('password');
  });

  it('answers 404 for an unknown cluster', async () => {
    const res = await gw.http
      .put('/v1/clusters/nope/registry-credentials/ghcr.io')
      .send({ username: 'u', password: 'p' });
    expect(res.status).toBe(404);
    expect(res.body.error).toBe('ClusterNotFoundException');
  });

  it('answers 400 naming the field for a key it does not know', async () => {
    const res = await gw.http.put(`${path}/ghcr.io`).send({ username: 'u', password: 'p', auth: 'x' });
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/auth/);
  });
});
