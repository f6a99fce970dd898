import { createHash, randomBytes, webcrypto } from 'node:crypto';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import * as x509 from '@peculiar/x509';
import { agentIdentityUri, InvalidParameterError, type AgentIdentity } from '@berth/domain';
import { KEY_RING, type KeyRing } from '../crypto/key-ring.js';
import { sealContexts } from '../crypto/seal-contexts.js';
import { LOGGER, PRISMA, type Logger, type PrismaClient } from '../infra/providers.js';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

/** ECDSA P-256 with SHA-256: small keys, fast signatures, and every TLS stack speaks it. */
const KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const;
const CA_LIFETIME_MS = 10 * 365 * 24 * 3600 * 1000;
/** Issued certificates start a little in the past: clocks of hosts and gateways differ by a bit. */
const BACKDATE_MS = 5 * 60 * 1000;

const serial = () => {
  // Positive 16-byte serial: the top bit clear, as DER integers are signed.
  const bytes = randomBytes(16);
  bytes[0]! &= 0x7f;
  return bytes.toString('hex');
};

export interface IssuedCertificate {
  certificatePem: string;
  serial: string;
  notBefore: Date;
  notAfter: Date;
}

/**
 * The cluster certificate authority: one for the whole control plane, in one row. The first
 * gateway replica to start creates it (insert-if-absent, so two replicas starting together agree
 * on one), every replica opens the same sealed key, and it signs agent and gateway certificates.
 */
@Injectable()
export class CertificateAuthority implements OnModuleInit {
  private cert?: x509.X509Certificate;
  private key?: webcrypto.CryptoKey;
  /** SHA-256 of the CA certificate's DER, lowercase hex: what join tokens carry. */
  hash = '';
  certificatePem = '';

  constructor(
    @Inject(PRISMA) private readonly db: PrismaClient,
    @Inject(KEY_RING) private readonly keys: KeyRing,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onModuleInit(): Promise<void> {
    let row = await this.db.certificateAuthority.findUnique({ where: { id: 1 } });
    if (!row) {
      const created = await this.create();
      await this.db.$executeRaw`
        INSERT INTO certificate_authority (id, certificate_pem, sealed_key, seal_key_id)
        VALUES (1, ${created.certificatePem}, ${created.sealed.sealed}, ${created.sealed.keyId})
        ON CONFLICT (id) DO NOTHING`;
      row = await this.db.certificateAuthority.findUniqueOrThrow({ where: { id: 1 } });
      if (row.certificatePem === created.certificatePem) this.logger.info('created the cluster CA');
    }
    const keyPem = this.keys.open(
      { keyId: row.sealKeyId, sealed: row.sealedKey },
      sealContexts.certificateAuthority(),
    );
    this.cert = new x509.X509Certificate(row.certificatePem);
    this.key = await webcrypto.subtle.importKey(
      'pkcs8',
      x509.PemConverter.decodeFirst(keyPem),
      KEY_ALGORITHM,
      false,
      ['sign'],
    );
    this.certificatePem = row.certificatePem;
    this.hash = createHash('sha256').update(Buffer.from(this.cert.rawData)).digest('hex');
  }

  private async create(): Promise<{ certificatePem: string; sealed: ReturnType<KeyRing['seal']> }> {
    const keys = await webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify']);
    const now = Date.now();
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: serial(),
      name: 'CN=Berth cluster CA',
      notBefore: new Date(now - BACKDATE_MS),
      notAfter: new Date(now + CA_LIFETIME_MS),
      signingAlgorithm: SIGNING,
      keys,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
    const keyPem = x509.PemConverter.encode(pkcs8, 'PRIVATE KEY');
    return {
      certificatePem: cert.toString('pem'),
      sealed: this.keys.seal(keyPem, sealContexts.certificateAuthority()),
    };
  }

  /**
   * Signs an agent's CSR (whose key never left its host) for `identity`, whatever names the CSR
   * asks for: the identity comes from the join token or the current certificate, not the CSR.
   */
  async issueAgentCertificate(
    csrPem: string,
    identity: AgentIdentity,
    lifetimeMs: number,
    now = new Date(),
  ): Promise<IssuedCertificate> {
    let csr: x509.Pkcs10CertificateRequest;
    try {
      csr = new x509.Pkcs10CertificateRequest(csrPem);
    } catch {
      throw new InvalidParameterError('csr: must be a PEM PKCS#10 certificate request', 'csr');
    }
    if (!(await csr.verify()))
      throw new InvalidParameterError('csr: its signature does not verify with its public key', 'csr');
    return this.sign({
      subject: `CN=${identity.containerInstanceId}, O=${identity.cluster}`,
      publicKey: csr.publicKey,
      names: [{ type: 'url', value: agentIdentityUri(identity) }],
      usage: x509.ExtendedKeyUsage.clientAuth,
      lifetimeMs,
      now,
    });
  }

  /**
   * A key and certificate for this gateway's TLS listener, for the names and addresses the operator
   * configured. Made at each start, kept in memory only: every replica makes its own.
   */
  async issueServerCertificate(
    names: readonly string[],
    lifetimeMs: number,
  ): Promise<IssuedCertificate & { keyPem: string }> {
    const keys = await webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify']);
    const issued = await this.sign({
      subject: 'CN=Berth gateway',
      publicKey: keys.publicKey,
      names: names.map((value) => ({ type: /^[\d.]+$|:/.test(value) ? 'ip' : 'dns', value })),
      usage: x509.ExtendedKeyUsage.serverAuth,
      lifetimeMs,
      now: new Date(),
    });
    const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
    return { ...issued, keyPem: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY') };
  }

  private async sign(params: {
    subject: string;
    publicKey: x509.PublicKey | webcrypto.CryptoKey;
    names: x509.JsonGeneralName[];
    usage: x509.ExtendedKeyUsageType;
    lifetimeMs: number;
    now: Date;
  }): Promise<IssuedCertificate> {
    if (!this.cert || !this.key) throw new Error('the cluster CA is not loaded yet');
    const notBefore = new Date(params.now.getTime() - BACKDATE_MS);
    const notAfter = new Date(params.now.getTime() + params.lifetimeMs);
    const serialNumber = serial();
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber,
      subject: params.subject,
      issuer: this.cert.subject,
      notBefore,
      notAfter,
      signingAlgorithm: SIGNING,
      publicKey: params.publicKey,
      signingKey: this.key,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([params.usage], false),
        new x509.SubjectAlternativeNameExtension(params.names, false),
        await x509.AuthorityKeyIdentifierExtension.create(this.cert, false),
      ],
    });
    return { certificatePem: cert.toString('pem'), serial: serialNumber, notBefore, notAfter };
  }
}
