import { randomBytes } from 'node:crypto';
import { createPrisma, type PrismaClient } from '@berth/db';
import { KeyRing } from '../src/crypto/key-ring.js';
import { reseal, sealedTables } from '../src/crypto/reseal.js';
import { sealContexts } from '../src/crypto/seal-contexts.js';
import { startTestGateway, type TestGateway } from './gateway.js';

/** `admin.js reseal` on a database a gateway filled under the old key: every kind of sealed value. */
describe('reseal against the database', () => {
  const k1 = `k1:${randomBytes(32).toString('base64')}`;
  const k2 = `k2:${randomBytes(32).toString('base64')}`;
  let gw: TestGateway;
  let db: PrismaClient;
  beforeAll(async () => {
    gw = await startTestGateway('reseal', { BERTH_MASTER_KEYS: k1 });
    db = createPrisma(gw.databaseUrl);
    await gw.http.post('/v1/clusters').send({ clusterName: 'default' }).expect(200);
    await gw.http.put('/v1/clusters/default/secrets/db-password').send({ value: 'hunter2' }).expect(200);
    await gw.http
      .put('/v1/clusters/default/registry-credentials/127.0.0.1:5005')
      .send({ username: 'bot', password: 'registry-pw' })
      .expect(200);
  });
  afterAll(async () => {
    await db.$disconnect();
    await gw.close();
  });

  const resealAll = async (keys: KeyRing) =>
    Promise.all(sealedTables(db).map((table) => reseal(keys, table)));

  it('seals access keys, secrets, registry passwords and the CA key under the new key, and only once', async () => {
    const before = (await gw.http.get('/v1/clusters/default/secrets/db-password').expect(200)).body.secret;
    const rotated = KeyRing.parse(`${k2},${k1}`);
    const first = await resealAll(rotated);
    expect(first.map((r) => [r.label, r.resealed, r.remaining])).toEqual([
      ['access keys', 1, 0],
      ['secrets', 1, 0],
      ['registry credentials', 1, 0],
      ['certificate authority', 1, 0],
    ]);
    const second = await resealAll(rotated);
    expect(second.map((r) => [r.resealed, r.alreadyCurrent])).toEqual([
      [0, 1],
      [0, 1],
      [0, 1],
      [0, 1],
    ]);

    // Everything opens with the new key alone.
    const onlyK2 = KeyRing.parse(k2);
    const secret = await db.secret.findFirstOrThrow();
    expect(
      onlyK2.open(
        { keyId: secret.sealKeyId, sealed: secret.sealedValue },
        sealContexts.secret(secret.clusterId, secret.name),
      ),
    ).toBe('hunter2');
    const credential = await db.registryCredential.findFirstOrThrow();
    expect(
      onlyK2.open(
        { keyId: credential.sealKeyId, sealed: credential.sealedPassword },
        sealContexts.registryCredential(credential.clusterId, credential.registry),
      ),
    ).toBe('registry-pw');
    const ca = await db.certificateAuthority.findFirstOrThrow();
    expect(
      onlyK2.open({ keyId: ca.sealKeyId, sealed: ca.sealedKey }, sealContexts.certificateAuthority()),
    ).toContain('PRIVATE KEY');
    const accessKey = await db.accessKey.findFirstOrThrow();
    expect(
      `${accessKey.id}:${onlyK2.open({ keyId: accessKey.sealKeyId, sealed: accessKey.sealedSecret }, sealContexts.accessKey(accessKey.id))}`,
    ).toBe(gw.adminToken);

    // Sealing again is not a change of the secret.
    const after = (await gw.http.get('/v1/clusters/default/secrets/db-password').expect(200)).body.secret;
    expect(after.updatedAt).toBe(before.updatedAt);
  });
});
