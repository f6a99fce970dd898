import { randomUUID } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import pg from 'pg';
import { AgentServiceClient, type ControlMessage, type JoinResponse } from '@berth/proto';
import { keyAndCsr, startLocalCluster, waitFor, type LocalCluster } from '@berth/testing';
import { api } from './api.js';

/**
 * Agent identity end to end: the gateway speaks only TLS, lets an agent in only with a certificate
 * from the cluster CA, and only as the instance that certificate names. Fake agents below use the
 * generated gRPC client directly; the real agent must keep its stream through all of it.
 */

const CERT_TTL_SECONDS = 30;
let cluster: LocalCluster;
let client: ReturnType<typeof api>;
let caPem: string;
let realId: string;

beforeAll(async () => {
  cluster = await startLocalCluster({
    agents: [{ hostAddress: '127.0.0.7', cpu: 1024, memory: 512 }],
    // Short certificates, so renewal happens within the test.
    env: { BERTH_AGENT_CERT_TTL_SECONDS: String(CERT_TTL_SECONDS) },
  });
  client = api(cluster);
  caPem = await readFile(join(cluster.agents[0]!.dataDir, 'ca.pem'), 'utf8');
  realId = (await readFile(join(cluster.agents[0]!.dataDir, 'instance-id'), 'utf8')).trim();
}, 60_000);

afterAll(async () => {
  if (process.env.BERTH_E2E_LOGS)
    for (const [name, lines] of cluster.logs) console.log(name, lines.join('\n'));
  await cluster?.stop();
});

const fake = (creds?: { keyPem: string; certificatePem: string }) =>
  new AgentServiceClient(
    cluster.grpcAddress,
    grpc.credentials.createSsl(
      Buffer.from(caPem),
      creds ? Buffer.from(creds.keyPem) : null,
      creds ? Buffer.from(creds.certificatePem) : null,
    ),
  );

const join_ = (c: AgentServiceClient, req: Parameters<AgentServiceClient['join']>[0]) =>
  new Promise<JoinResponse>((resolve, reject) =>
    c.join(req, (err, res) => (err ? reject(err) : resolve(res))),
  );

const newToken = async (body: Record<string, unknown> = { ttlSeconds: 600 }) => {
  const res = await client.call<{ joinToken: { token: string; tokenId: string } }>(
    'POST',
    '/v1/clusters/default/join-tokens',
    body,
  );
  expect(res.status).toBe(200);
  return res.body.joinToken;
};

/** Joins as a new instance with a fresh token: a valid certificate for that instance. */
async function joinAs(id: string) {
  const { keyPem, csrPem } = await keyAndCsr('fake');
  const c = fake();
  const res = await join_(c, {
    cluster: 'default',
    containerInstanceId: id,
    csrPem,
    joinToken: (await newToken()).token,
  }).finally(() => c.close());
  return { keyPem, certificatePem: res.certificatePem };
}

/** Opens a stream, registers as `id`, and collects what comes back until the stream ends. */
async function connectAs(c: AgentServiceClient, id: string) {
  const call = c.connect();
  const received: ControlMessage[] = [];
  call.on('data', (m: ControlMessage) => received.push(m));
  const ended = new Promise<grpc.ServiceError | undefined>((resolve) => {
    call.on('error', (err: grpc.ServiceError) => resolve(err));
    call.on('end', () => resolve(undefined));
  });
  call.write({
    payload: {
      $case: 'register',
      value: {
        cluster: 'default',
        containerInstanceId: id,
        resources: { cpu: 512, memory: 256 },
        hostAddress: '127.0.0.8',
        attributes: {},
        agentVersion: 'fake',
        tasks: [],
      },
    },
  });
  return { call, received, ended };
}

const code = async (p: Promise<unknown>) =>
  p.then(
    () => 'OK',
    (err: grpc.ServiceError) => grpc.status[err.code],
  );
const realConnected = async () =>
  (await client.instances()).find((i) => i.containerInstanceArn.endsWith(realId))?.agentConnected;
const registrations = () =>
  (cluster.logs.get('api-gateway') ?? []).filter((l) => l.includes('agent registered') && l.includes(realId))
    .length;

test('a stream without a client certificate gets nothing, not even the cluster', async () => {
  const c = fake();
  const { received, ended } = await connectAs(c, realId);
  const err = await ended;
  expect(err?.code).toBe(grpc.status.UNAUTHENTICATED);
  expect(received).toEqual([]);
  c.close();
  expect(await realConnected()).toBe(true);
});

test('a wrong, expired or used-up join token gets no certificate', async () => {
  const { csrPem } = await keyAndCsr('fake');
  const c = fake();
  const req = { cluster: 'default', containerInstanceId: randomUUID(), csrPem };
  const good = await newToken({ ttlSeconds: 600, maxUses: 1 });
  const [prefix, id, , hash] = good.token.split('.');
  expect(await code(join_(c, { ...req, joinToken: `${prefix}.${id}.${'0'.repeat(32)}.${hash}` }))).toBe(
    'UNAUTHENTICATED',
  );
  expect(await code(join_(c, { ...req, joinToken: 'berth1.nope' }))).toBe('UNAUTHENTICATED');
  expect(await code(join_(c, { ...req, joinToken: good.token }))).toBe('OK');
  expect(await code(join_(c, { ...req, containerInstanceId: randomUUID(), joinToken: good.token }))).toBe(
    'UNAUTHENTICATED',
  );

  const expired = await newToken();
  const sql = new pg.Client({ connectionString: cluster.db.url });
  await sql.connect();
  await sql.query(`UPDATE join_token SET expires_at = now() - interval '1 second' WHERE id = $1`, [
    expired.tokenId,
  ]);
  await sql.end();
  expect(await code(join_(c, { ...req, containerInstanceId: randomUUID(), joinToken: expired.token }))).toBe(
    'UNAUTHENTICATED',
  );
  // A token never takes over an instance that exists.
  expect(
    await code(join_(c, { ...req, containerInstanceId: realId, joinToken: (await newToken()).token })),
  ).toBe('ALREADY_EXISTS');
  c.close();
});

test('a certificate for another instance cannot register as the real one, and is audited', async () => {
  const before = registrations();
  const c = fake(await joinAs(randomUUID()));
  const { received, ended } = await connectAs(c, realId);
  const err = await ended;
  expect(err?.code).toBe(grpc.status.PERMISSION_DENIED);
  expect(err?.details).toMatch(/^containerInstanceId: the certificate is for instance /);
  expect(received).toEqual([]);
  c.close();
  // Renewal cannot be stolen either.
  const { csrPem } = await keyAndCsr('fake');
  const again = fake(await joinAs(randomUUID()));
  expect(
    await code(join_(again, { cluster: 'default', containerInstanceId: realId, csrPem, joinToken: '' })),
  ).toBe('PERMISSION_DENIED');
  again.close();

  expect(await realConnected()).toBe(true);
  expect(registrations()).toBe(before);
  const audit = await client.call<{ auditEvents: { action: string; outcome: string; resource: string }[] }>(
    'GET',
    '/v1/audit-events?action=berth:AgentConnect&outcome=Denied',
  );
  expect(audit.body.auditEvents.some((e) => e.resource.endsWith(realId))).toBe(true);
});

test('a deregistered instance cannot reconnect or renew', async () => {
  const id = randomUUID();
  const creds = await joinAs(id);
  const c = fake(creds);
  const first = await connectAs(c, id);
  await waitFor('the fake instance to register', async () =>
    first.received.some((m) => m.payload?.$case === 'registered') ? true : undefined,
  );
  first.call.end();
  await first.ended;
  await waitFor('the fake instance to be disconnected', async () =>
    (await client.instances()).find((i) => i.containerInstanceArn.endsWith(id))?.agentConnected === false
      ? true
      : undefined,
  );
  expect((await client.call('DELETE', `/v1/clusters/default/container-instances/${id}`)).status).toBe(200);

  const second = await connectAs(c, id);
  await second.ended;
  expect(second.received.map((m) => m.payload?.$case)).toEqual(['registerRejected']);
  const { csrPem } = await keyAndCsr('fake');
  expect(await code(join_(c, { cluster: 'default', containerInstanceId: id, csrPem, joinToken: '' }))).toBe(
    'PERMISSION_DENIED',
  );
  c.close();
});

test('the real agent renews its certificate on its stream, without reconnecting', async () => {
  const certFile = join(cluster.agents[0]!.dataDir, 'agent-cert.pem');
  const before = registrations();
  const firstCert = await readFile(certFile, 'utf8');
  await waitFor(
    'the agent to renew its certificate',
    async () => ((await readFile(certFile, 'utf8')) !== firstCert ? true : undefined),
    { timeoutMs: CERT_TTL_SECONDS * 1000 },
  );
  expect((await stat(certFile)).mode & 0o777).toBe(0o600);
  expect(await realConnected()).toBe(true);
  expect(registrations()).toBe(before);
  // Restarted, it reuses the renewed certificate: no second join.
  await cluster.killAgent(0);
  cluster.startAgent(0);
  await waitFor('the restarted agent to register', async () => (registrations() > before ? true : undefined));
  const agentLog = (cluster.logs.get('agent-1') ?? []).join('\n');
  expect(agentLog.match(/joined the cluster/g)).toHaveLength(1);
  expect(agentLog).toContain('certificate renewed');
}, 60_000);
