import { Body, Controller, Delete, Get, HttpCode, Param, Put, Query } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { registryCredentialSchema, toJsonSchema } from '@berth/domain';
import { RegistryCredentialsService } from './registry-credentials.service.js';
import { Action } from '../auth/action.decorator.js';

/**
 * The credentials a cluster's agents pull private images with, one set per registry host: Berth's
 * stand-in for the ECS task execution role pulling from ECR. Passwords go in and never come out.
 */
@ApiTags('registry-credentials')
@Controller('v1/clusters/:cluster/registry-credentials')
export class RegistryCredentialsController {
  constructor(private readonly credentials: RegistryCredentialsService) {}

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
    return { registryCredential: await this.credentials.put(clusterName, registry, body) };
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
    return this.credentials.list(clusterName, query);
  }

  @Delete(':registry')
  @Action('berth:DeleteRegistryCredentials')
  @ApiOperation({ summary: 'Forget the credentials for one registry' })
  async delete(@Param('cluster') clusterName: string, @Param('registry') registry: string) {
    return { registryCredential: await this.credentials.delete(clusterName, registry) };
  }
}
