// @peculiar/x509 resolves its ASN.1 codecs through tsyringe, which needs the Reflect polyfill.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import * as x509 from '@peculiar/x509';
import { createLogger } from '@berth/config';
import { ControlPlaneConnection } from './connection.js';
import type { AgentConfig } from './config.js';
import type { SessionServer } from './sessions.js';
import type { TaskEngine } from './task-engine.js';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

/** A self-signed certificate, standing in for both the cluster CA and the agent's own. */
async function selfSigned() {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: 'CN=test',
    keys,
    signingAlgorithm: alg,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 3_600_000),
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { keyPem: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY'), certificatePem: cert.toString('pem') };
}

/**
 * A gateway address that takes TCP connections and never answers on them: what a dial begun
 * during a network outage looks like to the agent (its handshake never completes).
 */
async function silentGateway() {
  const sockets: Socket[] = [];
  const server = createServer((socket) => sockets.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    sockets,
    stop: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

it('abandons a dial that does not reach the gateway and dials again on a new connection', async () => {
  const gateway = await silentGateway();
  const { keyPem, certificatePem } = await selfSigned();
  const connection = new ControlPlaneConnection(
    {
      gateway: gateway.address,
      cluster: 'default',
      cpu: 1024,
      memory: 1024,
      hostAddress: '127.0.0.2',
      attributes: {},
    } as unknown as AgentConfig,
    'instance-1',
    () => ({ reports: () => [], runningCount: () => 0 }) as unknown as TaskEngine,
    createLogger('t', 'silent'),
    { keyPem, certificatePem, caPem: certificatePem, receivedAt: new Date() },
    {} as SessionServer,
    300,
  );
  try {
    connection.start();
    // Without a dial timeout the agent would wait on the first handshake for ever. (grpc-js drops
    // the abandoned attempt only when its handshake ends, so it is not closed here.)
    const deadline = Date.now() + 4_000;
    while (gateway.sockets.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(gateway.sockets.length).toBeGreaterThanOrEqual(2);
    expect(connection.registered).toBe(false);
  } finally {
    connection.close();
    await gateway.stop();
  }
});
