import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import * as grpc from '@grpc/grpc-js';
import type { JoinRequest, JoinResponse } from '@berth/proto';
import {
  agentIdentityUri,
  arns,
  isBerthError,
  parseJoinToken,
  registerIdentityRefusal,
  type AgentIdentity,
  type ArnContext,
} from '@berth/domain';
import { CONFIG, type GatewayConfig } from '../config.js';
import { ARN_CONTEXT } from '../http/arn-context.js';
import { PRISMA, type PrismaClient } from '../infra/providers.js';
import { AuditRepository } from '../audit/audit.repository.js';
import { CertificateAuthority } from './certificate-authority.js';
import { JoinTokensRepository } from './join-tokens.repository.js';

const INSTANCE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A refused join or connect: the gRPC status to answer with. */
export class AgentRefusal extends Error {
  constructor(
    readonly code: grpc.status,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Issues agent certificates (the Join RPC) and judges the identity of an agent's stream. Every
 * join, renewal and refused identity is written to the audit log.
 */
@Injectable()
export class AgentJoin {
  constructor(
    private readonly ca: CertificateAuthority,
    private readonly tokens: JoinTokensRepository,
    private readonly audit: AuditRepository,
    @Inject(PRISMA) private readonly db: PrismaClient,
    @Inject(CONFIG) private readonly config: GatewayConfig,
    @Inject(ARN_CONTEXT) private readonly ctx: ArnContext,
  ) {}

  /**
   * A first join (with a token) or a renewal (with the caller's current certificate, `peer`).
   * A token never takes over an instance that exists: that instance renews with its certificate.
   */
  async join(req: JoinRequest, peer: AgentIdentity | undefined, source: string): Promise<JoinResponse> {
    if (!INSTANCE_ID.test(req.containerInstanceId))
      throw new AgentRefusal(grpc.status.INVALID_ARGUMENT, 'containerInstanceId: must be a lowercase UUID');
    const identity = { cluster: req.cluster, containerInstanceId: req.containerInstanceId };
    const record = (outcome: 'Success' | 'Denied', reason?: string, tokenId?: string) =>
      this.audit.record({
        action: 'berth:AgentJoin',
        resource: arns.containerInstance(this.ctx, req.cluster, req.containerInstanceId),
        sourceAddress: source,
        requestId: randomUUID(),
        outcome,
        statusCode: outcome === 'Success' ? 200 : 403,
        errorCode: reason,
        parameters: { renewal: !req.joinToken, ...(tokenId ? { tokenId } : {}) },
      });
    const refuse = async (code: grpc.status, reason: string, tokenId?: string): Promise<never> => {
      await record('Denied', reason, tokenId);
      throw new AgentRefusal(code, reason);
    };

    const existing = await this.db.containerInstance.findUnique({
      where: { id: req.containerInstanceId },
      select: { status: true },
    });
    let tokenId: string | undefined;
    if (req.joinToken) {
      let token;
      try {
        token = parseJoinToken(req.joinToken);
      } catch {
        return refuse(grpc.status.UNAUTHENTICATED, 'the join token is not valid');
      }
      tokenId = token.id;
      const refusal = await this.tokens.check(token, req.cluster);
      if (refusal) return refuse(grpc.status.UNAUTHENTICATED, refusal, tokenId);
      if (existing)
        return refuse(
          grpc.status.ALREADY_EXISTS,
          `containerInstanceId: instance ${req.containerInstanceId} already joined; it renews with its certificate, or join with a new instance id`,
          tokenId,
        );
    } else {
      if (!peer)
        throw new AgentRefusal(
          grpc.status.UNAUTHENTICATED,
          'a join token or a client certificate from the cluster CA is required',
        );
      const refusal = registerIdentityRefusal(peer, identity);
      if (refusal) return refuse(grpc.status.PERMISSION_DENIED, refusal);
      if (existing?.status === 'INACTIVE')
        return refuse(
          grpc.status.PERMISSION_DENIED,
          `container instance ${req.containerInstanceId} was deregistered; its certificate is revoked`,
        );
    }
    let issued;
    try {
      issued = await this.ca.issueAgentCertificate(
        req.csrPem,
        identity,
        this.config.BERTH_AGENT_CERT_TTL_SECONDS * 1000,
      );
    } catch (err) {
      if (isBerthError(err)) throw new AgentRefusal(grpc.status.INVALID_ARGUMENT, err.message);
      throw err;
    }
    // The use is spent only for a certificate handed out: a bad CSR costs none. A join that loses
    // the race for the last use gets nothing; its certificate is dropped unseen.
    if (tokenId && !(await this.tokens.spend(tokenId)))
      return refuse(grpc.status.UNAUTHENTICATED, 'the join token was used up', tokenId);
    await record('Success', undefined, tokenId);
    return { certificatePem: issued.certificatePem, caCertificatePem: this.ca.certificatePem };
  }

  /** Why a stream may not register as `reg`; the refusal is audited. */
  async checkRegister(
    peer: AgentIdentity | undefined,
    reg: { cluster: string; containerInstanceId: string },
    source: string,
  ): Promise<string | undefined> {
    const refusal = registerIdentityRefusal(peer, reg);
    if (!refusal) return undefined;
    await this.audit.record({
      action: 'berth:AgentConnect',
      resource: arns.containerInstance(this.ctx, reg.cluster, reg.containerInstanceId),
      sourceAddress: source,
      requestId: randomUUID(),
      outcome: 'Denied',
      statusCode: 403,
      errorCode: refusal,
      parameters: { certificate: peer ? agentIdentityUri(peer) : null },
    });
    return refusal;
  }
}
