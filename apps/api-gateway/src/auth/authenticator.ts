import { createHash, timingSafeEqual } from 'node:crypto';
import { ACCESS_KEY_ID, effectivePolicies, UnauthenticatedError, type PolicyDocument } from '@berth/domain';
import type { Logger } from '@berth/config';
import type { AccessKeysRepository, OpenedAccessKey } from './access-keys.repository.js';
import {
  checkSigV4Scope,
  parseSigV4Authorization,
  SIGV4_ALGORITHM,
  verifySigV4Signature,
  type ReceivedRequest,
} from '../ecs/sigv4.js';

/** Who a request comes from, once its key checked out. */
export interface Principal {
  accessKeyId: string;
  policies: PolicyDocument[];
}

/**
 * How long a replica trusts what it read of a key. A key made Inactive, deleted or given other
 * policies on another replica takes effect here within this time; on this replica, at once.
 */
export const KEY_CACHE_MS = 5_000;
const TOUCH_EVERY_MS = 60_000;
const BEARER = /^Bearer ([^:\s]+):(\S+)$/;
const INVALID = 'The security token included in the request is invalid.';

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * Checks a request's key against the stored keys: `Authorization: Bearer <accessKeyId>:<secret>`
 * on every route, and AWS Signature Version 4 on the ECS protocol's.
 */
export class Authenticator {
  private readonly cache = new Map<string, { key: OpenedAccessKey | undefined; until: number }>();
  private readonly touched = new Map<string, number>();

  constructor(
    private readonly keys: AccessKeysRepository,
    private readonly logger: Logger,
  ) {}

  async authenticate(authorization: string | undefined, now = Date.now()): Promise<Principal> {
    if (!authorization)
      throw new UnauthenticatedError(
        'Missing credentials: send Authorization: Bearer <accessKeyId>:<secretAccessKey>',
      );
    const match = BEARER.exec(authorization);
    if (!match)
      throw new UnauthenticatedError(
        'The Authorization header must be Bearer <accessKeyId>:<secretAccessKey>',
      );
    const [, accessKeyId, secret] = match as unknown as [string, string, string];
    const key = ACCESS_KEY_ID.test(accessKeyId) ? await this.lookup(accessKeyId, now) : undefined;
    // Hashing both sides first gives equal lengths, so the comparison takes the same time
    // whatever the secret sent; a missing key compares against itself and fails the same way.
    const expected = digest(key?.secret ?? secret);
    if (!timingSafeEqual(expected, digest(secret)) || !key?.secret || key.status !== 'Active')
      throw new UnauthenticatedError(INVALID);
    this.touch(accessKeyId, now);
    return { accessKeyId, policies: effectivePolicies(key.policies, key.managedPolicies) };
  }

  /**
   * An ECS protocol request: signed with SigV4 for service `ecs` in this endpoint's region (the
   * AWS CLI and SDKs), or carrying a bearer key. The exceptions and messages are AWS's.
   */
  async authenticateEcs(req: ReceivedRequest, region: string, now = Date.now()): Promise<Principal> {
    const header = req.headers.authorization;
    if (typeof header !== 'string' || header === '')
      throw new UnauthenticatedError('Missing Authentication Token', 'MissingAuthenticationTokenException');
    if (!header.startsWith(`${SIGV4_ALGORITHM} `)) return this.authenticate(header, now);
    const auth = parseSigV4Authorization(header);
    const amzDate = req.headers['x-amz-date'];
    const signingDate = checkSigV4Scope(
      auth,
      typeof amzDate === 'string' ? amzDate : undefined,
      { region, service: 'ecs' },
      new Date(now),
    );
    const key = ACCESS_KEY_ID.test(auth.accessKeyId) ? await this.lookup(auth.accessKeyId, now) : undefined;
    if (!key?.secret || key.status !== 'Active') throw new UnauthenticatedError(INVALID);
    await verifySigV4Signature(req, auth, signingDate, key.secret);
    this.touch(auth.accessKeyId, now);
    return { accessKeyId: auth.accessKeyId, policies: effectivePolicies(key.policies, key.managedPolicies) };
  }

  /** Forgets what this replica read of a key, after it changed here. */
  invalidate(accessKeyId: string): void {
    this.cache.delete(accessKeyId);
  }

  private async lookup(accessKeyId: string, now: number): Promise<OpenedAccessKey | undefined> {
    const hit = this.cache.get(accessKeyId);
    if (hit && hit.until > now) return hit.key;
    const key = await this.keys.open(accessKeyId);
    // Its master key is no longer listed (or the row was tampered with): the key cannot work.
    if (key?.secret === null)
      this.logger.error({ accessKeyId }, 'an access key secret does not open with BERTH_MASTER_KEYS');
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(accessKeyId, { key, until: now + KEY_CACHE_MS });
    return key;
  }

  /** lastUsedAt, written at most once a minute per key and off the request's path. */
  private touch(accessKeyId: string, now: number): void {
    if ((this.touched.get(accessKeyId) ?? 0) > now - TOUCH_EVERY_MS) return;
    this.touched.set(accessKeyId, now);
    this.keys
      .touch([accessKeyId], new Date(now))
      .catch((err: unknown) =>
        this.logger.warn({ err, accessKeyId }, 'could not record when a key was last used'),
      );
  }
}
