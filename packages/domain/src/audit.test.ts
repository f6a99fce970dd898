import { redactParameters, REDACTED } from './audit.js';

describe('redactParameters', () => {
  it('replaces the named fields at any depth and keeps the rest', () => {
    const input = {
      name: 'db',
      value: 's3cret',
      nested: [{ password: 'pw', username: 'u' }, { other: { value: 'also secret' } }],
    };
    expect(redactParameters(input, ['value', 'password'])).toEqual({
      name: 'db',
      value: REDACTED,
      nested: [{ password: REDACTED, username: 'u' }, { other: { value: REDACTED } }],
    });
    expect(input.value).toBe('s3cret');
  });

  it('leaves scalars and missing bodies alone', () => {
    expect(redactParameters(undefined, ['value'])).toBeUndefined();
    expect(redactParameters('text', ['value'])).toBe('text');
  });
});
