// lib/reduce's pure parts, each against values computed by hand or by a plain loop written here.
import t from 'tap';
import { CELLS, cellChange, colourCells, reusingEncoder, skipStill } from '../../lib/reduce/skip.js';
import { mergeRepeats, reducedBound } from '../../lib/reduce/merge.js';
import { codecTimes, packetChange } from '../../lib/reduce/codec-plan.js';
import { checkReduce, fromPruningRate } from '../../lib/reduce/option.js';
import type { Segment } from '../../lib/assembly/plan.js';

const solid = (w: number, h: number, rgb: [number, number, number], t = 0, index = 0) => {
  const px = new Uint8Array(w * h * 3);
  for (let i = 0; i < w * h; i++) px.set(rgb, i * 3);
  return { index, t, width: w, height: h, rgb: px };
};

t.test('colour cells: the mean of each channel in each cell; change is the most changed cell and channel', async (t) => {
  const f = solid(64, 48, [200, 100, 50]);
  // a square of white in the top-left cell only (cells are 8 × 6 px)
  for (let y = 0; y < 6; y++) for (let x = 0; x < 8; x++) f.rgb.set([255, 255, 255], (y * 64 + x) * 3);
  const c = colourCells(f);
  t.equal(c.length, CELLS * CELLS * 3);
  t.same(Array.from(c.subarray(0, 6)), [255, 255, 255, 200, 100, 50], 'the white cell, then the next');
  t.same(Array.from(c.subarray(189)), [200, 100, 50], 'the last cell');
  t.equal(cellChange(c, colourCells(solid(64, 48, [200, 100, 50]))), 255 - 50, 'one cell\'s blue moved most');
  // ffmpeg's red and green: BT.601 luma 76.2 and 75.1, a change all the same
  t.equal(cellChange(colourCells(solid(16, 16, [255, 0, 0])), colourCells(solid(16, 16, [0, 128, 0]))), 255);
});

t.test('skip: near-duplicates of the last KEPT frame go; the kept frame stands until the last one it replaced', async (t) => {
  const f = [[10, 10, 10], [11, 10, 10], [12, 10, 10], [80, 80, 80], [80, 80, 80], [10, 10, 10]].map((c, i) => solid(32, 32, c as [number, number, number], i * 0.5, i));
  const kept = skipStill(f, 3);
  // 10→11→12 each moves < 3 from frame 0 (red by 1 and 2); 80 is new; back to 10 is new again
  t.same(kept.map((k) => [k.frame.index, k.until, k.same]), [[0, 1, undefined], [3, 2, undefined], [5, 2.5, 0]], 'the returning picture reuses frame 0');
  t.same(skipStill(f, 0).map((k) => k.frame.index), [0, 1, 2, 3, 4, 5], 'still 0: every frame kept');
});

t.test('reusing encoder: a returning picture is not encoded again; its grid is the first one at its own time', async (t) => {
  const seen: number[] = [];
  const inner = {
    async encodeWithStats(frames: readonly { t: number }[]) {
      seen.push(...frames.map((f) => f.t));
      return { grids: frames.map((f) => ({ t: f.t, nx: 1, ny: 1, dim: 1, data: Float32Array.of(f.t * 10) })), stats: { encoded: frames.length, cached: 0, batches: 1, ms: 0 } };
    },
  };
  const enc = reusingEncoder(inner as never, [undefined, undefined, 0]);
  const frames = [0, 1, 2].map((t) => ({ t, width: 1, height: 1, rgb: new Uint8Array(3) }));
  const r = await enc.encodeWithStats(frames as never, {});
  t.same(seen, [0, 1], 'two encoded');
  t.same(r.grids.map((g) => [g.t, g.data[0]]), [[0, 0], [1, 10], [2, 0]]);
  t.equal(r.stats.encoded, 2);
});

t.test('merge: a token that repeats the last kept token at its place is dropped (DyCoke TTM), by threshold and by budget', async (t) => {
  const dim = 2;
  const block = (t: number, v: number[][]): Segment => ({ t, count: v.length, embeddings: Float32Array.from(v.flat()) });
  const segs: Segment[] = [
    block(0, [[1, 0], [0, 1]]),
    { text: ' ' },
    block(1, [[1, 0.01], [1, 0]]),     // token 0 repeats (cos ≈ 1), token 1 turned 90°
    { text: ' ' },
    block(2, [[0.99, 0.1], [1, 0.02]]), // both repeat the last kept at their places
  ];
  const out = mergeRepeats(segs, dim, { similar: 0.9 });
  const counts = out.map((s) => ('count' in s ? s.count : s.text));
  t.same(counts, [2, ' ', 1, ' ', 0], 'time blocks keep their place, emptied ones included');
  t.same(Array.from((out[2] as { embeddings: Float32Array }).embeddings), [1, 0], 'the new token is the one kept');
  // budget 2: the most repeated tokens go first (similarities: -inf, -inf, ~1, 0, ~0.995, ~1)
  const two = mergeRepeats(segs, dim, { similar: 2, maxTokens: 2 });
  t.same(two.map((s) => ('count' in s ? s.count : s.text)), [2, ' ', 0, ' ', 0]);
  const three = mergeRepeats(segs, dim, { similar: 2, maxTokens: 3 });
  t.same(three.map((s) => ('count' in s ? s.count : s.text)), [2, ' ', 1, ' ', 0], 'the least similar (cos 0) stays');
  t.same(Array.from((three[2] as { embeddings: Float32Array }).embeddings), [1, 0]);
});

t.test('codec plan: frames go where the packets are big, a floor stays uniform, every time is a packet time', async (t) => {
  const n = 100;
  const tt = Float64Array.from({ length: n }, (_, i) => i / 10);
  const size = Float64Array.from({ length: n }, (_, i) => (i >= 50 && i < 60 ? 1000 : 10));
  const key = Uint8Array.from({ length: n }, (_, i) => (i % 25 === 0 ? 1 : 0));
  const p = { t: tt, size, key };
  const c = packetChange(p);
  t.equal(c[25], (10 + 10) / 2, 'a regular keyframe counts as its neighbours');
  const times = codecTimes(p, 10, 0.5);
  t.equal(new Set(times).size, 10);
  t.ok(times.every((x) => tt.includes(x)), 'exact packet times');
  // by hand: the burst holds 0.5·10/100 + 0.5·10000/(10000+90·10)≈0.459 → 0.509 of the weight: 5 of 10 frames
  t.equal(times.filter((x) => x >= 5 && x < 6).length, 5);
  t.ok(times[0]! < 5 && times[9]! >= 6, 'the quiet stretches still get frames');
  t.same(codecTimes(p, 200), Array.from(tt), 'a budget over the packet count takes them all');
  // a keyframe off the regular interval is a cut
  const cut = { ...p, size: new Float64Array(n).fill(10), key: Uint8Array.from({ length: n }, (_, i) => (i % 25 === 0 || i === 70 ? 1 : 0)) };
  t.ok(packetChange(cut)[70]! > 100, 'the scene cut weighs');
  t.ok(codecTimes(cut, 4, 0.5).includes(7), 'and gets a frame');
});

t.test('the option: every form checked before work', async (t) => {
  t.equal(checkReduce(undefined), null);
  t.equal(checkReduce('off'), null);
  t.same(checkReduce('auto'), { still: 3, similar: 0.98, codecPlan: true });
  t.same(checkReduce({ tokens: 100 }), { still: 3, similar: 0.98, codecPlan: true, tokens: 100 });
  t.same(checkReduce({ ratio: 0.25, codecPlan: false }), { still: 3, similar: 0.98, codecPlan: false, ratio: 0.25 });
  t.same(checkReduce({ skip: false, merge: false }), { still: 0, similar: Infinity, codecPlan: true });
  for (const bad of ['on', 0, null, [], { tokens: 0 }, { tokens: 1.5 }, { ratio: 0 }, { ratio: 1.5 }, { ratio: '0.5' }, { tokens: 5, ratio: 0.5 }, { skip: 'yes' }, { frames: 3 }]) {
    t.throws(() => checkReduce(bad), { code: 'ERR_INVALID_ARG', details: { option: 'reduce' } }, JSON.stringify(bad));
  }
  t.same(fromPruningRate(0.75), { ratio: 0.25 });
  t.equal(fromPruningRate(0), 'off');
  t.throws(() => fromPruningRate(1), { code: 'ERR_INVALID_ARG', details: { option: 'video_pruning_rate' } });
  t.equal(reducedBound(checkReduce({ ratio: 0.25 }), 1000), 250);
  t.equal(reducedBound(checkReduce({ tokens: 300 }), 1000), 300);
  t.equal(reducedBound(checkReduce('auto'), 1000), 1000, 'auto: known only after');
});

t.test('batch: a job line takes reduce, and a bad one is refused at parse with the option named', async (t) => {
  const { checkJob } = await import('../../lib/batch/jobs.js');
  t.same(checkJob({ id: 1, video: 'a.mp4', task: 'describe', options: { reduce: { ratio: 0.5 } } }).options, { reduce: { ratio: 0.5 } });
  t.throws(() => checkJob({ id: 2, video: 'a.mp4', task: 'describe', options: { reduce: 'lots' } }), { code: 'ERR_INVALID_ARG', details: { field: 'options', option: 'reduce' } });
});
