import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import {
  createJoinTokenSchema,
  joinTokenIdCursor,
  nextPageToken,
  parsePage,
  toJsonSchema,
  validateCreateJoinToken,
  validateJoinTokenId,
} from '@berth/domain';
import { Action } from '../auth/action.decorator.js';
import { ClustersRepository } from '../clusters/clusters.repository.js';
import { CertificateAuthority } from './certificate-authority.js';
import { JoinTokensRepository } from './join-tokens.repository.js';

/**
 * Join tokens: what an operator hands a new host so its agent can get a certificate
 * (docs/operations.md). The token text is shown once, at creation; only a hash of its secret is kept.
 */
@ApiTags('join-tokens')
@Controller('v1/clusters/:cluster/join-tokens')
export class JoinTokensController {
  constructor(
    private readonly clusters: ClustersRepository,
    private readonly tokens: JoinTokensRepository,
    private readonly ca: CertificateAuthority,
  ) {}

  @Post()
  @HttpCode(200)
  @Action('berth:CreateJoinToken')
  @ApiOperation({
    summary: 'CreateJoinToken: berth1.<id>.<secret>.<CA hash>, shown only in this answer',
  })
  @ApiBody({ schema: toJsonSchema(createJoinTokenSchema) })
  async create(@Param('cluster') clusterName: string, @Body() body: unknown) {
    const input = validateCreateJoinToken(body);
    const cluster = await this.clusters.get(clusterName);
    return { joinToken: await this.tokens.create(cluster.id, this.ca.hash, input) };
  }

  @Get()
  @Action('berth:ListJoinTokens')
  @ApiOperation({ summary: 'ListJoinTokens: ids, expiry and uses (never the secrets), paged' })
  @ApiQuery({ name: 'maxResults', required: false })
  @ApiQuery({ name: 'nextToken', required: false })
  async list(
    @Param('cluster') clusterName: string,
    @Query() query: { maxResults?: string; nextToken?: string },
  ) {
    const { limit, after } = parsePage(query, joinTokenIdCursor);
    const cluster = await this.clusters.get(clusterName);
    const joinTokens = await this.tokens.list(cluster.id, limit, after);
    return { joinTokens, nextToken: nextPageToken(joinTokens, limit, (t) => t.tokenId) };
  }

  @Delete(':tokenId')
  @Action('berth:DeleteJoinToken')
  @ApiOperation({ summary: 'DeleteJoinToken: revokes it at once; hosts that joined keep their certificates' })
  async revoke(@Param('cluster') clusterName: string, @Param('tokenId') tokenId: string) {
    const id = validateJoinTokenId(tokenId);
    const cluster = await this.clusters.get(clusterName);
    return { joinToken: await this.tokens.revoke(cluster.id, id) };
  }
}
