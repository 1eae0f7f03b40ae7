/**
 * Creates the embedding cache's folder. Node's `mkdir({ recursive: true })` never returns for a
 * path under /proc (mkdir there says ENOENT while the parent exists, and it retries forever), so
 * the folder is made one level at a time, each level retried once after its parent exists.
 */
import { mkdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

export async function ensureDir(path: string): Promise<void> {
  const dir = resolve(path);
  try {
    await mkdir(dir);
    return;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      if ((await stat(dir)).isDirectory()) return;
      throw Object.assign(new Error(`${dir} exists and is not a folder`), { code: 'ENOTDIR' });
    }
    if (code !== 'ENOENT' || dirname(dir) === dir) throw e;
  }
  await ensureDir(dirname(dir));
  await mkdir(dir).catch(async (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EEXIST' || !(await stat(dir)).isDirectory()) throw e; // second ENOENT: cannot be made here
  });
}
