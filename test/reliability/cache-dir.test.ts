// Issue 11, item 6: a cache folder that cannot be made is ERR_INVALID_ARG at loadModel, also
// under /proc where Node's recursive mkdir never returns.
import t from 'tap';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDir } from '../../lib/inference/cache-dir.js';
import { tinyModel } from '../inference/helpers.js';

t.test('a cache folder under /proc', async (t) => {
  await t.rejects(tinyModel({ cache: { dir: '/proc/vidlm-cache/a/b' } } as never), { code: 'ERR_INVALID_ARG', details: { option: 'cache.dir' } });
  await t.rejects(ensureDir('/proc/vidlm-cache'), { code: 'ENOENT' });
});

t.test('a cache folder whose parent is a file, and one that can be made', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vidlm-cache-'));
  writeFileSync(join(dir, 'file'), 'x');
  await t.rejects(tinyModel({ cache: { dir: join(dir, 'file', 'sub') } } as never), { code: 'ERR_INVALID_ARG' });
  const model = await tinyModel({ cache: { dir: join(dir, 'a', 'b', 'c') } } as never);
  t.equal(model.cache?.dir, join(dir, 'a', 'b', 'c'));
  model.dispose();
});
