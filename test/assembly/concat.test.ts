import t from 'tap';
import { assemble, countTokens, planTokenCount, type FrameGrid, type PlanItem } from '../../lib/assembly/index.js';
import { rng, toGrids, randomNested } from './helpers.js';

// Seeded PRNG (mulberry32) so random grids are reproducible.
// Grids as nested arrays [frame][y][x][d]; converted to FrameGrid only for the call.
// Independent Video-LLaVA concat: frames by time, every token row by row, " " between frames.
function referenceConcat(nested: number[][][][], times: number[]): Array<string | number[]> {
  const order = times.map((tt, i) => [tt, i] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]).map(([, i]) => i);
  const out: Array<string | number[]> = [];
  order.forEach((fi, k) => {
    if (k > 0) out.push(' ');
    const vecs: number[] = [];
    for (let y = 0; y < nested[fi]!.length; y++) for (let x = 0; x < nested[fi]![y]!.length; x++) vecs.push(...nested[fi]![y]![x]!);
    out.push(vecs);
  });
  return out;
}

function simplify(plan: PlanItem[]): Array<string | number[]> {
  return plan.map((it) => ('text' in it ? it.text : Array.from(it.embeddings)));
}

t.test('hand-computed: two 2x1 frames given out of time order', async (t) => {
  // frame at t=1: tokens [10,11],[12,13]; frame at t=0: [0,1],[2,3] (dim 2).
  const grids: FrameGrid[] = [
    { t: 1, nx: 2, ny: 1, dim: 2, data: Float32Array.of(10, 11, 12, 13) },
    { t: 0, nx: 2, ny: 1, dim: 2, data: Float32Array.of(0, 1, 2, 3) },
  ];
  const plan = assemble('concat', grids);
  // Expected: the t=0 frame, the " " separator, then the t=1 frame.
  t.same(simplify(plan), [[0, 1, 2, 3], ' ', [10, 11, 12, 13]]);
  t.equal(planTokenCount(plan), 4);
  t.same(simplify(assemble('concat', grids, { separator: '' })), [[0, 1, 2, 3, 10, 11, 12, 13]], 'an empty separator merges the frames');
});

t.test('matches the independent implementation on random grids', async (t) => {
  const rand = rng(1234);
  for (const [T, nx, ny, dim] of [[8, 16, 16, 3], [3, 8, 6, 5], [5, 27, 13, 2], [1, 1, 1, 4]] as const) {
    const nested = randomNested(rand, T, nx, ny, dim);
    const times = Array.from({ length: T }, () => Math.round(rand() * 1000) / 10);
    const got = simplify(assemble('concat', toGrids(nested, times)));
    const want = referenceConcat(nested, times);
    t.equal(got.length, want.length, `${T}x${nx}x${ny}x${dim}: item count`);
    want.forEach((w, i) => {
      if (typeof w === 'string') t.equal(got[i], w);
      else {
        const g = got[i] as number[];
        t.equal(g.length, w.length);
        t.ok(w.every((v, k) => Math.abs(v - g[k]!) < 1e-6), `${T}x${nx}x${ny}: frame item ${i} values`);
      }
    });
    t.equal(countTokens('concat', { frames: T, nx, ny }), T * nx * ny);
  }
});

t.test('text timestamps come from the frame times', async (t) => {
  const grids: FrameGrid[] = [0, 2.5, 7].map((tt) => ({ t: tt, nx: 1, ny: 1, dim: 1, data: Float32Array.of(tt) }));
  const plan = simplify(assemble('concat', grids, { timeTokens: 'text' }));
  t.same(plan, ['[0.0s]', [0], ' [2.5s]', [2.5], ' [7.0s]', [7]]);
});
