// @peculiar/x509 resolves its ASN.1 codecs through tsyringe, which needs the Reflect polyfill.
import 'reflect-metadata';
import { createHash, webcrypto, X509Certificate } from 'node:crypto';
import { chmod, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isIP } from 'node:net';
import * as tls from 'node:tls';
import * as x509 from '@peculiar/x509';
import { ConfigError } from '@berth/config';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const PROBE_TIMEOUT_MS = 5_000;

/** What the agent authenticates with: its key (made here, never sent), its certificate and the CA. */
export interface Credentials {
  keyPem: string;
  certificatePem: string;
  caPem: string;
  /** When the certificate arrived (its file's time after a restart): renewal is timed from it. */
  receivedAt: Date;
}

export const validityOf = (certificatePem: string) => {
  const cert = new X509Certificate(certificatePem);
  return { notBefore: new Date(cert.validFrom), notAfter: new Date(cert.validTo) };
};

const FILES = { keyPem: 'agent-key.pem', certificatePem: 'agent-cert.pem', caPem: 'ca.pem' } as const;

/** The credentials kept in the data dir, or undefined when there are none yet. */
export async function loadCredentials(dataDir: string): Promise<Credentials | undefined> {
  try {
    const [keyPem, certificatePem, caPem] = await Promise.all(
      Object.values(FILES).map((name) => readFile(join(dataDir, name), 'utf8')),
    );
    const receivedAt = (await stat(join(dataDir, FILES.certificatePem))).mtime;
    return { keyPem: keyPem!, certificatePem: certificatePem!, caPem: caPem!, receivedAt };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Each file is written then renamed, mode 0600: a crash never leaves half a key behind. */
export async function saveCredentials(dataDir: string, creds: Credentials): Promise<void> {
  await mkdir(dataDir, { recursive: true });
  for (const [field, name] of Object.entries(FILES)) {
    const file = join(dataDir, name);
    await writeFile(`${file}.tmp`, creds[field as keyof typeof FILES], { mode: 0o600 });
    await chmod(`${file}.tmp`, 0o600);
    await rename(`${file}.tmp`, file);
  }
}

/** A fresh key pair and a CSR for it; the CSR carries no identity, the gateway decides that. */
export async function newKeyAndCsr(): Promise<{ keyPem: string; csrPem: string }> {
  const keys = await webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify']);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: 'CN=berth-agent',
    keys,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { keyPem: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY'), csrPem: csr.toString('pem') };
}

/** host:port of each gateway replica in a gRPC target (`ipv4:a:1,b:2` or `name:port`). */
export function gatewayAddresses(target: string): { host: string; port: number }[] {
  const list = target.startsWith('ipv4:') ? target.slice(5).split(',') : [target];
  return list.map((address) => {
    const colon = address.lastIndexOf(':');
    return { host: address.slice(0, colon), port: Number(address.slice(colon + 1)) };
  });
}

/**
 * The cluster CA, as the gateway presents it in its chain, accepted only if its SHA-256 is the
 * hash the join token carries (kubeadm's discovery hash): before that the gateway is a stranger.
 * From then on TLS checks the gateway against this CA and the names it is reached at.
 */
export async function discoverCa(target: string, caHash: string): Promise<string> {
  const addresses = gatewayAddresses(target);
  const problems: string[] = [];
  let strangers = 0;
  for (const { host, port } of addresses) {
    try {
      return await probe(host, port, caHash);
    } catch (err) {
      if (err instanceof StrangerError) strangers++;
      problems.push(`${host}:${port}: ${(err as Error).message}`);
    }
  }
  const text = `no gateway presented the CA of the join token: ${problems.join('; ')}`;
  // Every gateway answered with another CA: asking again will not change that.
  if (strangers === addresses.length) throw new ConfigError(text);
  throw new Error(text);
}

class StrangerError extends Error {}

function probe(host: string, port: number, caHash: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host,
      port,
      // Not trusted yet: the chain is only read, and matched against the token's hash below.
      rejectUnauthorized: false,
      // SNI takes names only.
      servername: isIP(host) ? '' : host,
      ALPNProtocols: ['h2'],
      timeout: PROBE_TIMEOUT_MS,
    });
    const done = (err: Error | undefined, pem?: string) => {
      socket.destroy();
      if (err) reject(err);
      else resolve(pem!);
    };
    socket.once('secureConnect', () => {
      const seen = new Set<string>();
      for (let cert = socket.getPeerCertificate(true); cert?.raw; cert = cert.issuerCertificate) {
        const hash = createHash('sha256').update(cert.raw).digest('hex');
        if (hash === caHash) return done(undefined, new X509Certificate(cert.raw).toString());
        if (seen.has(hash)) break;
        seen.add(hash);
      }
      done(new StrangerError('its certificate chain holds no CA with the join token hash'));
    });
    socket.once('timeout', () => done(new Error('no TLS answer in time')));
    socket.once('error', (err) => done(err));
  });
}
