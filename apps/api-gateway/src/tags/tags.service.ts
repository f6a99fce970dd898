import { Injectable } from '@nestjs/common';
import {
  InvalidParameterError,
  mergeTags,
  parseTagKeys,
  parseTaggedResourceArn,
  parseTags,
  removeTags,
  type Tag,
} from '@berth/domain';
import { TagsRepository } from './tags.repository.js';

/** TagResource, UntagResource and ListTagsForResource, for REST and ECS alike. */
@Injectable()
export class TagsService {
  constructor(private readonly tags: TagsRepository) {}

  async list(resourceArn: unknown): Promise<Tag[]> {
    return this.tags.get(parseTaggedResourceArn(resourceArn));
  }

  /** Adds the tags, replacing the value of a key the resource already has; 50 at most in all. */
  async tag(resourceArn: unknown, tags: unknown): Promise<Tag[]> {
    const resource = parseTaggedResourceArn(resourceArn);
    if (tags === undefined || tags === null) throw new InvalidParameterError('tags: is required', 'tags');
    const added = parseTags(tags);
    return this.tags.change(resource, (current) => mergeTags(current, added));
  }

  /** Removes the keys; keys the resource does not have are ignored, as in ECS. */
  async untag(resourceArn: unknown, tagKeys: unknown): Promise<Tag[]> {
    const resource = parseTaggedResourceArn(resourceArn);
    const keys = parseTagKeys(tagKeys);
    return this.tags.change(resource, (current) => removeTags(current, keys));
  }
}
