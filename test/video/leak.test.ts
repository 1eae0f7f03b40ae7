/** 1,150 sources opened, sampled and closed: memory stays flat (no leaked FFmpeg contexts). */
import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import t from 'tap';
import { openVideo } from '../../lib/video/index.js';
import { media } from '../fixtures/media.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const settle = async (): Promise<number> => {
  for (let i = 0; i < 4; i++) { gc(); await new Promise((r) => setImmediate(r)); }
  return process.memoryUsage().rss;
};

t.test('open, sample and close 1,150 sources', async (tt) => {
  const path = await media.h264();
  const cycle = async (i: number): Promise<void> => {
    const v = await openVideo(path);
    const f = await v.sample({ times: [(i % 40) / 10] }, { size: 64 });
    if (f.length !== 1) throw new Error('no frame');
    await v.close();
  };
  // allocator arenas of FFmpeg's and libuv's threads fill up first: warm up, then measure
  for (let i = 0; i < 150; i++) await cycle(i);
  const start = await settle();
  for (let i = 0; i < 500; i++) await cycle(i);
  const mid = await settle();
  for (let i = 500; i < 1000; i++) await cycle(i);
  const end = await settle();
  const mb = (x: number): string => (x / 2 ** 20).toFixed(1);
  tt.comment(`rss ${mb(start)} MB → ${mb(mid)} MB → ${mb(end)} MB over 1,150 sources`);
  // a leaked demuxer + decoder + scale graph per source is ~200 KB: 100 MB per 500 sources.
  // RSS after a collection moves by ±25 MB between identical runs (allocator arenas of the
  // decoder and libuv threads), and the first half still includes their growth, so the leak
  // signal is the second half, long enough for a leak to stand out of that noise.
  tt.ok(end - mid < 45 * 2 ** 20, `second half grew ${mb(end - mid)} MB`);
});

t.test('buffer sources leave no temporary files', async (tt) => {
  const buf = await readFile(await media.h264());
  const count = (): number => readdirSync(tmpdir()).filter((n) => n.startsWith('vidlm-')).length;
  const start = count();
  for (let i = 0; i < 20; i++) { const v = await openVideo(buf); await v.close(); }
  await tt.rejects(openVideo(Buffer.from('junk'.repeat(100))), { code: 'ERR_VIDEO_OPEN' });
  tt.equal(count(), start);
});
