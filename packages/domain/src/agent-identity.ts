import { z } from 'zod';
import { InvalidParameterError } from './errors.js';
import { parseOrThrow } from './validation.js';

/**
 * A join token, as an agent is given it: `berth1.<id>.<secret>.<ca hash>`.
 * - `id`: 16 lowercase hex characters, public (it names the token in lists and audit events);
 * - `secret`: 32 lowercase hex characters (128 random bits), of which the control plane keeps only
 *   a SHA-256 hash;
 * - `ca hash`: the SHA-256 of the cluster CA certificate's DER, in lowercase hex, like kubeadm's
 *   discovery hash: the agent trusts the gateway only if it presents a chain to that very CA.
 * Dots separate the parts because none of them can hold one, and the token stays one shell word.
 */
export interface JoinToken {
  id: string;
  secret: string;
  caHash: string;
}

const PREFIX = 'berth1';
export const JOIN_TOKEN_ID = /^[0-9a-f]{16}$/;
/** Lists of join tokens page by id. */
export const joinTokenIdCursor = z.string().regex(JOIN_TOKEN_ID);
const SECRET = /^[0-9a-f]{32}$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;

export function formatJoinToken(token: JoinToken): string {
  return `${PREFIX}.${token.id}.${token.secret}.${token.caHash}`;
}

/** Parses a token; the error names the part that is wrong, never echoing the secret. */
export function parseJoinToken(text: string): JoinToken {
  const parts = text.trim().split('.');
  const fail = (rule: string) => new InvalidParameterError(`joinToken: ${rule}`, 'joinToken');
  if (parts.length !== 4 || parts[0] !== PREFIX)
    throw fail(`must be ${PREFIX}.<id>.<secret>.<CA hash>, as CreateJoinToken returns it`);
  const [, id, secret, caHash] = parts as [string, string, string, string];
  if (!JOIN_TOKEN_ID.test(id)) throw fail('the id must be 16 lowercase hex characters');
  if (!SECRET.test(secret)) throw fail('the secret must be 32 lowercase hex characters');
  if (!SHA256_HEX.test(caHash)) throw fail('the CA hash must be 64 lowercase hex characters (SHA-256)');
  return { id, secret, caHash };
}

export function validateJoinTokenId(id: string): string {
  if (!JOIN_TOKEN_ID.test(id))
    throw new InvalidParameterError(`tokenId: must be 16 lowercase hex characters (got "${id}")`, 'tokenId');
  return id;
}

/** The longest a join token may live: tokens are for joining hosts now, not standing credentials. */
export const MAX_JOIN_TOKEN_TTL_SECONDS = 7 * 24 * 3600;

export const createJoinTokenSchema = z.strictObject({
  ttlSeconds: z
    .number({ error: 'must be a number of seconds' })
    .int({ error: 'must be a whole number of seconds' })
    .min(60, { error: 'must be at least 60' })
    .max(MAX_JOIN_TOKEN_TTL_SECONDS, { error: `must be at most ${MAX_JOIN_TOKEN_TTL_SECONDS} (7 days)` }),
  maxUses: z
    .number({ error: 'must be a number' })
    .int({ error: 'must be a whole number' })
    .min(1, { error: 'must be at least 1' })
    .max(100_000, { error: 'must be at most 100000' })
    .optional(),
});

export type CreateJoinTokenInput = z.output<typeof createJoinTokenSchema>;

export function validateCreateJoinToken(input: unknown): CreateJoinTokenInput {
  return parseOrThrow(createJoinTokenSchema, input);
}

/** What a join token's row says about one more use of it at `now`: ok, or why not. */
export function joinTokenRefusal(
  token: { expiresAt: Date; revokedAt: Date | null; maxUses: number | null; uses: number },
  now: Date,
): string | undefined {
  if (token.revokedAt) return 'the join token was revoked';
  if (token.expiresAt.getTime() <= now.getTime()) return 'the join token expired';
  if (token.maxUses !== null && token.uses >= token.maxUses) return 'the join token was used up';
  return undefined;
}

/**
 * An agent certificate's identity, as its one URI SAN: the cluster (by name, as Register names it)
 * and the container instance id. The gateway accepts a Register only for exactly this pair.
 */
export interface AgentIdentity {
  cluster: string;
  containerInstanceId: string;
}

const IDENTITY_URI = /^berth:\/\/cluster\/([A-Za-z0-9_-]{1,255})\/container-instance\/([0-9a-f-]{36})$/;

export function agentIdentityUri(identity: AgentIdentity): string {
  return `berth://cluster/${identity.cluster}/container-instance/${identity.containerInstanceId}`;
}

/** The identity a certificate's URI SANs name, or undefined unless exactly one names one. */
export function agentIdentityOf(uris: readonly string[]): AgentIdentity | undefined {
  const found = uris.flatMap((uri) => {
    const m = IDENTITY_URI.exec(uri);
    return m ? [{ cluster: m[1]!, containerInstanceId: m[2]! }] : [];
  });
  return found.length === 1 ? found[0] : undefined;
}

/** Why a Register does not match the certificate it came over, or undefined when it does. */
export function registerIdentityRefusal(
  identity: AgentIdentity | undefined,
  register: { cluster: string; containerInstanceId: string },
): string | undefined {
  if (!identity) return 'the client certificate names no container instance';
  if (identity.cluster !== register.cluster)
    return `cluster: the certificate is for cluster ${identity.cluster}, not ${register.cluster}`;
  if (identity.containerInstanceId !== register.containerInstanceId)
    return `containerInstanceId: the certificate is for instance ${identity.containerInstanceId}, not ${register.containerInstanceId}`;
  return undefined;
}

/**
 * When an agent renews its certificate: two thirds of the way from when it got it to its expiry,
 * leaving a third for retries and for a gateway outage; at once if that moment has passed.
 * Measured from receipt, not notBefore, which the CA backdates for clock skew.
 */
export function renewalDueAt(cert: { receivedAt: Date; notAfter: Date }): Date {
  const from = cert.receivedAt.getTime();
  return new Date(from + ((cert.notAfter.getTime() - from) * 2) / 3);
}
