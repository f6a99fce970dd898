import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import {
  checkSigV4Scope,
  formatAmzDate,
  parseAmzDate,
  parseSigV4Authorization,
  verifySigV4Signature,
  type SigV4Authorization,
} from './sigv4.js';

const SIG = 'a'.repeat(64);
const header = (credential: string, signedHeaders = 'host;x-amz-date', signature = SIG) =>
  `AWS4-HMAC-SHA256 Credential=${credential}, SignedHeaders=${signedHeaders}, Signature=${signature}`;

describe('parseSigV4Authorization', () => {
  it('reads the credential scope, the signed headers and the signature', () => {
    expect(parseSigV4Authorization(header('BKIAAAAAAAAAAAAAAAAA/20261127/local/ecs/aws4_request'))).toEqual({
      accessKeyId: 'BKIAAAAAAAAAAAAAAAAA',
      date: '20261127',
      region: 'local',
      service: 'ecs',
      signedHeaders: ['host', 'x-amz-date'],
      signature: SIG,
    });
  });

  it.each([
    ['another scheme', 'AWS4-HMAC-SHA512 Credential=a/b/c/d/aws4_request', /Unsupported Authorization Type/],
    [
      'no parameters',
      'AWS4-HMAC-SHA256 ',
      /requires 'Credential' parameter.*requires 'SignedHeaders'.*requires 'Signature'/,
    ],
    [
      'no signature',
      'AWS4-HMAC-SHA256 Credential=a/b/c/d/aws4_request, SignedHeaders=host',
      /requires 'Signature'/,
    ],
    ['a short scope', header('AKID/20261127/local/aws4_request'), /Credential should be scoped/],
    [
      'a scope not ending in aws4_request',
      header('AKID/20261127/local/ecs/aws4'),
      /Credential should be scoped/,
    ],
    ['an empty scope part', header('AKID//local/ecs/aws4_request'), /Credential should be scoped/],
    [
      'upper-case signed headers',
      header('AKID/20261127/local/ecs/aws4_request', 'Host;x-amz-date'),
      /SignedHeaders/,
    ],
    ['a short signature', header('AKID/20261127/local/ecs/aws4_request', 'host', 'abc'), /64 lower-case hex/],
  ])('refuses %s with IncompleteSignatureException', (_what, value, message) => {
    expect(() => parseSigV4Authorization(value)).toThrow(
      expect.objectContaining({
        exception: 'IncompleteSignatureException',
        message: expect.stringMatching(message),
      }),
    );
  });
});

describe('parseAmzDate', () => {
  it.each([
    ['20261127T211500Z', '2026-11-27T21:15:00.000Z'],
    ['20261327T211500Z', undefined],
    ['20261127T256000Z', undefined],
    ['2026-11-27T21:15:00Z', undefined],
    ['', undefined],
  ])('%s → %s', (value, iso) => {
    expect(parseAmzDate(value)?.toISOString()).toBe(iso);
  });

  it('formats back', () =>
    expect(formatAmzDate(new Date('2026-11-27T21:15:00.123Z'))).toBe('20261127T211500Z'));
});

describe('checkSigV4Scope', () => {
  const now = new Date('2026-11-27T21:15:00Z');
  const expected = { region: 'local', service: 'ecs' };
  const auth = (over: Partial<SigV4Authorization> = {}): SigV4Authorization => ({
    accessKeyId: 'AKID',
    date: '20261127',
    region: 'local',
    service: 'ecs',
    signedHeaders: ['content-type', 'host', 'x-amz-date'],
    signature: SIG,
    ...over,
  });

  it.each([
    ['now', '20261127T211500Z'],
    ['15 minutes ago', '20261127T210000Z'],
    ['15 minutes ahead', '20261127T213000Z'],
  ])('accepts a request signed %s', (_what, amzDate) => {
    expect(checkSigV4Scope(auth(), amzDate, expected, now)).toEqual(parseAmzDate(amzDate));
  });

  it.each([
    ['no X-Amz-Date', auth(), undefined, 'IncompleteSignatureException', /X-Amz-Date/],
    [
      'X-Amz-Date not signed',
      auth({ signedHeaders: ['host'] }),
      '20261127T211500Z',
      'IncompleteSignatureException',
      /X-Amz-Date/,
    ],
    [
      'Host not signed',
      auth({ signedHeaders: ['x-amz-date'] }),
      '20261127T211500Z',
      'IncompleteSignatureException',
      /'Host' must be a 'SignedHeader'/,
    ],
    ['a malformed date', auth(), '2026-11-27', 'IncompleteSignatureException', /ISO8601 basic format/],
    [
      'another service',
      auth({ service: 'ec2' }),
      '20261127T211500Z',
      'InvalidSignatureException',
      /correct service: 'ecs'/,
    ],
    [
      'another region',
      auth({ region: 'us-east-1' }),
      '20261127T211500Z',
      'InvalidSignatureException',
      /valid region, not 'us-east-1'/,
    ],
    [
      'a scope of another day',
      auth({ date: '20261126' }),
      '20261127T211500Z',
      'InvalidSignatureException',
      /'20261126' != '20261127'/,
    ],
    [
      'a date 16 minutes old',
      auth(),
      '20261127T205900Z',
      'InvalidSignatureException',
      /^Signature expired: 20261127T205900Z is now earlier than 20261127T210000Z \(20261127T211500Z - 15 min\.\)$/,
    ],
    [
      'a date 16 minutes ahead',
      auth(),
      '20261127T213100Z',
      'InvalidSignatureException',
      /^Signature not yet current: 20261127T213100Z is still later than 20261127T213000Z \(20261127T211500Z \+ 15 min\.\)$/,
    ],
  ])('refuses %s', (_what, a, amzDate, exception, message) => {
    expect(() => checkSigV4Scope(a, amzDate, expected, now)).toThrow(
      expect.objectContaining({ exception, message: expect.stringMatching(message) }),
    );
  });
});

describe('verifySigV4Signature', () => {
  const key = { accessKeyId: 'BKIAAAAAAAAAAAAAAAAA', secretAccessKey: 's'.repeat(40) };
  const signingDate = new Date('2026-11-27T21:15:00Z');

  async function signedRequest(body: string, extraHeaders: Record<string, string> = {}) {
    const signer = new SignatureV4({
      service: 'ecs',
      region: 'local',
      credentials: key,
      sha256: Hash.bind(null, 'sha256'),
    });
    const out = await signer.sign(
      new HttpRequest({
        method: 'POST',
        hostname: '127.0.0.1',
        path: '/',
        headers: { host: '127.0.0.1:8080', 'content-type': 'application/x-amz-json-1.1', ...extraHeaders },
        body,
      }),
      { signingDate },
    );
    const headers = Object.fromEntries(Object.entries(out.headers).map(([k, v]) => [k.toLowerCase(), v]));
    return { headers, auth: parseSigV4Authorization(headers.authorization!) };
  }

  it('accepts what the SDK signer signed, with unsigned headers added on the way', async () => {
    const { headers, auth } = await signedRequest('{"cluster":"prod"}');
    const req = {
      method: 'POST',
      url: '/',
      headers: { ...headers, 'user-agent': 'curl' },
      body: Buffer.from('{"cluster":"prod"}'),
    };
    await expect(verifySigV4Signature(req, auth, signingDate, key.secretAccessKey)).resolves.toBeUndefined();
  });

  it.each([
    ['another body', { body: '{"cluster":"dev"}' }],
    ['another method', { method: 'PUT' }],
    ['another path', { url: '/v1' }],
    ['another signed header value', { headers: { 'content-type': 'application/json' } }],
    ['another secret', { secret: 'x'.repeat(40) }],
  ])(
    'refuses %s',
    async (
      _what,
      change: {
        body?: string;
        method?: string;
        url?: string;
        headers?: Record<string, string>;
        secret?: string;
      },
    ) => {
      const { headers, auth } = await signedRequest('{"cluster":"prod"}');
      const req = {
        method: change.method ?? 'POST',
        url: change.url ?? '/',
        headers: { ...headers, ...change.headers },
        body: Buffer.from(change.body ?? '{"cluster":"prod"}'),
      };
      await expect(
        verifySigV4Signature(req, auth, signingDate, change.secret ?? key.secretAccessKey),
      ).rejects.toMatchObject({
        exception: 'InvalidSignatureException',
      });
    },
  );

  it('refuses a signed header that is missing from the request', async () => {
    const { headers, auth } = await signedRequest('{}');
    delete headers['content-type'];
    await expect(
      verifySigV4Signature(
        { method: 'POST', url: '/', headers, body: Buffer.from('{}') },
        auth,
        signingDate,
        key.secretAccessKey,
      ),
    ).rejects.toMatchObject({
      exception: 'InvalidSignatureException',
      message: expect.stringContaining("'content-type'"),
    });
  });
});
