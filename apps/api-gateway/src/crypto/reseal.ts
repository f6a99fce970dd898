import type { PrismaClient } from '@berth/db';
import type { KeyRing, Sealed } from './key-ring.js';
import { sealContexts } from './seal-contexts.js';

/** One sealed value as stored: its row, the key that sealed it, and what it is bound to. */
export interface SealedRow extends Sealed {
  id: string;
  /** The sealing context, which also names the row in the report (`secret/<cluster id>/<name>`). */
  context: string;
}

/** One table of sealed values, as the reseal walks it. */
export interface SealedTable {
  label: string;
  /** Rows sealed under any key but `keyId`, in id order after `afterId`, at most `limit`. */
  stale(keyId: string, afterId: string | undefined, limit: number): Promise<SealedRow[]>;
  /**
   * Writes `next` only if the row still holds exactly what was read (key id and bytes): a value
   * a gateway replaced meanwhile is never overwritten with the old one. False when it changed.
   */
  replace(row: SealedRow, next: Sealed): Promise<boolean>;
  /** How many rows each key id seals. */
  countByKey(): Promise<Map<string, number>>;
}

export interface ResealResult {
  label: string;
  resealed: number;
  /** Rows already under the newest key before the run. */
  alreadyCurrent: number;
  /** Rows that do not open with any listed key (or were tampered with): left as they are. */
  failed: { context: string; error: string }[];
  /** Rows still under an older key after the run: the failed ones, and any a lagging gateway wrote. */
  remaining: number;
}

/** A row that keeps changing under us is tried again on the next walk, a few times at most. */
const MAX_WALKS = 3;

/**
 * Seals every value of the table under the newest master key, row by row. Each write is guarded,
 * so it is safe while gateways run, and a second run finds nothing to do. Values are only ever
 * in memory here.
 */
export async function reseal(keys: KeyRing, table: SealedTable, batch = 100): Promise<ResealResult> {
  const keyId = keys.currentKeyId;
  const result: ResealResult = {
    label: table.label,
    resealed: 0,
    alreadyCurrent: (await table.countByKey()).get(keyId) ?? 0,
    failed: [],
    remaining: 0,
  };
  const failed = new Set<string>();
  for (let walk = 0; walk < MAX_WALKS; walk++) {
    let raced = 0;
    for (let afterId: string | undefined; ;) {
      const rows = await table.stale(keyId, afterId, batch);
      for (const row of rows) {
        if (failed.has(row.id)) continue;
        let plaintext: string;
        try {
          plaintext = keys.open(row, row.context);
        } catch (err) {
          failed.add(row.id);
          result.failed.push({ context: row.context, error: (err as Error).message });
          continue;
        }
        if (await table.replace(row, keys.seal(plaintext, row.context))) result.resealed++;
        else raced++;
      }
      if (rows.length < batch) break;
      afterId = rows.at(-1)!.id;
    }
    if (!raced) break;
  }
  for (const [id, count] of await table.countByKey()) if (id !== keyId) result.remaining += count;
  return result;
}

const byKey = (rows: { sealKeyId: string; _count: number }[]) =>
  new Map(rows.map((r) => [r.sealKeyId, r._count]));
const after = (afterId: string | undefined) => (afterId === undefined ? {} : { id: { gt: afterId } });

/**
 * The tables that hold sealed values. Writes are raw SQL so that `updated_at` keeps meaning
 * "the value changed", not "it was sealed again".
 */
export function sealedTables(db: PrismaClient): SealedTable[] {
  return [
    {
      label: 'access keys',
      stale: async (keyId, afterId, limit) =>
        (
          await db.accessKey.findMany({
            where: { sealKeyId: { not: keyId }, ...after(afterId) },
            orderBy: { id: 'asc' },
            take: limit,
            select: { id: true, sealKeyId: true, sealedSecret: true },
          })
        ).map((r) => ({
          id: r.id,
          keyId: r.sealKeyId,
          sealed: r.sealedSecret,
          context: sealContexts.accessKey(r.id),
        })),
      replace: async (row, next) =>
        (await db.$executeRaw`
          UPDATE access_key SET sealed_secret = ${next.sealed}, seal_key_id = ${next.keyId}
           WHERE id = ${row.id} AND seal_key_id = ${row.keyId} AND sealed_secret = ${row.sealed}`) === 1,
      countByKey: async () => {
        // Not inline: an argument position confuses Prisma's groupBy typing.
        const rows = await db.accessKey.groupBy({ by: ['sealKeyId'], _count: true });
        return byKey(rows);
      },
    },
    {
      label: 'secrets',
      stale: async (keyId, afterId, limit) =>
        (
          await db.secret.findMany({
            where: { sealKeyId: { not: keyId }, ...after(afterId) },
            orderBy: { id: 'asc' },
            take: limit,
            select: { id: true, clusterId: true, name: true, sealKeyId: true, sealedValue: true },
          })
        ).map((r) => ({
          id: r.id,
          keyId: r.sealKeyId,
          sealed: r.sealedValue,
          context: sealContexts.secret(r.clusterId, r.name),
        })),
      replace: async (row, next) =>
        (await db.$executeRaw`
          UPDATE secret SET sealed_value = ${next.sealed}, seal_key_id = ${next.keyId}
           WHERE id = ${row.id}::uuid AND seal_key_id = ${row.keyId} AND sealed_value = ${row.sealed}`) === 1,
      countByKey: async () => {
        const rows = await db.secret.groupBy({ by: ['sealKeyId'], _count: true });
        return byKey(rows);
      },
    },
    {
      label: 'registry credentials',
      stale: async (keyId, afterId, limit) =>
        (
          await db.registryCredential.findMany({
            where: { sealKeyId: { not: keyId }, ...after(afterId) },
            orderBy: { id: 'asc' },
            take: limit,
            select: { id: true, clusterId: true, registry: true, sealKeyId: true, sealedPassword: true },
          })
        ).map((r) => ({
          id: r.id,
          keyId: r.sealKeyId,
          sealed: r.sealedPassword,
          context: sealContexts.registryCredential(r.clusterId, r.registry),
        })),
      replace: async (row, next) =>
        (await db.$executeRaw`
          UPDATE registry_credential SET sealed_password = ${next.sealed}, seal_key_id = ${next.keyId}
           WHERE id = ${row.id}::uuid AND seal_key_id = ${row.keyId} AND sealed_password = ${row.sealed}`) ===
        1,
      countByKey: async () => {
        const rows = await db.registryCredential.groupBy({ by: ['sealKeyId'], _count: true });
        return byKey(rows);
      },
    },
    {
      label: 'certificate authority',
      stale: async (keyId, afterId, limit) =>
        (
          await db.certificateAuthority.findMany({
            where: {
              sealKeyId: { not: keyId },
              ...(afterId === undefined ? {} : { id: { gt: Number(afterId) } }),
            },
            orderBy: { id: 'asc' },
            take: limit,
            select: { id: true, sealKeyId: true, sealedKey: true },
          })
        ).map((r) => ({
          id: String(r.id),
          keyId: r.sealKeyId,
          sealed: r.sealedKey,
          context: sealContexts.certificateAuthority(),
        })),
      replace: async (row, next) =>
        (await db.$executeRaw`
          UPDATE certificate_authority SET sealed_key = ${next.sealed}, seal_key_id = ${next.keyId}
           WHERE id = ${Number(row.id)} AND seal_key_id = ${row.keyId} AND sealed_key = ${row.sealed}`) === 1,
      countByKey: async () => {
        const rows = await db.certificateAuthority.groupBy({ by: ['sealKeyId'], _count: true });
        return byKey(rows);
      },
    },
  ];
}

/** What `admin.js reseal` prints: one line per table, then whether older keys can go. */
export function resealReport(keyId: string, results: ResealResult[]): string[] {
  const lines = results.map((r) => {
    const parts = [`${r.resealed} resealed`, `${r.alreadyCurrent} already under ${keyId}`];
    if (r.failed.length) parts.push(`${r.failed.length} failed`);
    if (r.remaining) parts.push(`${r.remaining} still under older keys`);
    return `${r.label}: ${parts.join(', ')}`;
  });
  const failed = results.reduce((n, r) => n + r.failed.length, 0);
  const raced = results.reduce((n, r) => n + r.remaining, 0) - failed;
  for (const r of results) for (const f of r.failed) lines.push(`  ${f.context} does not open: ${f.error}`);
  if (failed) lines.push('values that do not open were left as they are: store them again, or delete them');
  if (raced > 0)
    lines.push(
      'values written meanwhile are still under older keys: once every gateway lists the new key first, run reseal again',
    );
  if (!failed && raced <= 0)
    lines.push(`every value is sealed under ${keyId}: older keys can be dropped from BERTH_MASTER_KEYS`);
  return lines;
}
