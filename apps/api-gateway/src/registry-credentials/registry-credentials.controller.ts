import { Body, Controller, Delete, Get, HttpCode, Param, Put, Query } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import {
  cursors,
  nextPageToken,
  parsePage,
  registryCredentialSchema,
  toJsonSchema,
  validateRegistry,
  validateRegistryCredential,
} from '@berth/domain';
import { ClustersRepository } from '../clusters/clusters.repository.js';
import { RegistryCredentialsRepository } from './registry-credentials.repository.js';
import { Action } from '../auth/action.decorator.js';

/**
 * The credentials a cluster's agents pull private images with, one set per registry host: Berth's
 * stand-in for the ECS task execution role pulling from ECR. Passwords go in and never come out.
 */
@ApiTags('registry-credentials')
@Controller('v1/clusters/:cluster/registry-credentials')
export class RegistryCredentialsController {
  constructor(
    private readonly clusters: ClustersRepository,
    private readonly credentials: RegistryCredentialsRepository,
  ) {}

  @Put(':registry')
  @Action('berth:PutRegistryCredentials', { redact: ['password'] })
  @HttpCode(200)
  @ApiOperation({ summary: 'Store (or replace) the credentials for one registry; the password is sealed' })
  @ApiBody({ schema: toJsonSchema(registryCredentialSchema) })
  async put(
    @Param('cluster') clusterName: string,
    @Param('registry') registry: string,
    @Body() body: unknown,
  ) {
    const host = validateRegistry(registry);
    const input = validateRegistryCredential(body);
    const cluster = await this.clusters.get(clusterName);
    return { registryCredential: await this.credentials.put(cluster.id, host, input) };
  }

  @Get()
  @Action('berth:ListRegistryCredentials')
  @ApiOperation({ summary: 'The registries the cluster holds credentials for (never the passwords), paged' })
  @ApiQuery({ name: 'maxResults', required: false })
  @ApiQuery({ name: 'nextToken', required: false })
  async list(
    @Param('cluster') clusterName: string,
    @Query() query: { maxResults?: string; nextToken?: string },
  ) {
    const { limit, after } = parsePage(query, cursors.name);
    const cluster = await this.clusters.get(clusterName);
    const registryCredentials = await this.credentials.list(cluster.id, limit, after);
    return { registryCredentials, nextToken: nextPageToken(registryCredentials, limit, (c) => c.registry) };
  }

  @Delete(':registry')
  @Action('berth:DeleteRegistryCredentials')
  @ApiOperation({ summary: 'Forget the credentials for one registry' })
  async delete(@Param('cluster') clusterName: string, @Param('registry') registry: string) {
    const cluster = await this.clusters.get(clusterName);
    return { registryCredential: await this.credentials.delete(cluster.id, validateRegistry(registry)) };
  }
}
