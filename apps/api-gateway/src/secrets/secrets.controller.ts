import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Put, Query } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import {
  nextPageToken,
  parsePage,
  putSecretSchema,
  secretNameCursor,
  toJsonSchema,
  validatePutSecret,
  validateSecretName,
  type ArnContext,
} from '@berth/domain';
import { Action } from '../auth/action.decorator.js';
import { ARN_CONTEXT } from '../http/arn-context.js';
import { secretView } from '../http/views.js';
import { ClustersRepository } from '../clusters/clusters.repository.js';
import { SecretsRepository } from './secrets.repository.js';

/**
 * A cluster's secrets, for containers' `secrets` and `repositoryCredentials` (Berth's stand-in for
 * Secrets Manager and SSM parameters). Values go in and never come out: every answer is metadata.
 * A name with `/` is sent URL-encoded (`prod%2Fdb`).
 */
@ApiTags('secrets')
@Controller('v1/clusters/:cluster/secrets')
export class SecretsController {
  constructor(
    private readonly clusters: ClustersRepository,
    private readonly secrets: SecretsRepository,
    @Inject(ARN_CONTEXT) private readonly ctx: ArnContext,
  ) {}

  @Put(':name')
  @HttpCode(200)
  @Action('berth:PutSecret', { redact: ['value'] })
  @ApiOperation({ summary: 'Create a secret or replace its value; the value is sealed and never returned' })
  @ApiBody({ schema: toJsonSchema(putSecretSchema) })
  async put(@Param('cluster') clusterName: string, @Param('name') name: string, @Body() body: unknown) {
    validateSecretName(name);
    const input = validatePutSecret(body);
    const cluster = await this.clusters.get(clusterName);
    return { secret: secretView(this.ctx, cluster.name, await this.secrets.put(cluster.id, name, input)) };
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
    const { limit, after } = parsePage(query, secretNameCursor);
    const cluster = await this.clusters.get(clusterName);
    const secrets = await this.secrets.list(cluster.id, after, limit);
    return {
      secrets: secrets.map((s) => secretView(this.ctx, cluster.name, s)),
      nextToken: nextPageToken(secrets, limit, (s) => s.name),
    };
  }

  @Get(':name')
  @Action('berth:DescribeSecret')
  @ApiOperation({ summary: "A secret's metadata (never its value)" })
  async describe(@Param('cluster') clusterName: string, @Param('name') name: string) {
    validateSecretName(name);
    const cluster = await this.clusters.get(clusterName);
    return { secret: secretView(this.ctx, cluster.name, await this.secrets.get(cluster, name)) };
  }

  @Delete(':name')
  @Action('berth:DeleteSecret')
  @ApiOperation({ summary: 'Delete a secret; tasks already running keep the value they were started with' })
  async delete(@Param('cluster') clusterName: string, @Param('name') name: string) {
    validateSecretName(name);
    const cluster = await this.clusters.get(clusterName);
    return { secret: secretView(this.ctx, cluster.name, await this.secrets.delete(cluster, name)) };
  }
}
