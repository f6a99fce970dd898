import { randomBytes } from 'node:crypto';
import { KeyRing } from './key-ring.js';

const key = () => randomBytes(32).toString('base64');

describe('KeyRing', () => {
  it('opens what it sealed, and the sealed bytes do not contain the secret', () => {
    const ring = KeyRing.parse(`k1:${key()}`);
    const value = ring.seal('s3cret-password', 'cluster/registry');
    expect(value.keyId).toBe('k1');
    expect(Buffer.from(value.sealed).toString('utf8')).not.toContain('s3cret-password');
    expect(ring.open(value, 'cluster/registry')).toBe('s3cret-password');
  });

  it('refuses a value moved to another row', () => {
    const ring = KeyRing.parse(`k1:${key()}`);
    expect(() => ring.open(ring.seal('pw', 'cluster-a/registry'), 'cluster-b/registry')).toThrow();
  });

  it('seals with the newest key and still opens values sealed with an older one', () => {
    const k1 = key();
    const old = KeyRing.parse(`k1:${k1}`).seal('pw', 'c/r');
    const rotated = KeyRing.parse(`k2:${key()},k1:${k1}`);
    expect(rotated.currentKeyId).toBe('k2');
    expect(rotated.open(old, 'c/r')).toBe('pw');
    expect(rotated.seal('pw', 'c/r').keyId).toBe('k2');
  });

  it('refuses a value whose key is no longer listed, or listed under another key', () => {
    const sealed = KeyRing.parse(`k1:${key()}`).seal('pw', 'c/r');
    expect(() => KeyRing.parse(`k2:${key()}`).open(sealed, 'c/r')).toThrow(/does not list/);
    expect(() => KeyRing.parse(`k1:${key()}`).open(sealed, 'c/r')).toThrow();
  });

  it('refuses a malformed list, saying which entry and which rule', () => {
    expect(() => KeyRing.parse(`k1:${randomBytes(16).toString('base64')}`)).toThrow(
      /key k1 must be 32 bytes/,
    );
    expect(() => KeyRing.parse(key())).toThrow(/entry 1 must be <key id>:<base64 key>/);
    const k = key();
    expect(() => KeyRing.parse(`a:${k},a:${k}`)).toThrow(/listed twice/);
  });
});
