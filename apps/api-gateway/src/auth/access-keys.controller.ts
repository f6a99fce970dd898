import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { createAccessKeySchema, toJsonSchema, updateAccessKeySchema } from '@berth/domain';
import { Action } from './action.decorator.js';
import { AccessKeysService } from './access-keys.service.js';

/**
 * Access keys, in the shape of AWS access keys: an id anyone may see and a secret shown once, at
 * creation. Each key carries IAM-style policies (inline documents and managed policy names).
 */
@ApiTags('access-keys')
@Controller('v1/access-keys')
export class AccessKeysController {
  constructor(private readonly keys: AccessKeysService) {}

  @Post()
  @HttpCode(200)
  @Action('berth:CreateAccessKey')
  @ApiOperation({ summary: 'CreateAccessKey: the answer is the only time the secret is shown' })
  @ApiBody({ schema: toJsonSchema(createAccessKeySchema) })
  async create(@Body() body: unknown) {
    return { accessKey: await this.keys.create(body) };
  }

  @Get()
  @Action('berth:ListAccessKeys')
  @ApiOperation({ summary: 'ListAccessKeys: ids, names, status and policies (never secrets)' })
  @ApiQuery({ name: 'maxResults', required: false })
  @ApiQuery({ name: 'nextToken', required: false })
  async list(@Query() query: { maxResults?: string; nextToken?: string }) {
    return this.keys.list(query);
  }

  @Get(':accessKeyId')
  @Action('berth:DescribeAccessKey')
  @ApiOperation({ summary: 'One access key (never its secret)' })
  async get(@Param('accessKeyId') accessKeyId: string) {
    return { accessKey: await this.keys.get(accessKeyId) };
  }

  @Patch(':accessKeyId')
  @Action('berth:UpdateAccessKey')
  @ApiOperation({ summary: 'UpdateAccessKey: status Active or Inactive, policies, managed policies' })
  @ApiBody({ schema: toJsonSchema(updateAccessKeySchema) })
  async update(@Param('accessKeyId') accessKeyId: string, @Body() body: unknown) {
    return { accessKey: await this.keys.update(accessKeyId, body) };
  }

  @Delete(':accessKeyId')
  @Action('berth:DeleteAccessKey')
  @ApiOperation({ summary: 'DeleteAccessKey: the key stops working at once on this replica' })
  async delete(@Param('accessKeyId') accessKeyId: string) {
    return { accessKey: await this.keys.delete(accessKeyId) };
  }
}
