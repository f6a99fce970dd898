import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Seals registry passwords with AES-256-GCM. The associated data binds each sealed value to its
 * cluster and registry, so a sealed password copied onto another row does not open. Layout:
 * version (1 byte) | IV (12) | auth tag (16) | ciphertext.
 */
export class CredentialCipher {
  private constructor(private readonly key: Buffer) {}

  /** From BERTH_CREDENTIALS_KEY: 32 random bytes in base64 (`openssl rand -base64 32`). */
  static fromBase64(key: string): CredentialCipher {
    const bytes = Buffer.from(key, 'base64');
    if (bytes.length !== 32)
      throw new Error(`BERTH_CREDENTIALS_KEY: must be 32 bytes in base64, got ${bytes.length} bytes`);
    return new CredentialCipher(bytes);
  }

  seal(plaintext: string, context: string): Buffer {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(context));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return Buffer.concat([Buffer.from([VERSION]), iv, cipher.getAuthTag(), body]);
  }

  /** Throws when the key is wrong or the value was tampered with or moved to another row. */
  open(sealed: Uint8Array, context: string): string {
    const buf = Buffer.from(sealed);
    if (buf[0] !== VERSION) throw new Error(`unknown sealed credential version ${buf[0]}`);
    const iv = buf.subarray(1, 1 + IV_BYTES);
    const tag = buf.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', this.key, iv);
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(tag);
    return Buffer.concat([
      decipher.update(buf.subarray(1 + IV_BYTES + TAG_BYTES)),
      decipher.final(),
    ]).toString('utf8');
  }
}

/** What a sealed password is bound to. */
export const credentialContext = (clusterId: string, registry: string) => `${clusterId}/${registry}`;

/** Injection token: the cipher, or null when the gateway has no BERTH_CREDENTIALS_KEY. */
export const CREDENTIAL_CIPHER = Symbol('CredentialCipher');
