import { createHash, timingSafeEqual } from 'node:crypto';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { UnauthenticatedError } from '@berth/domain';

/**
 * AWS Signature Version 4 as the ECS endpoint checks it. The header and scope rules are plain
 * functions (table tests in sigv4.test.ts); the signature itself is computed by
 * `@smithy/signature-v4`, the AWS SDKs' own signer, from the request as it was received.
 */

export const SIGV4_ALGORITHM = 'AWS4-HMAC-SHA256';
/** How far a request's X-Amz-Date may be from the server's clock, either way, as in AWS. */
export const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;

export interface SigV4Authorization {
  accessKeyId: string;
  /** The credential scope: `<date>/<region>/<service>/aws4_request`. */
  date: string;
  region: string;
  service: string;
  /** Lower-case header names, as the client listed them. */
  signedHeaders: string[];
  signature: string;
}

const incomplete = (message: string) => new UnauthenticatedError(message, 'IncompleteSignatureException');
const invalidSignature = (message: string) => new UnauthenticatedError(message, 'InvalidSignatureException');

/** `AWS4-HMAC-SHA256 Credential=AKID/20261127/local/ecs/aws4_request, SignedHeaders=host;x-amz-date, Signature=hex` */
export function parseSigV4Authorization(header: string): SigV4Authorization {
  if (!header.startsWith(`${SIGV4_ALGORITHM} `))
    throw incomplete(`Unsupported Authorization Type: only ${SIGV4_ALGORITHM} is accepted`);
  const parts = new Map<string, string>();
  for (const part of header.slice(SIGV4_ALGORITHM.length + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) parts.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const missing = ['Credential', 'SignedHeaders', 'Signature'].filter((p) => !parts.get(p));
  if (missing.length)
    throw incomplete(
      missing.map((p) => `Authorization header requires '${p}' parameter.`).join(' ') +
        ` Authorization=${header.split(' ')[0]}`,
    );
  const credential = parts.get('Credential')!.split('/');
  if (credential.length !== 5 || credential[4] !== 'aws4_request' || credential.some((c) => !c))
    throw incomplete(
      `Credential should be scoped to a valid region, service and terminated with 'aws4_request': <access key id>/<yyyyMMdd>/<region>/<service>/aws4_request`,
    );
  const [accessKeyId, date, region, service] = credential as [string, string, string, string];
  const signedHeaders = parts.get('SignedHeaders')!.split(';');
  if (signedHeaders.some((h) => !/^[a-z0-9-]+$/.test(h)))
    throw incomplete('SignedHeaders must be lower-case header names separated by semicolons');
  const signature = parts.get('Signature')!;
  if (!/^[0-9a-f]{64}$/.test(signature)) throw incomplete('Signature must be 64 lower-case hex digits');
  return { accessKeyId, date, region, service, signedHeaders, signature };
}

/** `20261127T211500Z` → a Date, or undefined if it is not one. */
export function parseAmzDate(value: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  const at = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  // Date.UTC rolls 20261345 over into 2027; a real date survives the round trip.
  return formatAmzDate(at) === value ? at : undefined;
}

export const formatAmzDate = (at: Date) =>
  at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');

/**
 * The rules a request's scope and date must meet before its signature is worth computing: the
 * service is `ecs`, the region is this endpoint's, the scope's date is X-Amz-Date's day, and
 * X-Amz-Date is within 15 minutes of `now`. Returns the signing date.
 */
export function checkSigV4Scope(
  auth: SigV4Authorization,
  amzDate: string | undefined,
  expected: { region: string; service: string },
  now: Date,
): Date {
  if (!auth.signedHeaders.includes('host'))
    throw incomplete("'Host' must be a 'SignedHeader' in the AWS Authorization.");
  if (amzDate === undefined || !auth.signedHeaders.includes('x-amz-date'))
    throw incomplete("'X-Amz-Date' must be sent and be a 'SignedHeader' in the AWS Authorization.");
  const at = parseAmzDate(amzDate);
  if (!at)
    throw incomplete(`X-Amz-Date must be in the ISO8601 basic format yyyyMMdd'T'HHmmss'Z': ${amzDate}`);
  if (auth.service !== expected.service)
    throw invalidSignature(`Credential should be scoped to correct service: '${expected.service}'. `);
  if (auth.region !== expected.region)
    throw invalidSignature(
      `Credential should be scoped to a valid region, not '${auth.region}'. This endpoint's region is '${expected.region}'.`,
    );
  if (auth.date !== amzDate.slice(0, 8))
    throw invalidSignature(
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${auth.date}' != '${amzDate.slice(0, 8)}', from '${amzDate}'.`,
    );
  const skew = at.getTime() - now.getTime();
  if (skew < -MAX_CLOCK_SKEW_MS)
    throw invalidSignature(
      `Signature expired: ${amzDate} is now earlier than ${formatAmzDate(new Date(now.getTime() - MAX_CLOCK_SKEW_MS))} (${formatAmzDate(now)} - 15 min.)`,
    );
  if (skew > MAX_CLOCK_SKEW_MS)
    throw invalidSignature(
      `Signature not yet current: ${amzDate} is still later than ${formatAmzDate(new Date(now.getTime() + MAX_CLOCK_SKEW_MS))} (${formatAmzDate(now)} + 15 min.)`,
    );
  return at;
}

/** The request as received: what the signature covers. */
export interface ReceivedRequest {
  method: string;
  /** The path and query as sent (`req.originalUrl`). */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  /** The body's bytes exactly as they arrived. */
  body: Uint8Array;
}

const SIGNATURE_MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

/**
 * Computes the signature the request should carry, with the key's secret, and compares it with
 * the one it carries (in constant time). Only the headers the client signed are given to the
 * signer, so it signs exactly those.
 */
export async function verifySigV4Signature(
  req: ReceivedRequest,
  auth: SigV4Authorization,
  signingDate: Date,
  secretAccessKey: string,
): Promise<void> {
  const headers: Record<string, string> = {};
  for (const name of auth.signedHeaders) {
    const value = req.headers[name];
    if (value === undefined) throw invalidSignature(`The signed header '${name}' is not in the request.`);
    headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  // The signer trusts a sent payload hash; it must be the body's.
  const claimed = headers['x-amz-content-sha256'];
  if (claimed !== undefined && claimed !== createHash('sha256').update(req.body).digest('hex'))
    throw invalidSignature("The provided 'x-amz-content-sha256' header does not match what was computed.");
  const url = new URL(req.url, 'http://berth.invalid');
  const query: Record<string, string | string[]> = {};
  for (const [key, value] of url.searchParams) {
    const seen = query[key];
    query[key] = seen === undefined ? value : [...(Array.isArray(seen) ? seen : [seen]), value];
  }
  const signer = new SignatureV4({
    service: auth.service,
    region: auth.region,
    credentials: { accessKeyId: auth.accessKeyId, secretAccessKey },
    sha256: Hash.bind(null, 'sha256'),
    applyChecksum: false,
  });
  const signed = await signer.sign(
    new HttpRequest({
      method: req.method,
      protocol: 'http:',
      hostname: headers.host ?? 'localhost',
      path: url.pathname,
      query,
      headers,
      body: req.body,
    }),
    { signingDate, signableHeaders: new Set(auth.signedHeaders) },
  );
  const expected = /Signature=([0-9a-f]{64})$/.exec(String(signed.headers.authorization))?.[1] ?? '';
  if (!timingSafeEqual(Buffer.from(expected.padEnd(64, '0')), Buffer.from(auth.signature)))
    throw invalidSignature(SIGNATURE_MISMATCH);
}
