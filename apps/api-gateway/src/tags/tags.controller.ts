import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { Action } from '../auth/action.decorator.js';
import { TagsService } from './tags.service.js';

/**
 * Tags of a cluster, service, task, container instance or task definition, named by its ARN
 * (URL-encoded in the path). The guard checks the action against that ARN and its cluster.
 */
@ApiTags('tags')
@Controller('v1/tags')
export class TagsController {
  constructor(private readonly tags: TagsService) {}

  @Get(':resourceArn')
  @Action('ecs:ListTagsForResource')
  @ApiOperation({ summary: 'ListTagsForResource' })
  async list(@Param('resourceArn') resourceArn: string) {
    return { tags: await this.tags.list(resourceArn) };
  }

  @Post(':resourceArn')
  @Action('ecs:TagResource')
  @HttpCode(200)
  @ApiOperation({ summary: 'TagResource: body {tags: [{key, value}]}; answers every tag of the resource' })
  async tag(@Param('resourceArn') resourceArn: string, @Body() body: { tags?: unknown } | undefined) {
    return { tags: await this.tags.tag(resourceArn, body?.tags) };
  }

  @Delete(':resourceArn')
  @Action('ecs:UntagResource')
  @ApiOperation({ summary: 'UntagResource: ?tagKeys=a,b; answers the tags left' })
  @ApiQuery({ name: 'tagKeys', description: 'comma-separated tag keys' })
  async untag(@Param('resourceArn') resourceArn: string, @Query('tagKeys') tagKeys?: string) {
    return { tags: await this.tags.untag(resourceArn, tagKeys ? tagKeys.split(',') : []) };
  }
}
