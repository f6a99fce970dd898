import { randomBytes } from 'node:crypto';
import { CredentialCipher } from './credential-cipher.js';

const key = randomBytes(32).toString('base64');

describe('CredentialCipher', () => {
  it('opens what it sealed, and the sealed bytes do not contain the secret', () => {
    const cipher = CredentialCipher.fromBase64(key);
    const sealed = cipher.seal('s3cret-password', 'cluster/registry');
    expect(sealed.toString('utf8')).not.toContain('s3cret-password');
    expect(cipher.open(sealed, 'cluster/registry')).toBe('s3cret-password');
  });

  it('refuses a value moved to another cluster or registry', () => {
    const cipher = CredentialCipher.fromBase64(key);
    const sealed = cipher.seal('pw', 'cluster-a/registry');
    expect(() => cipher.open(sealed, 'cluster-b/registry')).toThrow();
  });

  it('refuses a value sealed under another key', () => {
    const sealed = CredentialCipher.fromBase64(key).seal('pw', 'c/r');
    const other = CredentialCipher.fromBase64(randomBytes(32).toString('base64'));
    expect(() => other.open(sealed, 'c/r')).toThrow();
  });

  it('refuses a key of the wrong length, saying which variable', () => {
    expect(() => CredentialCipher.fromBase64(randomBytes(16).toString('base64'))).toThrow(
      /BERTH_CREDENTIALS_KEY: must be 32 bytes/,
    );
  });
});
