import t from 'tap';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddingCache, loadModel, VidlmError } from '../../lib/index.js';
import { tinyModels } from '../fixtures/tiny-models.js';
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

/** Largest absolute difference between two frames' tokens. */
function maxDiff(a: { data: Float32Array }[], b: { data: Float32Array }[]): number {
  let d = 0;
  for (let k = 0; k < a.length; k++) {
    for (let i = 0; i < a[k]!.data.length; i++) d = Math.max(d, Math.abs(a[k]!.data[i]! - b[k]!.data[i]!));
  }
  return d;
}

t.test('LLaVA (CLIP graph): libmtmd encodes one frame per graph whatever the batch size', async (t) => {
  const frames = Array.from({ length: 6 }, (_, k) => frame(k));
  const one = await model.encodeWithStats(frames, { batchSize: 1 });
  const batched = await model.encodeWithStats(frames, { batchSize: 16 });
  t.equal(one.stats.batches, 6, 'batchSize 1: six graphs');
  t.equal(batched.stats.batches, 6, 'batchSize 16: still six graphs, the mlp projector family does not batch');
  t.equal(maxDiff(one.grids, batched.grids), 0, 'the same graph per frame, the same tokens');
});

t.test('InternVL: frames share encoder graphs and give the tokens of one-by-one encoding', async (t) => {
  const m = await tinyModels();
  const internvl = await loadModel({ model: m.model, mmproj: m.internvlMmproj, threads: 2, cache: false });
  t.teardown(() => internvl.dispose());
  t.equal(internvl.info.projectorType, 'internvl');
  const frames = Array.from({ length: 6 }, (_, k) => frame(k));
  const one = await internvl.encodeWithStats(frames, { batchSize: 1 });
  const batched = await internvl.encodeWithStats(frames, { batchSize: 4 });
  t.equal(one.stats.batches, 6, 'batchSize 1: six graphs');
  t.equal(batched.stats.batches, 2, 'batchSize 4: two graphs (4 + 2 frames)');
  const all = await internvl.encodeWithStats(frames, { batchSize: 16 });
  t.equal(all.stats.batches, 1, 'batchSize 16: one graph for six frames');
  // 8×8 patches pixel-shuffled by 2 → 4×4 tokens
  t.same(batched.grids.map((g) => [g.nx, g.ny, g.dim]), frames.map(() => [4, 4, 64]));
  const d = maxDiff(one.grids, batched.grids);
  t.ok(d < 1e-4, `batched vs one by one: max difference ${d}`);
  t.ok(maxDiff(one.grids, all.grids) < 1e-4);
  t.ok(maxDiff([one.grids[0]!], [one.grids[1]!]) > 1e-3, 'different frames give different tokens (the comparison can fail)');
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

t.test('the event loop turns while frames are encoded', async (t) => {
  // Interleaving, not a tick count: a setImmediate chain numbers the loop's turns, and each
  // progress report (sent by the native worker after each encoder graph) records the turn it
  // arrived in. Reports spread over several turns only if the loop kept turning between graphs;
  // with the JS thread held for the whole encode they would all arrive together, after it.
  let turn = 0;
  let running = true;
  const spin = () => { turn++; if (running) setImmediate(spin); };
  spin();
  const turns: number[] = [];
  await model.encode(Array.from({ length: 48 }, (_, k) => frame(k)), { batchSize: 4, onProgress: (f) => { if (f < 1) turns.push(turn); } });
  running = false;
  // (reports still queued when the encode settles may come after it: only those before count)
  t.ok(turns.length >= 2, `${turns.length} reports (one per graph: 48 for LLaVA) arrived before the encode settled`);
  t.ok(new Set(turns).size > 1, `the reports arrived in ${new Set(turns).size} different turns of the loop`);
});
