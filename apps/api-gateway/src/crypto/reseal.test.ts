import { randomBytes } from 'node:crypto';
import { KeyRing, type Sealed } from './key-ring.js';
import { reseal, resealReport, type SealedRow, type SealedTable } from './reseal.js';

const key = () => randomBytes(32).toString('base64');
const k1 = `k1:${key()}`;
const k2 = `k2:${key()}`;

/** A table in memory; `onReplace` lets a test play a gateway writing between read and write. */
class MemoryTable implements SealedTable {
  label = 'secrets';
  rows = new Map<string, SealedRow>();
  onReplace?: (row: SealedRow) => void;

  add(keys: KeyRing, id: string, plaintext: string) {
    const context = `secret/c1/${id}`;
    this.rows.set(id, { id, context, ...keys.seal(plaintext, context) });
  }
  async stale(keyId: string, afterId: string | undefined, limit: number) {
    return [...this.rows.values()]
      .filter((r) => r.keyId !== keyId && (afterId === undefined || r.id > afterId))
      .sort((a, b) => a.id.localeCompare(b.id))
      .slice(0, limit)
      .map((r) => ({ ...r }));
  }
  async replace(row: SealedRow, next: Sealed) {
    this.onReplace?.(row);
    const stored = this.rows.get(row.id);
    if (!stored || stored.keyId !== row.keyId || Buffer.compare(stored.sealed, row.sealed) !== 0)
      return false;
    this.rows.set(row.id, { ...stored, ...next });
    return true;
  }
  async countByKey() {
    const counts = new Map<string, number>();
    for (const r of this.rows.values()) counts.set(r.keyId, (counts.get(r.keyId) ?? 0) + 1);
    return counts;
  }
  open(keys: KeyRing, id: string) {
    const r = this.rows.get(id)!;
    return keys.open(r, r.context);
  }
}

describe('reseal', () => {
  it('seals every value under the newest key, so the old key can be dropped', async () => {
    const old = KeyRing.parse(k1);
    const table = new MemoryTable();
    for (let i = 0; i < 5; i++) table.add(old, `id-${i}`, `value ${i}`);
    const rotated = KeyRing.parse(`${k2},${k1}`);
    table.add(rotated, 'id-new', 'sealed under k2 already');

    const result = await reseal(rotated, table, 2);
    expect(result).toEqual({ label: 'secrets', resealed: 5, alreadyCurrent: 1, failed: [], remaining: 0 });
    const onlyNew = KeyRing.parse(k2);
    expect(table.open(onlyNew, 'id-3')).toBe('value 3');
    expect(table.open(onlyNew, 'id-new')).toBe('sealed under k2 already');
    expect(resealReport('k2', [result])).toEqual([
      'secrets: 5 resealed, 1 already under k2',
      'every value is sealed under k2: older keys can be dropped from BERTH_MASTER_KEYS',
    ]);
  });

  it('does nothing the second time', async () => {
    const table = new MemoryTable();
    table.add(KeyRing.parse(k1), 'a', 'x');
    const rotated = KeyRing.parse(`${k2},${k1}`);
    await reseal(rotated, table);
    const sealed = table.rows.get('a')!.sealed;
    expect(await reseal(rotated, table)).toMatchObject({ resealed: 0, alreadyCurrent: 1, remaining: 0 });
    expect(table.rows.get('a')!.sealed).toBe(sealed);
  });

  it('never overwrites a value a gateway replaced meanwhile, and reseals the new one', async () => {
    const old = KeyRing.parse(k1);
    const table = new MemoryTable();
    table.add(old, 'a', 'first');
    // A gateway that still seals under k1 stores a new value between our read and our write.
    table.onReplace = () => {
      table.onReplace = undefined;
      table.add(old, 'a', 'second');
    };
    const rotated = KeyRing.parse(`${k2},${k1}`);
    expect(await reseal(rotated, table)).toMatchObject({ resealed: 1, remaining: 0 });
    expect(table.rows.get('a')!.keyId).toBe('k2');
    expect(table.open(rotated, 'a')).toBe('second');
  });

  it('leaves a value that does not open as it is, and says so', async () => {
    const table = new MemoryTable();
    table.add(KeyRing.parse(`k0:${key()}`), 'lost', 'x');
    table.add(KeyRing.parse(k1), 'ok', 'y');
    const before = table.rows.get('lost');
    const result = await reseal(KeyRing.parse(`${k2},${k1}`), table);
    expect(result).toMatchObject({ resealed: 1, remaining: 1 });
    expect(result.failed).toEqual([{ context: 'secret/c1/lost', error: expect.stringMatching(/k0/) }]);
    expect(table.rows.get('lost')).toEqual(before);
    expect(resealReport('k2', [result])).toEqual([
      'secrets: 1 resealed, 0 already under k2, 1 failed, 1 still under older keys',
      expect.stringMatching(/^ {2}secret\/c1\/lost does not open: .*k0/),
      'values that do not open were left as they are: store them again, or delete them',
    ]);
  });
});
