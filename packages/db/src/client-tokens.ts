import { isUniqueViolation, type Db } from './client.js';
import { statement, type SqlExecutor } from './sql.js';

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

const CLAIM = statement(
  'claim_client_token',
  `INSERT INTO client_token (cluster_id, action, token, request_hash, resource_ids, created_at)
   VALUES ($1::uuid, $2, $3, $4, '{}', $5::timestamp(3))`,
);
const RECORD = statement(
  'record_client_token_resources',
  `UPDATE client_token SET resource_ids = $4::text[] WHERE cluster_id = $1::uuid AND action = $2 AND token = $3`,
);

/**
 * Takes the token first thing in the transaction that creates, so that of two concurrent calls
 * with one token the primary key lets one through; the other waits for it to commit, then gets
 * ClientTokenTaken.
 */
export async function claimClientToken(tx: SqlExecutor, claim: ClientTokenClaim): Promise<void> {
  try {
    await tx.rows(CLAIM, [claim.clusterId, claim.action, claim.token, claim.requestHash, new Date()]);
  } catch (error) {
    if (isUniqueViolation(error)) throw new ClientTokenTaken();
    throw error;
  }
}

/** Records what the call created, in the same transaction as the claim. */
export async function recordClientTokenResources(
  tx: SqlExecutor,
  claim: ClientTokenClaim,
  resourceIds: string[],
): Promise<void> {
  await tx.rows(RECORD, [claim.clusterId, claim.action, claim.token, resourceIds]);
}
