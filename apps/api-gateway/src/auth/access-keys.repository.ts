import { randomInt } from 'node:crypto';
import {
  NotFoundError,
  readPolicyDocuments,
  type CreateAccessKeyInput,
  type PolicyDocument,
  type UpdateAccessKeyInput,
} from '@berth/domain';
import type { PrismaClient } from '@berth/db';
import type { KeyRing } from '../crypto/key-ring.js';
import { sealContexts } from '../crypto/seal-contexts.js';

const ID_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const SECRET_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

const randomString = (alphabet: string, length: number) =>
  Array.from({ length }, () => alphabet[randomInt(alphabet.length)]).join('');

export interface AccessKeyView {
  accessKeyId: string;
  name: string;
  status: string;
  policies: PolicyDocument[];
  managedPolicies: string[];
  createdAt: Date;
  lastUsedAt: Date | null;
}

/** A key as the authenticator needs it: its opened secret and its policies. */
export interface OpenedAccessKey {
  accessKeyId: string;
  status: string;
  /** Null when the secret does not open (its master key is no longer listed). */
  secret: string | null;
  policies: PolicyDocument[];
  managedPolicies: string[];
}

const VIEW = {
  id: true,
  name: true,
  status: true,
  policies: true,
  managedPolicies: true,
  createdAt: true,
  lastUsedAt: true,
} as const;

type Row = { id: string; policies: unknown } & Omit<AccessKeyView, 'accessKeyId' | 'policies'>;
const view = ({ id, policies, ...rest }: Row): AccessKeyView => ({
  accessKeyId: id,
  policies: readPolicyDocuments(policies, `of access key ${id}`),
  ...rest,
});

const notFound = (accessKeyId: string) =>
  new NotFoundError('NoSuchEntityException', `access key ${accessKeyId} does not exist`, 'accessKeyId');

/**
 * The only code that reads and writes access keys. Plain (no Nest decorators) so the admin command
 * that creates the first key uses it as the gateway does.
 */
export class AccessKeysRepository {
  constructor(
    private readonly db: PrismaClient,
    private readonly keys: KeyRing,
  ) {}

  /** A new key; its secret is returned here and never again. */
  async create(input: CreateAccessKeyInput): Promise<AccessKeyView & { secretAccessKey: string }> {
    const id = `BKIA${randomString(ID_CHARS, 16)}`;
    const secretAccessKey = randomString(SECRET_CHARS, 40);
    const { keyId, sealed } = this.keys.seal(secretAccessKey, sealContexts.accessKey(id));
    const row = await this.db.accessKey.create({
      data: {
        id,
        name: input.name,
        sealedSecret: sealed,
        sealKeyId: keyId,
        policies: (input.policies ?? []) as object[],
        managedPolicies: input.managedPolicies ?? [],
      },
      select: VIEW,
    });
    return { ...view(row), secretAccessKey };
  }

  async count(): Promise<number> {
    return this.db.accessKey.count();
  }

  /** Keys in id order, `limit` at a time after `afterId`. */
  async list(limit: number, afterId?: string): Promise<AccessKeyView[]> {
    const rows = await this.db.accessKey.findMany({
      where: afterId ? { id: { gt: afterId } } : {},
      orderBy: { id: 'asc' },
      take: limit,
      select: VIEW,
    });
    return rows.map(view);
  }

  async get(accessKeyId: string): Promise<AccessKeyView> {
    const row = await this.db.accessKey.findUnique({ where: { id: accessKeyId }, select: VIEW });
    if (!row) throw notFound(accessKeyId);
    return view(row);
  }

  async update(accessKeyId: string, change: UpdateAccessKeyInput): Promise<AccessKeyView> {
    const rows = await this.db.accessKey.updateManyAndReturn({
      where: { id: accessKeyId },
      data: {
        status: change.status,
        policies: change.policies as object[] | undefined,
        managedPolicies: change.managedPolicies,
      },
      select: VIEW,
    });
    if (!rows[0]) throw notFound(accessKeyId);
    return view(rows[0]);
  }

  async delete(accessKeyId: string): Promise<AccessKeyView> {
    const found = await this.get(accessKeyId);
    // deleteMany: a concurrent delete of the same key is not an error.
    await this.db.accessKey.deleteMany({ where: { id: accessKeyId } });
    return found;
  }

  /** The key with its secret opened, or undefined when there is no such key. */
  async open(accessKeyId: string): Promise<OpenedAccessKey | undefined> {
    const row = await this.db.accessKey.findUnique({ where: { id: accessKeyId } });
    if (!row) return undefined;
    return {
      accessKeyId: row.id,
      status: row.status,
      secret: this.openSecret(row),
      policies: readPolicyDocuments(row.policies, `of access key ${row.id}`),
      managedPolicies: row.managedPolicies,
    };
  }

  private openSecret(row: { id: string; sealKeyId: string; sealedSecret: Uint8Array }): string | null {
    try {
      return this.keys.open(
        { keyId: row.sealKeyId, sealed: row.sealedSecret },
        sealContexts.accessKey(row.id),
      );
    } catch {
      return null;
    }
  }

  async touch(accessKeyIds: readonly string[], at: Date): Promise<void> {
    await this.db.accessKey.updateMany({
      where: { id: { in: [...accessKeyIds] } },
      data: { lastUsedAt: at },
    });
  }
}
