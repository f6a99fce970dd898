import { Injectable } from '@nestjs/common';
import {
  joinTokenIdCursor,
  nextPageToken,
  parsePage,
  validateCreateJoinToken,
  validateJoinTokenId,
} from '@berth/domain';
import { ClustersRepository } from '../clusters/clusters.repository.js';
import { CertificateAuthority } from './certificate-authority.js';
import { JoinTokensRepository } from './join-tokens.repository.js';

/** CreateJoinToken, ListJoinTokens and DeleteJoinToken for one cluster. */
@Injectable()
export class JoinTokensService {
  constructor(
    private readonly clusters: ClustersRepository,
    private readonly tokens: JoinTokensRepository,
    private readonly ca: CertificateAuthority,
  ) {}

  /** The token text, shown only in this answer: it names the CA the agent is to trust. */
  async create(clusterName: string, body: unknown) {
    const input = validateCreateJoinToken(body);
    const cluster = await this.clusters.get(clusterName);
    return this.tokens.create(cluster.id, this.ca.hash, input);
  }

  async list(clusterName: string, q: { maxResults?: string; nextToken?: string }) {
    const { limit, after } = parsePage(q, joinTokenIdCursor);
    const cluster = await this.clusters.get(clusterName);
    const joinTokens = await this.tokens.list(cluster.id, limit, after);
    return { joinTokens, nextToken: nextPageToken(joinTokens, limit, (t) => t.tokenId) };
  }

  async revoke(clusterName: string, tokenId: string) {
    const id = validateJoinTokenId(tokenId);
    const cluster = await this.clusters.get(clusterName);
    return this.tokens.revoke(cluster.id, id);
  }
}
