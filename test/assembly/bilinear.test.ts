import t, { type Test } from 'tap';
import { assemble, countTokens, defaults, llavaVideoPreset, planTokenCount, type FrameGrid, type PlanItem } from '../../lib/assembly/index.js';
import { rng, embeddingsOf, toGrids, randomNested, close } from './helpers.js';

// PyTorch bilinear, align_corners=False, output size given: source coordinate
// (o + 0.5) * in/out - 0.5, clamped at 0; neighbours floor and floor+1 (capped at in-1).
function sourceOf(o: number, inSize: number, outSize: number): [number, number, number] {
  let s = (o + 0.5) * (inSize / outSize) - 0.5;
  if (s < 0) s = 0;
  const lo = Math.floor(s);
  const hi = lo + 1 < inSize ? lo + 1 : lo;
  return [lo, hi, s - lo];
}
function referenceResize(frame: number[][][], ox: number, oy: number): number[][][] {
  const ny = frame.length, nx = frame[0]!.length, dim = frame[0]![0]!.length;
  const res: number[][][] = [];
  for (let i = 0; i < oy; i++) {
    const [y0, y1, ly] = sourceOf(i, ny, oy);
    const row: number[][] = [];
    for (let j = 0; j < ox; j++) {
      const [x0, x1, lx] = sourceOf(j, nx, ox);
      const v: number[] = [];
      for (let d = 0; d < dim; d++) {
        const top = (1 - lx) * frame[y0]![x0]![d]! + lx * frame[y0]![x1]![d]!;
        const bottom = (1 - lx) * frame[y1]![x0]![d]! + lx * frame[y1]![x1]![d]!;
        v.push((1 - ly) * top + ly * bottom);
      }
      row.push(v);
    }
    res.push(row);
  }
  return res;
}
// 2x2 average pooling, floor.
function referencePool(frame: number[][][]): number[][][] {
  const res: number[][][] = [];
  for (let y = 0; y + 2 <= frame.length; y += 2) {
    const row: number[][] = [];
    for (let x = 0; x + 2 <= frame[0]!.length; x += 2) {
      row.push(frame[y]![x]!.map((_, d) => (frame[y]![x]![d]! + frame[y]![x + 1]![d]! + frame[y + 1]![x]![d]! + frame[y + 1]![x + 1]![d]!) / 4));
    }
    res.push(row);
  }
  return res;
}

t.test('defaults are LLaVA-OneVision\'s', async (t) => {
  t.equal(defaults.bilinear.frames, 32);
  t.equal(defaults.bilinear.pool, 'bilinear');
  t.equal(defaults.bilinear.newlinePosition, 'one_token');
  // 32 frames x 14x14 + 1 newline = 6273 (SigLIP 27x27).
  t.equal(countTokens('bilinear', { frames: 32, nx: 27, ny: 27 }, { newline: true }), 6273);
  t.equal(countTokens('bilinear', { frames: 32, nx: 27, ny: 27 }), 6272, 'no newline embedding, no newline token');
  // LLaVA-Video-7B: 64 x 13 x 14 = 11648.
  t.equal(countTokens('bilinear', { frames: 64, nx: 27, ny: 27 }, { ...llavaVideoPreset, newline: true }), 11648);
});

t.test('hand-computed examples', async (t) => {
  // 4x4 -> 2x2: scale 2, sources 0.5 and 2.5, so each output is the mean of a 2x2 block:
  // v = 4y + x -> 2.5, 4.5, 10.5, 12.5.
  const g44: FrameGrid = { t: 0, nx: 4, ny: 4, dim: 1, data: Float32Array.from({ length: 16 }, (_, i) => i) };
  t.same(embeddingsOf(assemble('bilinear', [g44])), [2.5, 4.5, 10.5, 12.5]);
  // 3x3 -> ceil(3/2) = 2x2: scale 1.5, sources 0.25 and 1.75. v = 3y + x is linear, so the
  // result is v at the source points: (0.25,0.25) -> 1, (1.75,0.25) -> 2.5, (0.25,1.75) -> 5.5, (1.75,1.75) -> 7.
  const g33: FrameGrid = { t: 0, nx: 3, ny: 3, dim: 1, data: Float32Array.from({ length: 9 }, (_, i) => i) };
  t.same(embeddingsOf(assemble('bilinear', [g33])), [1, 2.5, 5.5, 7]);
  // 1x1 stays 1x1 (ceil(1/2) = 1), and the newline comes once, after all frames.
  const nl = Float32Array.of(-1, -2);
  const g11 = (v: number, tt: number): FrameGrid => ({ t: tt, nx: 1, ny: 1, dim: 2, data: Float32Array.of(v, v) });
  t.same(embeddingsOf(assemble('bilinear', [g11(3, 0), g11(4, 1)], { newline: nl })), [3, 3, 4, 4, -1, -2]);
});

t.test('hand-computed LLaVA-Video grid newlines and per-frame newlines', async (t) => {
  // 4x4 average-pooled to 2x2 = [[2.5, 4.5], [10.5, 12.5]], newline 99 after each row.
  const g44: FrameGrid = { t: 0, nx: 4, ny: 4, dim: 1, data: Float32Array.from({ length: 16 }, (_, i) => i) };
  const nl = Float32Array.of(99);
  t.same(embeddingsOf(assemble('bilinear', [g44], { pool: 'average', newlinePosition: 'grid', newline: nl })), [2.5, 4.5, 99, 10.5, 12.5, 99]);
  t.same(embeddingsOf(assemble('bilinear', [g44, { ...g44, t: 1 }], { newlinePosition: 'frame', newline: nl })), [2.5, 4.5, 10.5, 12.5, 99, 2.5, 4.5, 10.5, 12.5, 99]);
  t.same(embeddingsOf(assemble('bilinear', [g44], { newlinePosition: 'no_token', newline: nl })), [2.5, 4.5, 10.5, 12.5]);
});

t.test('matches the independent implementation on random grids', async (t) => {
  const rand = rng(2024);
  const nl = Float32Array.of(0.25, -0.5);
  for (const [T, nx, ny] of [[3, 27, 27], [2, 24, 24], [2, 16, 16], [3, 8, 6], [2, 27, 13], [1, 5, 2]] as const) {
    const nested = randomNested(rand, T, nx, ny, 2);
    const ox = Math.ceil(nx / 2), oy = Math.ceil(ny / 2);
    const want = nested.flatMap((f) => referenceResize(f, ox, oy).flat(2));
    const plan = assemble('bilinear', toGrids(nested), { newline: nl });
    close(t, embeddingsOf(plan), [...want, 0.25, -0.5], `bilinear T=${T} ${nx}x${ny}`);
    t.equal(planTokenCount(plan), T * ox * oy + 1);
    t.equal(countTokens('bilinear', { frames: T, nx, ny }, { newline: nl }), T * ox * oy + 1);

    // LLaVA-Video: average pool, newline after each pooled row.
    const px = Math.floor(nx / 2), py = Math.floor(ny / 2);
    const wantGrid = nested.flatMap((f) => referencePool(f).flatMap((row) => [...row.flat(), 0.25, -0.5]));
    const planGrid = assemble('bilinear', toGrids(nested), { pool: 'average', newlinePosition: 'grid', newline: nl });
    close(t, embeddingsOf(planGrid), wantGrid, `average+grid T=${T} ${nx}x${ny}`);
    t.equal(countTokens('bilinear', { frames: T, nx, ny }, { pool: 'average', newlinePosition: 'grid', newline: true }), T * py * (px + 1));
  }
});

t.test('rejects a newline of the wrong width and unknown modes', async (t) => {
  const g: FrameGrid = { t: 0, nx: 2, ny: 2, dim: 3, data: new Float32Array(12) };
  t.throws(() => assemble('bilinear', [g], { newline: new Float32Array(2) }), { code: 'ERR_INVALID_ARG' });
  t.throws(() => assemble('bilinear', [g], { pool: 'max' as never }), { code: 'ERR_INVALID_ARG' });
  t.throws(() => assemble('bilinear', [g], { newlinePosition: 'row' as never }), { code: 'ERR_INVALID_ARG' });
  t.throws(() => countTokens('bilinear', { frames: 1, nx: 1, ny: 5 }, { pool: 'average' }), { code: 'ERR_INVALID_ARG' });
});
