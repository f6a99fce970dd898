import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const VERSION = 2;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID = /^[A-Za-z0-9_.-]{1,32}$/;

/** A value sealed under one master key: the key's id is kept beside it, so keys can rotate. */
export interface Sealed {
  keyId: string;
  sealed: Uint8Array<ArrayBuffer>;
}

/**
 * The master keys of the control plane (BERTH_MASTER_KEYS, newest first). Values are sealed with
 * AES-256-GCM under the newest key; any listed key opens what it sealed, so an operator adds a new
 * key in front, re-seals (`berth-admin reseal`), then drops the old one. The associated data binds
 * each sealed value to the row it belongs to, so a value copied onto another row does not open.
 * Layout: version (1 byte) | IV (12) | auth tag (16) | ciphertext.
 */
export class KeyRing {
  private constructor(private readonly keys: ReadonlyMap<string, Buffer>) {}

  /** `newest-id:base64key,older-id:base64key`; each key is 32 random bytes (`openssl rand -base64 32`). */
  static parse(spec: string): KeyRing {
    const keys = new Map<string, Buffer>();
    for (const [i, entry] of spec.split(',').entries()) {
      const sep = entry.indexOf(':');
      const id = entry.slice(0, sep).trim();
      if (sep < 0 || !KEY_ID.test(id))
        throw new Error(
          `BERTH_MASTER_KEYS: entry ${i + 1} must be <key id>:<base64 key>, the id 1-32 of A-Z a-z 0-9 _ . -`,
        );
      const bytes = Buffer.from(entry.slice(sep + 1).trim(), 'base64');
      if (bytes.length !== 32)
        throw new Error(`BERTH_MASTER_KEYS: key ${id} must be 32 bytes in base64, got ${bytes.length} bytes`);
      if (keys.has(id)) throw new Error(`BERTH_MASTER_KEYS: key id ${id} is listed twice`);
      keys.set(id, bytes);
    }
    return new KeyRing(keys);
  }

  /** The key that seals new values. */
  get currentKeyId(): string {
    return this.keys.keys().next().value!;
  }

  seal(plaintext: string, context: string): Sealed {
    const keyId = this.currentKeyId;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(keyId)!, iv);
    cipher.setAAD(Buffer.from(context));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    // Prisma's Bytes type is a Uint8Array over a plain ArrayBuffer.
    const sealed = new Uint8Array(Buffer.concat([Buffer.from([VERSION]), iv, cipher.getAuthTag(), body]));
    return { keyId, sealed };
  }

  /** Throws when the key is unknown or wrong, or the value was tampered with or moved to another row. */
  open(value: { keyId: string; sealed: Uint8Array }, context: string): string {
    const key = this.keys.get(value.keyId);
    if (!key)
      throw new Error(
        `sealed with master key ${JSON.stringify(value.keyId)}, which BERTH_MASTER_KEYS does not list`,
      );
    const buf = Buffer.from(value.sealed);
    if (buf[0] !== VERSION) throw new Error(`unknown sealed value version ${buf[0]}`);
    const iv = buf.subarray(1, 1 + IV_BYTES);
    const tag = buf.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(tag);
    return Buffer.concat([
      decipher.update(buf.subarray(1 + IV_BYTES + TAG_BYTES)),
      decipher.final(),
    ]).toString('utf8');
  }
}

/** Injection token for the gateway's KeyRing. */
export const KEY_RING = Symbol('KeyRing');
