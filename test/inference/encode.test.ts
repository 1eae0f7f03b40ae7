import t from 'tap';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddingCache, VidlmError } from '../../lib/index.js';
import { frame, tinyModel } from './helpers.js';

const model = await tinyModel({ cache: false });
t.teardown(() => model.dispose());

t.test('encode returns one 8×8 grid of 64-wide tokens per frame, at the frame time', async (t) => {
  const grids = await model.encode([frame(0, 0.5), frame(1, 2.25)]);
  t.equal(grids.length, 2);
  for (const g of grids) {
    t.equal(g.nx, 8);
    t.equal(g.ny, 8);
    t.equal(g.dim, 64);
    t.equal(g.data.length, 8 * 8 * 64);
    t.ok(g.data.every(Number.isFinite));
  }
  t.same(grids.map((g) => g.t), [0.5, 2.25]);
  t.not(grids[0]!.data[0], grids[1]!.data[0], 'different pictures give different tokens');
});

t.test('batched encoding gives the tokens of one-by-one encoding', async (t) => {
  const frames = Array.from({ length: 6 }, (_, k) => frame(k));
  const one = await model.encodeWithStats(frames, { batchSize: 1 });
  const batched = await model.encodeWithStats(frames, { batchSize: 16 });
  t.equal(one.stats.batches, 6, 'batchSize 1: six graphs');
  // libmtmd batches only encoders that support it (not LLaVA's CLIP graph in this llama.cpp)
  t.ok(batched.stats.batches >= 1 && batched.stats.batches <= 6, `batchSize 16: ${batched.stats.batches} graph(s)`);
  let maxDiff = 0;
  for (let k = 0; k < frames.length; k++) {
    const a = one.grids[k]!.data, b = batched.grids[k]!.data;
    for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i]! - b[i]!));
  }
  t.ok(maxDiff < 1e-4, `max difference ${maxDiff}`);
});

t.test('the embedding cache: a second encode of the same frames encodes nothing', async (t) => {
  const m = await tinyModel();
  t.teardown(() => m.dispose());
  const frames = [frame(3), frame(4)];
  const first = await m.encodeWithStats(frames, { source: 'clip.mp4:1:2' });
  t.same([first.stats.encoded, first.stats.cached], [2, 0]);
  const second = await m.encodeWithStats(frames, { source: 'clip.mp4:1:2' });
  t.same([second.stats.encoded, second.stats.cached], [0, 2]);
  t.same(Array.from(second.grids[1]!.data.slice(0, 8)), Array.from(first.grids[1]!.data.slice(0, 8)));
  const other = await m.encodeWithStats([frame(3)], { source: 'other.mp4:1:2' });
  t.equal(other.stats.encoded, 1, 'another source is another key');
  t.ok(m.cache!.bytes > 0 && m.cache!.bytes <= m.cache!.maxBytes);
});

t.test('the cache evicts least recently used frames beyond its byte budget', async (t) => {
  const grid = (v: number) => ({ t: 0, nx: 1, ny: 1, dim: 256, data: new Float32Array(256).fill(v) }); // 1 KiB each
  const cache = new EmbeddingCache({ maxBytes: 2048 });
  await cache.set('a', grid(1));
  await cache.set('b', grid(2));
  await cache.get('a'); // a is now the most recent
  await cache.set('c', grid(3));
  t.equal(cache.size, 2);
  t.ok(await cache.get('a'), 'a stays');
  t.notOk(await cache.get('b'), 'b, the least recently used, went');
  t.ok(await cache.get('c'));
});

t.test('the disk cache survives a new cache object', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'vidlm-cache-'));
  const g = { t: 1.5, nx: 2, ny: 3, dim: 4, data: Float32Array.from({ length: 24 }, (_, i) => i / 7) };
  await new EmbeddingCache({ dir }).set('k', g);
  const back = await new EmbeddingCache({ dir }).get('k');
  t.same(back && { ...back, data: Array.from(back.data) }, { ...g, data: Array.from(g.data) });
});

t.test('bad frames and aborts are errors with codes', async (t) => {
  const bad = { t: 0, width: 112, height: 112, rgb: new Uint8Array(10) };
  await t.rejects(model.encode([bad]), { code: 'ERR_INVALID_ARG' });
  await t.rejects(model.encode([{ ...bad, width: 0 }]), { code: 'ERR_INVALID_ARG' });
  await t.rejects(model.encode([frame(0)], { batchSize: 0 }), { code: 'ERR_INVALID_ARG' });
  await t.rejects(model.encode([frame(0)], { signal: AbortSignal.abort() }), { code: 'ERR_ABORTED' });
  const ac = new AbortController();
  const p = model.encode(Array.from({ length: 40 }, (_, k) => frame(k)), { batchSize: 2, onProgress: () => ac.abort(), signal: ac.signal });
  const err = await p.catch((e) => e);
  t.ok(err instanceof VidlmError && err.code === 'ERR_ABORTED', 'aborted between batches');
  const after = await model.encode([frame(1)]);
  t.equal(after.length, 1, 'the model still encodes after an abort');
});

t.test('the event loop keeps ticking while frames are encoded', async (t) => {
  let ticks = 0;
  const timer = setInterval(() => { ticks++; }, 1);
  await model.encode(Array.from({ length: 48 }, (_, k) => frame(k)), { batchSize: 4 });
  clearInterval(timer);
  t.ok(ticks > 3, `${ticks} timer ticks during the encode`);
});
