import { isUniqueViolation, type Db } from './client.js';

/** One idempotent call (ECS clientToken): which call, with which token, and a hash of its parameters. */
export interface ClientTokenClaim {
  clusterId: string;
  action: 'RunTask' | 'CreateService';
  token: string;
  requestHash: string;
}

/** Another call holds the token (it committed first): roll back, then answer with its result. */
export class ClientTokenTaken extends Error {
  constructor() {
    super('the client token is held by another call');
  }
}

const key = (c: ClientTokenClaim) => ({
  clusterId_action_token: { clusterId: c.clusterId, action: c.action, token: c.token },
});

/** What a finished call with this token created, or null if none has. */
export async function findClientToken(
  db: Db,
  claim: ClientTokenClaim,
): Promise<{ requestHash: string; resourceIds: string[] } | null> {
  return db.clientToken.findUnique({ where: key(claim), select: { requestHash: true, resourceIds: true } });
}

/**
 * Takes the token first thing in the transaction that creates, so that of two concurrent calls
 * with one token the primary key lets one through; the other waits for it to commit, then gets
 * ClientTokenTaken.
 */
export async function claimClientToken(tx: Db, claim: ClientTokenClaim): Promise<void> {
  try {
    await tx.clientToken.create({ data: { ...claim, resourceIds: [] } });
  } catch (error) {
    if (isUniqueViolation(error)) throw new ClientTokenTaken();
    throw error;
  }
}

/** Records what the call created, in the same transaction as the claim. */
export async function recordClientTokenResources(
  tx: Db,
  claim: ClientTokenClaim,
  resourceIds: string[],
): Promise<void> {
  await tx.clientToken.update({ where: key(claim), data: { resourceIds } });
}
