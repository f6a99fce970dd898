import { randomUUID, X509Certificate } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { AgentServiceClient, type JoinRequest, type JoinResponse } from '@berth/proto';
import { keyAndCsr } from '@berth/testing';
import { startTestGateway, type TestGateway } from './gateway.js';

/** The Join RPC against a real gateway: what a join token allows, and for how long. */
describe('joining with a token', () => {
  let gw: TestGateway;
  let client: AgentServiceClient;
  let csrPem: string;
  beforeAll(async () => {
    gw = await startTestGateway('agent-join');
    await gw.http.post('/v1/clusters').send({ clusterName: 'prod' }).expect(200);
    const { rows } = await gw.sql.query('SELECT certificate_pem FROM certificate_authority');
    client = new AgentServiceClient(
      gw.grpcAddress,
      grpc.credentials.createSsl(Buffer.from(rows[0].certificate_pem)),
    );
    ({ csrPem } = await keyAndCsr());
  });
  afterAll(async () => {
    client.close();
    await gw.close();
  });

  const join = (req: Partial<JoinRequest>) =>
    new Promise<JoinResponse>((resolve, reject) =>
      client.join(
        { cluster: 'prod', containerInstanceId: randomUUID(), csrPem, joinToken: '', ...req },
        (err, res) => (err ? reject(err) : resolve(res)),
      ),
    );
  const refusal = (req: Partial<JoinRequest>) =>
    join(req).then(
      () => 'OK',
      (err: grpc.ServiceError) => `${grpc.status[err.code]}: ${err.details}`,
    );
  const token = async (body: Record<string, unknown>) =>
    (await gw.http.post('/v1/clusters/prod/join-tokens').send(body).expect(200)).body.joinToken as {
      token: string;
      tokenId: string;
    };

  it('issues a certificate naming the cluster and the instance, whatever the CSR asks', async () => {
    const { token: text } = await token({ ttlSeconds: 600 });
    const id = randomUUID();
    const res = await join({ containerInstanceId: id, joinToken: text });
    const cert = new X509Certificate(res.certificatePem);
    expect(cert.subjectAltName).toBe(`URI:berth://cluster/prod/container-instance/${id}`);
    expect(cert.verify(new X509Certificate(res.caCertificatePem).publicKey)).toBe(true);
    const days = (Date.parse(cert.validTo) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(29.9);
    expect(days).toBeLessThan(30.1);
  });

  it('enforces maxUses, expiry, revocation and the cluster', async () => {
    const once = await token({ ttlSeconds: 600, maxUses: 1 });
    expect(await refusal({ joinToken: once.token })).toBe('OK');
    expect(await refusal({ joinToken: once.token })).toBe('UNAUTHENTICATED: the join token was used up');
    const listed = await gw.http.get('/v1/clusters/prod/join-tokens').expect(200);
    expect(listed.body.joinTokens.find((t: { tokenId: string }) => t.tokenId === once.tokenId).uses).toBe(1);

    const expired = await token({ ttlSeconds: 600 });
    await gw.sql.query(`UPDATE join_token SET expires_at = now() - interval '1 second' WHERE id = $1`, [
      expired.tokenId,
    ]);
    expect(await refusal({ joinToken: expired.token })).toBe('UNAUTHENTICATED: the join token expired');

    const revoked = await token({ ttlSeconds: 600 });
    await gw.http.delete(`/v1/clusters/prod/join-tokens/${revoked.tokenId}`).expect(200);
    expect(await refusal({ joinToken: revoked.token })).toBe('UNAUTHENTICATED: the join token was revoked');

    const other = await token({ ttlSeconds: 600 });
    expect(await refusal({ cluster: 'dev', joinToken: other.token })).toMatch(
      /^UNAUTHENTICATED: cluster: the join token is for another cluster/,
    );
  });

  it('tells a wrong secret nothing, and asks for a certificate without a token', async () => {
    const good = await token({ ttlSeconds: 600 });
    const wrong = good.token.replace(/^(berth1\.[0-9a-f]{16}\.)[0-9a-f]{32}/, `$1${'0'.repeat(32)}`);
    expect(await refusal({ joinToken: wrong })).toBe('UNAUTHENTICATED: the join token is not valid');
    expect(await refusal({ joinToken: 'berth1.nope' })).toBe('UNAUTHENTICATED: the join token is not valid');
    expect(await refusal({})).toMatch(/^UNAUTHENTICATED: a join token or a client certificate/);
    const once = await token({ ttlSeconds: 600, maxUses: 1 });
    expect(await refusal({ joinToken: once.token, csrPem: 'nope' })).toMatch(/^INVALID_ARGUMENT: csr: /);
    // A CSR that does not parse spends no use.
    expect(await refusal({ joinToken: once.token })).toBe('OK');
    const { rows } = await gw.sql.query(
      `SELECT outcome, count(*)::int AS n FROM audit_event WHERE action = 'berth:AgentJoin' GROUP BY outcome`,
    );
    expect(rows).toEqual(expect.arrayContaining([expect.objectContaining({ outcome: 'Denied' })]));
  });
});
