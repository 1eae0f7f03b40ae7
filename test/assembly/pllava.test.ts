import t, { type Test } from 'tap';
import { assemble, countTokens, defaults, planTokenCount, type FrameGrid, type PlanItem } from '../../lib/assembly/index.js';
import { rng, embeddingsOf, toGrids as gridsAt, close } from './helpers.js';

// Independent AdaptiveAvgPool over (y, x) per frame, PyTorch bins:
// cell i covers [floor(i*in/out), ceil((i+1)*in/out)).
function referencePllava(g: number[][][][], ox: number, oy: number): number[] {
  const out: number[] = [];
  for (const frame of g) {
    const ny = frame.length, nx = frame[0]!.length, dim = frame[0]![0]!.length;
    for (let i = 0; i < oy; i++) {
      const y0 = Math.floor((i * ny) / oy), y1 = Math.ceil(((i + 1) * ny) / oy);
      for (let j = 0; j < ox; j++) {
        const x0 = Math.floor((j * nx) / ox), x1 = Math.ceil(((j + 1) * nx) / ox);
        for (let d = 0; d < dim; d++) {
          let s = 0, n = 0;
          for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) { s += frame[y]![x]![d]!; n++; }
          out.push(s / n);
        }
      }
    }
  }
  return out;
}

const toGrids = (nested: number[][][][]) => gridsAt(nested, nested.map((_, i) => i * 0.5));

t.test('defaults are PLLaVA\'s released eval settings', async (t) => {
  t.equal(defaults.pllava.frames, 16);
  t.same(defaults.pllava.target, { nx: 12, ny: 12 });
  // 16 frames x 12x12 = 2304 from CLIP-L/14@336's 24x24.
  t.equal(countTokens('pllava', { frames: 16, nx: 24, ny: 24 }), 2304);
});

t.test('hand-computed examples', async (t) => {
  // 4x4, v = 4y + x, to 2x2: exact 2x2 blocks -> 2.5, 4.5, 10.5, 12.5.
  const g44: FrameGrid = { t: 0, nx: 4, ny: 4, dim: 1, data: Float32Array.from({ length: 16 }, (_, i) => i) };
  t.same(embeddingsOf(assemble('pllava', [g44])), [2.5, 4.5, 10.5, 12.5]);
  // 5x1 row 0..4 to 2x1: bins [0,3) and [2,5) overlap at 2 -> (0+1+2)/3 = 1, (2+3+4)/3 = 3.
  const g51: FrameGrid = { t: 0, nx: 5, ny: 1, dim: 1, data: Float32Array.of(0, 1, 2, 3, 4) };
  t.same(embeddingsOf(assemble('pllava', [g51], { target: { nx: 2, ny: 1 } })), [1, 3]);
  // Same row, dim 2 (second channel = 10x): 3 -> 2 bins [0,2) and [1,3): (0+1)/2, (1+2)/2.
  const g31: FrameGrid = { t: 0, nx: 3, ny: 1, dim: 2, data: Float32Array.of(0, 0, 1, 10, 2, 20) };
  t.same(embeddingsOf(assemble('pllava', [g31], { target: { nx: 2, ny: 1 } })), [0.5, 5, 1.5, 15]);
});

t.test('matches the independent implementation on random grids', async (t) => {
  const rand = rng(99);
  const cases: Array<[number, number, number, number, { nx: number; ny: number } | undefined]> = [
    [4, 24, 24, 2, undefined], // default 12x12
    [3, 27, 27, 2, undefined], // default floor(27/2) = 13: uneven bins
    [2, 27, 13, 3, undefined], // default 13x6
    [2, 8, 6, 2, undefined], // default 4x3
    [2, 11, 9, 2, { nx: 5, ny: 7 }],
    [1, 3, 3, 1, { nx: 5, ny: 4 }], // upsampling: bins repeat cells
  ];
  for (const [T, nx, ny, dim, target] of cases) {
    const nested = Array.from({ length: T }, () => Array.from({ length: ny }, () => Array.from({ length: nx }, () => Array.from({ length: dim }, () => rand() * 2 - 1))));
    const ox = target?.nx ?? Math.floor(nx / 2), oy = target?.ny ?? Math.floor(ny / 2);
    const plan = assemble('pllava', toGrids(nested), target ? { target } : {});
    close(t, embeddingsOf(plan), referencePllava(nested, ox, oy), `T=${T} ${nx}x${ny} -> ${ox}x${oy}`);
    t.equal(planTokenCount(plan), T * ox * oy);
    t.equal(countTokens('pllava', { frames: T, nx, ny }, target ? { target } : {}), T * ox * oy);
  }
});

t.test('a 1-wide grid keeps one column; bad targets throw', async (t) => {
  t.equal(countTokens('pllava', { frames: 2, nx: 1, ny: 6 }), 2 * 1 * 3);
  t.throws(() => countTokens('pllava', { frames: 2, nx: 4, ny: 4 }, { target: { nx: 0, ny: 2 } }), { code: 'ERR_INVALID_ARG' });
  t.throws(() => countTokens('pllava', { frames: 2, nx: 4, ny: 4 }, { downscale: 0 }), { code: 'ERR_INVALID_ARG' });
});
