import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The instance id is chosen once and kept on disk, so a restarted agent is the same instance. */
export async function loadOrCreateInstanceId(dataDir: string): Promise<string> {
  const file = join(dataDir, 'instance-id');
  try {
    const id = (await readFile(file, 'utf8')).trim();
    if (/^[0-9a-f-]{36}$/.test(id)) return id;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  await mkdir(dataDir, { recursive: true });
  const id = randomUUID();
  // Write then rename: a crash never leaves a half-written id behind.
  await writeFile(`${file}.tmp`, `${id}\n`);
  await rename(`${file}.tmp`, file);
  return id;
}
