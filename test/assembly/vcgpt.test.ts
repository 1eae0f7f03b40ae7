import t, { type Test } from 'tap';
import { assemble, countTokens, defaults, planTokenCount, type FrameGrid, type PlanItem } from '../../lib/assembly/index.js';
import { rng, embeddingsOf, frameMeans, close } from './helpers.js';

// Independent Video-ChatGPT: temporal rows = mean over space per frame, zero-padded to padTo;
// then spatial rows = mean over time at each position, row-major.
function referenceVcgpt(g: number[][][][], padTo = 100): number[] {
  const T = g.length, ny = g[0]!.length, nx = g[0]![0]!.length, dim = g[0]![0]![0]!.length;
  const out: number[] = [];
  out.push(...frameMeans(g));
  for (let r = T; r < padTo; r++) for (let d = 0; d < dim; d++) out.push(0);
  for (let y = 0; y < ny; y++) {
    for (let x = 0; x < nx; x++) {
      for (let d = 0; d < dim; d++) {
        let s = 0;
        for (let f = 0; f < T; f++) s += g[f]![y]![x]![d]!;
        out.push(s / T);
      }
    }
  }
  return out;
}

t.test('defaults are Video-ChatGPT\'s', async (t) => {
  t.equal(defaults.vcgpt.frames, 100);
  t.equal(defaults.vcgpt.padTo, 100);
  t.equal(countTokens('vcgpt', { frames: 100, nx: 16, ny: 16 }), 356);
  t.equal(countTokens('vcgpt', { frames: 10, nx: 16, ny: 16 }), 356, 'padding keeps 100 temporal rows');
  t.equal(countTokens('vcgpt', { frames: 120, nx: 16, ny: 16 }), 120 + 256, 'more frames than the pad: one row each');
  t.equal(countTokens('vcgpt', { frames: 10, nx: 16, ny: 16 }, { padTo: 0 }), 10 + 256);
});

t.test('hand-computed: two 2x1 frames of dim 1', async (t) => {
  // frame0 = [1, 3], frame1 = [5, 7]. temporal = [2, 6], padded with 2 zeros to padTo 4;
  // spatial = [(1+5)/2, (3+7)/2] = [3, 5].
  const grids: FrameGrid[] = [
    { t: 0, nx: 2, ny: 1, dim: 1, data: Float32Array.of(1, 3) },
    { t: 1, nx: 2, ny: 1, dim: 1, data: Float32Array.of(5, 7) },
  ];
  t.same(embeddingsOf(assemble('vcgpt', grids, { padTo: 4 })), [2, 6, 0, 0, 3, 5]);
  t.same(embeddingsOf(assemble('vcgpt', grids, { padTo: 4, padVector: Float32Array.of(9) })), [2, 6, 9, 9, 3, 5]);
  // With text time markers only the per-frame temporal tokens are stamped.
  const plan = assemble('vcgpt', grids, { padTo: 4, timeTokens: 'text' });
  t.same(plan.map((it) => ('text' in it ? it.text : Array.from(it.embeddings))), ['[0.0s]', [2], '[1.0s]', [6, 0, 0, 3, 5]]);
});

t.test('matches the independent implementation on random grids', async (t) => {
  const rand = rng(5);
  for (const [T, nx, ny, dim] of [[100, 16, 16, 2], [12, 8, 6, 3], [5, 27, 13, 2], [1, 1, 1, 1]] as const) {
    const nested = Array.from({ length: T }, () => Array.from({ length: ny }, () => Array.from({ length: nx }, () => Array.from({ length: dim }, () => rand() * 2 - 1))));
    const grids: FrameGrid[] = nested.map((f, i) => ({ t: i / 3, nx, ny, dim, data: Float32Array.from(f.flat(2)) }));
    const plan = assemble('vcgpt', grids);
    close(t, embeddingsOf(plan), referenceVcgpt(nested), `T=${T} ${nx}x${ny}`);
    t.equal(planTokenCount(plan), Math.max(T, 100) + nx * ny);
  }
});
