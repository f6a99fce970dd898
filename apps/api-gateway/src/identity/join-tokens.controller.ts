import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { createJoinTokenSchema, toJsonSchema } from '@berth/domain';
import { Action } from '../auth/action.decorator.js';
import { JoinTokensService } from './join-tokens.service.js';

/**
 * Join tokens: what an operator hands a new host so its agent can get a certificate
 * (docs/operations.md). The token text is shown once, at creation; only a hash of its secret is kept.
 */
@ApiTags('join-tokens')
@Controller('v1/clusters/:cluster/join-tokens')
export class JoinTokensController {
  constructor(private readonly tokens: JoinTokensService) {}

  @Post()
  @HttpCode(200)
  @Action('berth:CreateJoinToken')
  @ApiOperation({
    summary: 'CreateJoinToken: berth1.<id>.<secret>.<CA hash>, shown only in this answer',
  })
  @ApiBody({ schema: toJsonSchema(createJoinTokenSchema) })
  async create(@Param('cluster') clusterName: string, @Body() body: unknown) {
    return { joinToken: await this.tokens.create(clusterName, body) };
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
    return this.tokens.list(clusterName, query);
  }

  @Delete(':tokenId')
  @Action('berth:DeleteJoinToken')
  @ApiOperation({ summary: 'DeleteJoinToken: revokes it at once; hosts that joined keep their certificates' })
  async revoke(@Param('cluster') clusterName: string, @Param('tokenId') tokenId: string) {
    return { joinToken: await this.tokens.revoke(clusterName, tokenId) };
  }
}
