import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Put, Query } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { putSecretSchema, toJsonSchema, type ArnContext } from '@berth/domain';
import { Action } from '../auth/action.decorator.js';
import { ARN_CONTEXT } from '../http/arn-context.js';
import { secretView } from '../http/views.js';
import { SecretsService } from './secrets.service.js';

/**
 * A cluster's secrets, for containers' `secrets` and `repositoryCredentials` (Berth's stand-in for
 * Secrets Manager and SSM parameters). Values go in and never come out: every answer is metadata.
 * A name with `/` is sent URL-encoded (`prod%2Fdb`).
 */
@ApiTags('secrets')
@Controller('v1/clusters/:cluster/secrets')
export class SecretsController {
  constructor(
    private readonly secrets: SecretsService,
    @Inject(ARN_CONTEXT) private readonly ctx: ArnContext,
  ) {}

  @Put(':name')
  @HttpCode(200)
  @Action('berth:PutSecret', { redact: ['value'] })
  @ApiOperation({ summary: 'Create a secret or replace its value; the value is sealed and never returned' })
  @ApiBody({ schema: toJsonSchema(putSecretSchema) })
  async put(@Param('cluster') clusterName: string, @Param('name') name: string, @Body() body: unknown) {
    const { cluster, secret } = await this.secrets.put(clusterName, name, body);
    return { secret: secretView(this.ctx, cluster.name, secret) };
  }

  @Get()
  @Action('berth:ListSecrets')
  @ApiOperation({ summary: "The cluster's secrets in name order (metadata only)" })
  @ApiQuery({ name: 'maxResults', required: false })
  @ApiQuery({ name: 'nextToken', required: false })
  async list(
    @Param('cluster') clusterName: string,
    @Query() query: { maxResults?: string; nextToken?: string },
  ) {
    const { cluster, secrets, nextToken } = await this.secrets.list(clusterName, query);
    return { secrets: secrets.map((s) => secretView(this.ctx, cluster.name, s)), nextToken };
  }

  @Get(':name')
  @Action('berth:DescribeSecret')
  @ApiOperation({ summary: "A secret's metadata (never its value)" })
  async describe(@Param('cluster') clusterName: string, @Param('name') name: string) {
    const { cluster, secret } = await this.secrets.get(clusterName, name);
    return { secret: secretView(this.ctx, cluster.name, secret) };
  }

  @Delete(':name')
  @Action('berth:DeleteSecret')
  @ApiOperation({ summary: 'Delete a secret; tasks already running keep the value they were started with' })
  async delete(@Param('cluster') clusterName: string, @Param('name') name: string) {
    const { cluster, secret } = await this.secrets.delete(clusterName, name);
    return { secret: secretView(this.ctx, cluster.name, secret) };
  }
}
