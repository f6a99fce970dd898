import { Injectable } from '@nestjs/common';
import {
  accessKeyIdCursor,
  nextPageToken,
  parsePage,
  validateAccessKeyId,
  validateCreateAccessKey,
  validateUpdateAccessKey,
} from '@berth/domain';
import { AccessKeysRepository } from './access-keys.repository.js';
import { Authenticator } from './authenticator.js';

/** CreateAccessKey and the rest: a changed or deleted key is forgotten by this replica's cache. */
@Injectable()
export class AccessKeysService {
  constructor(
    private readonly keys: AccessKeysRepository,
    private readonly authenticator: Authenticator,
  ) {}

  /** The answer is the only time the secret is shown. */
  create(body: unknown) {
    return this.keys.create(validateCreateAccessKey(body));
  }

  async list(q: { maxResults?: string; nextToken?: string }) {
    const { limit, after } = parsePage(q, accessKeyIdCursor);
    const accessKeys = await this.keys.list(limit, after);
    return { accessKeys, nextToken: nextPageToken(accessKeys, limit, (k) => k.accessKeyId) };
  }

  get(accessKeyId: string) {
    return this.keys.get(validateAccessKeyId(accessKeyId));
  }

  async update(accessKeyId: string, body: unknown) {
    const id = validateAccessKeyId(accessKeyId);
    const accessKey = await this.keys.update(id, validateUpdateAccessKey(body));
    this.authenticator.invalidate(id);
    return accessKey;
  }

  async delete(accessKeyId: string) {
    const id = validateAccessKeyId(accessKeyId);
    const accessKey = await this.keys.delete(id);
    this.authenticator.invalidate(id);
    return accessKey;
  }
}
