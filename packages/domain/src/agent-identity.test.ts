import {
  agentIdentityOf,
  agentIdentityUri,
  formatJoinToken,
  joinTokenRefusal,
  parseJoinToken,
  registerIdentityRefusal,
  renewalDueAt,
  validateCreateJoinToken,
  validateJoinTokenId,
} from './agent-identity.js';

const token = { id: '0123456789abcdef', secret: 'f'.repeat(32), caHash: 'a'.repeat(64) };

describe('join tokens', () => {
  it('round-trips through its text form', () => {
    const text = formatJoinToken(token);
    expect(text).toBe(`berth1.${token.id}.${token.secret}.${token.caHash}`);
    expect(parseJoinToken(` ${text}\n`)).toEqual(token);
  });

  it.each([
    ['berth2.0123456789abcdef.' + 'f'.repeat(32) + '.' + 'a'.repeat(64), /must be berth1/],
    ['berth1.0123456789abcdef.' + 'f'.repeat(32), /must be berth1/],
    ['berth1.0123456789ABCDEF.' + 'f'.repeat(32) + '.' + 'a'.repeat(64), /id must be 16/],
    ['berth1.0123456789abcdef.' + 'f'.repeat(31) + '.' + 'a'.repeat(64), /secret must be 32/],
    ['berth1.0123456789abcdef.' + 'f'.repeat(32) + '.' + 'a'.repeat(63), /CA hash must be 64/],
  ])('refuses %s naming the part', (text, rule) => {
    expect(() => parseJoinToken(text)).toThrow(rule);
  });

  it('never echoes the secret in its errors', () => {
    const secret = 'g'.repeat(32);
    expect(() => parseJoinToken(`berth1.0123456789abcdef.${secret}.${'a'.repeat(64)}`)).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining(secret) as unknown }) as Error,
    );
  });

  it('validates ids and creation input by field', () => {
    expect(validateJoinTokenId('0123456789abcdef')).toBe('0123456789abcdef');
    expect(() => validateJoinTokenId('x')).toThrow(/^tokenId: /);
    expect(validateCreateJoinToken({ ttlSeconds: 3600, maxUses: 2 })).toEqual({
      ttlSeconds: 3600,
      maxUses: 2,
    });
    expect(() => validateCreateJoinToken({})).toThrow(/^ttlSeconds: /);
    expect(() => validateCreateJoinToken({ ttlSeconds: 30 })).toThrow(/^ttlSeconds: must be at least 60/);
    expect(() => validateCreateJoinToken({ ttlSeconds: 60, maxUses: 0 })).toThrow(/^maxUses: /);
    expect(() => validateCreateJoinToken({ ttlSeconds: 60, secret: 'x' })).toThrow(/secret/);
  });

  it('says why a token cannot be used once more', () => {
    const now = new Date('2026-11-27T12:00:00Z');
    const row = { expiresAt: new Date('2026-11-27T13:00:00Z'), revokedAt: null, maxUses: 2, uses: 1 };
    expect(joinTokenRefusal(row, now)).toBeUndefined();
    expect(joinTokenRefusal({ ...row, maxUses: null, uses: 99 }, now)).toBeUndefined();
    expect(joinTokenRefusal({ ...row, uses: 2 }, now)).toMatch(/used up/);
    expect(joinTokenRefusal({ ...row, expiresAt: now }, now)).toMatch(/expired/);
    expect(joinTokenRefusal({ ...row, revokedAt: now }, now)).toMatch(/revoked/);
  });
});

describe('agent identity', () => {
  const id = { cluster: 'prod-1', containerInstanceId: '6f1c2a3b-1111-4222-8333-944455556666' };

  it('round-trips through the certificate URI', () => {
    expect(agentIdentityUri(id)).toBe(`berth://cluster/prod-1/container-instance/${id.containerInstanceId}`);
    expect(agentIdentityOf(['https://example.com', agentIdentityUri(id)])).toEqual(id);
  });

  it('is none when no URI or several URIs name one', () => {
    expect(agentIdentityOf([])).toBeUndefined();
    expect(agentIdentityOf(['berth://cluster/a b/container-instance/x'])).toBeUndefined();
    const other = agentIdentityUri({ ...id, containerInstanceId: '00000000-0000-4000-8000-000000000000' });
    expect(agentIdentityOf([agentIdentityUri(id), other])).toBeUndefined();
  });

  it('refuses a Register for another instance or cluster, naming the field', () => {
    expect(registerIdentityRefusal(id, id)).toBeUndefined();
    expect(registerIdentityRefusal(undefined, id)).toMatch(/names no container instance/);
    expect(registerIdentityRefusal(id, { ...id, cluster: 'other' })).toMatch(/^cluster: /);
    expect(
      registerIdentityRefusal(id, { ...id, containerInstanceId: '00000000-0000-4000-8000-000000000000' }),
    ).toMatch(/^containerInstanceId: /);
  });

  it('renews two thirds of the way from receipt to expiry', () => {
    const receivedAt = new Date('2026-11-01T00:00:00Z');
    const notAfter = new Date('2026-12-01T00:00:00Z');
    expect(renewalDueAt({ receivedAt, notAfter }).toISOString()).toBe('2026-11-21T00:00:00.000Z');
  });
});
