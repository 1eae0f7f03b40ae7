import t, { type Test } from 'tap';
import { assemble, countTokens, defaults, planTokenCount, type FrameGrid, type PlanItem } from '../../lib/assembly/index.js';
import { rng, embeddingsOf, frameMeans, toGrids, close } from './helpers.js';

// numpy round: halves go to the even integer.
function npRound(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

// Independent LITA SlowFast on nested arrays g[frame][y][x][d]:
// fast = per-frame mean over all tokens; slow = frames round(linspace(0,T-1,n)), 2x2 mean pooling
// with floor; output [fast ; slow], slow frame-major then row-major.
function referenceSlowFast(g: number[][][][], nSlow = 4, k = 2): number[] {
  const T = g.length, ny = g[0]!.length, nx = g[0]![0]!.length, dim = g[0]![0]![0]!.length;
  const out: number[] = [];
  out.push(...frameMeans(g));
  const picks: number[] = [];
  for (let i = 0; i < nSlow; i++) picks.push(nSlow === 1 ? 0 : npRound((i * (T - 1)) / (nSlow - 1)));
  for (const f of picks) {
    for (let py = 0; py + k <= ny; py += k) {
      for (let px = 0; px + k <= nx; px += k) {
        for (let d = 0; d < dim; d++) {
          let s = 0;
          for (let y = py; y < py + k; y++) for (let x = px; x < px + k; x++) s += g[f]![y]![x]![d]!;
          out.push(s / (k * k));
        }
      }
    }
  }
  return out;
}

t.test('defaults are LITA\'s', async (t) => {
  t.equal(defaults.slowfast.frames, 100);
  t.equal(defaults.slowfast.slowFrames, 4);
  t.equal(defaults.slowfast.pool, 2);
  // 100 fast + 4 slow frames x 8x8 = 356 for CLIP-L/14@224's 16x16 grid.
  t.equal(countTokens('slowfast', { frames: 100, nx: 16, ny: 16 }), 356);
  // The end-to-end number: 100 + 4 x 16 = 164 for an 8x8 grid.
  t.equal(countTokens('slowfast', { frames: 100, nx: 8, ny: 8 }), 164);
});

t.test('hand-computed: one 4x4 frame of dim 1', async (t) => {
  // values v(x,y) = 4y + x: 0..15. fast = mean = 7.5.
  // slow (all 4 picks are frame 0 when T=1): 2x2 blocks
  //   (0+1+4+5)/4 = 2.5, (2+3+6+7)/4 = 4.5, (8+9+12+13)/4 = 10.5, (10+11+14+15)/4 = 12.5
  const grid: FrameGrid = { t: 0, nx: 4, ny: 4, dim: 1, data: Float32Array.from({ length: 16 }, (_, i) => i) };
  const plan = assemble('slowfast', [grid], { slowFrames: 1 });
  t.same(embeddingsOf(plan), [7.5, 2.5, 4.5, 10.5, 12.5]);
});

t.test('hand-computed: 5x3 grid keeps only whole 2x2 windows (floor)', async (t) => {
  // v = 5y + x. floor(5/2) = 2 columns, floor(3/2) = 1 row of windows:
  //   (0+1+5+6)/4 = 3, (2+3+7+8)/4 = 5. fast = mean(0..14) = 7.
  const grid: FrameGrid = { t: 0, nx: 5, ny: 3, dim: 1, data: Float32Array.from({ length: 15 }, (_, i) => i) };
  t.same(embeddingsOf(assemble('slowfast', [grid], { slowFrames: 1 })), [7, 3, 5]);
});

t.test('hand-computed: which frames are slow', async (t) => {
  // Frame f holds the constant f, so every slow token names its frame.
  const frames = (T: number): FrameGrid[] => Array.from({ length: T }, (_, f) => ({ t: f / 5, nx: 2, ny: 2, dim: 1, data: new Float32Array(4).fill(f) }));
  // T=100: round(linspace(0, 99, 4)) = round(0, 33, 66, 99) -> one pooled token each.
  const e100 = embeddingsOf(assemble('slowfast', frames(100)));
  t.same(e100.slice(100), [0, 33, 66, 99]);
  // T=10, 3 slow: linspace(0, 9, 3) = 0, 4.5, 9 -> numpy rounds 4.5 to 4 (half to even).
  t.same(embeddingsOf(assemble('slowfast', frames(10), { slowFrames: 3 })).slice(10), [0, 4, 9]);
  // T=2, 4 slow: linspace(0,1,4) = 0, .33, .67, 1 -> 0, 0, 1, 1 (duplicates kept).
  t.same(embeddingsOf(assemble('slowfast', frames(2))).slice(2), [0, 0, 1, 1]);
});

t.test('matches the independent implementation on random grids', async (t) => {
  const rand = rng(42);
  for (const [T, nx, ny, dim, nSlow] of [[100, 16, 16, 2, 4], [7, 5, 6, 3, 4], [13, 27, 13, 2, 4], [9, 8, 6, 4, 3], [1, 2, 2, 5, 4]] as const) {
    const nested = Array.from({ length: T }, () => Array.from({ length: ny }, () => Array.from({ length: nx }, () => Array.from({ length: dim }, () => rand() * 4 - 2))));
    const plan = assemble('slowfast', toGrids(nested), { slowFrames: nSlow });
    close(t, embeddingsOf(plan), referenceSlowFast(nested, nSlow), `T=${T} ${nx}x${ny} dim ${dim}`);
    const want = T + nSlow * Math.floor(nx / 2) * Math.floor(ny / 2);
    t.equal(planTokenCount(plan), want);
    t.equal(countTokens('slowfast', { frames: T, nx, ny }, { slowFrames: nSlow }), want);
  }
});

t.test('pool 3 and time markers before every frame-derived block', async (t) => {
  const rand = rng(7);
  const nested = Array.from({ length: 6 }, () => Array.from({ length: 7 }, () => Array.from({ length: 7 }, () => [rand()])));
  const times = [0, 0.4, 1.1, 2.5, 3.0, 4.75];
  const plan = assemble('slowfast', toGrids(nested, times), { pool: 3, slowFrames: 2, timeTokens: 'text' });
  close(t, embeddingsOf(plan), referenceSlowFast(nested, 2, 3), 'pool 3');
  // fast markers for all 6 frames, then markers of slow frames round(linspace(0,5,2)) = 0, 5.
  const texts = plan.filter((it) => 'text' in it).map((it) => (it as { text: string }).text);
  t.same(texts, ['[0.0s]', '[0.4s]', '[1.1s]', '[2.5s]', '[3.0s]', '[4.75s]', '[0.0s]', '[4.75s]']);
});

t.test('rejects grids smaller than the window and bad options', async (t) => {
  const g = { t: 0, nx: 1, ny: 4, dim: 1, data: new Float32Array(4) };
  t.throws(() => assemble('slowfast', [g]), { code: 'ERR_INVALID_ARG' });
  t.throws(() => countTokens('slowfast', { frames: 4, nx: 1, ny: 4 }), { code: 'ERR_INVALID_ARG' });
  const ok = { t: 0, nx: 4, ny: 4, dim: 1, data: new Float32Array(16) };
  t.throws(() => assemble('slowfast', [ok], { slowFrames: 0 }), { code: 'ERR_INVALID_ARG' });
  t.throws(() => assemble('slowfast', [ok], { pool: 1.5 }), { code: 'ERR_INVALID_ARG' });
});
