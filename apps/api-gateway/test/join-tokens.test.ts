import { createHash, X509Certificate } from 'node:crypto';
import { parseJoinToken } from '@berth/domain';
import { startTestGateway, type TestGateway } from './gateway.js';

describe('join tokens and the cluster CA', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway('join-tokens');
    await gw.http.post('/v1/clusters').send({ clusterName: 'prod' }).expect(200);
  });
  afterAll(async () => gw.close());

  it('creates the CA once, its key sealed', async () => {
    const { rows } = await gw.sql.query('SELECT certificate_pem, sealed_key FROM certificate_authority');
    expect(rows).toHaveLength(1);
    const ca = new X509Certificate(rows[0].certificate_pem);
    expect(ca.ca).toBe(true);
    expect(Buffer.from(rows[0].sealed_key).toString('latin1')).not.toContain('PRIVATE KEY');
  });

  it('returns a token once, carrying the CA hash, and stores only a hash of its secret', async () => {
    const res = await gw.http.post('/v1/clusters/prod/join-tokens').send({ ttlSeconds: 3600, maxUses: 3 });
    expect(res.status).toBe(200);
    const { joinToken } = res.body;
    const token = parseJoinToken(joinToken.token);
    expect(joinToken).toMatchObject({ tokenId: token.id, maxUses: 3, uses: 0, revokedAt: null });
    expect(Date.parse(joinToken.expiresAt) - Date.parse(joinToken.createdAt)).toBeCloseTo(3600_000, -3);

    const { rows } = await gw.sql.query('SELECT * FROM certificate_authority');
    const der = new X509Certificate(rows[0].certificate_pem).raw;
    expect(token.caHash).toBe(createHash('sha256').update(der).digest('hex'));

    const stored = await gw.sql.query('SELECT * FROM join_token WHERE id = $1', [token.id]);
    expect(JSON.stringify(stored.rows[0])).not.toContain(token.secret);
    expect(stored.rows[0].secret_hash).toBe(createHash('sha256').update(token.secret).digest('hex'));

    const listed = await gw.http.get('/v1/clusters/prod/join-tokens').expect(200);
    expect(listed.text).not.toContain(token.secret);
    expect(listed.body.joinTokens.map((t: { tokenId: string }) => t.tokenId)).toContain(token.id);
  });

  it('revokes a token, and says which one it does not know', async () => {
    const { body } = await gw.http
      .post('/v1/clusters/prod/join-tokens')
      .send({ ttlSeconds: 600 })
      .expect(200);
    const id = body.joinToken.tokenId as string;
    const revoked = await gw.http.delete(`/v1/clusters/prod/join-tokens/${id}`).expect(200);
    expect(revoked.body.joinToken.revokedAt).toEqual(expect.any(String));
    const missing = await gw.http.delete('/v1/clusters/prod/join-tokens/0000000000000000');
    expect(missing.status).toBe(404);
    expect(missing.body.error).toBe('JoinTokenNotFoundException');
    expect((await gw.http.delete('/v1/clusters/prod/join-tokens/nope')).body.message).toMatch(/^tokenId: /);
  });

  it('names the field and the rule of a bad request', async () => {
    const res = await gw.http.post('/v1/clusters/prod/join-tokens').send({ ttlSeconds: 10 });
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/^ttlSeconds: must be at least 60/);
    const uses = await gw.http.post('/v1/clusters/prod/join-tokens').send({ ttlSeconds: 60, maxUses: -1 });
    expect(uses.body.message).toMatch(/^maxUses: /);
    expect((await gw.http.post('/v1/clusters/nope/join-tokens').send({ ttlSeconds: 60 })).status).toBe(404);
  });

  it('lets only an administrator create or revoke tokens, and audits it', async () => {
    const created = await gw.http
      .post('/v1/access-keys')
      .send({ name: 'ro', managedPolicies: ['BerthReadOnlyAccess'] })
      .expect(200);
    const ro = gw.as(`${created.body.accessKey.accessKeyId}:${created.body.accessKey.secretAccessKey}`);
    const denied = await ro.post('/v1/clusters/prod/join-tokens').send({ ttlSeconds: 600 });
    expect(denied.status).toBe(403);
    expect(denied.body.message).toContain('berth:CreateJoinToken');
    expect((await ro.delete('/v1/clusters/prod/join-tokens/0000000000000000')).status).toBe(403);
    expect((await ro.get('/v1/clusters/prod/join-tokens')).status).toBe(200);
    expect((await gw.anonymous.get('/v1/clusters/prod/join-tokens')).status).toBe(401);

    const { rows } = await gw.sql.query(
      `SELECT action, outcome, parameters::text AS parameters FROM audit_event WHERE action LIKE 'berth:%JoinToken'`,
    );
    expect(rows).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ action: 'berth:CreateJoinToken', outcome: 'Success' }),
        expect.objectContaining({ action: 'berth:CreateJoinToken', outcome: 'Denied' }),
        expect.objectContaining({ action: 'berth:DeleteJoinToken', outcome: 'Success' }),
      ]),
    );
  });
});
