// M-RoPE positions of the pooled methods' blocks (lib/assembly/mrope.ts): each pooled grid is
// placed as libmtmd places an image (t = p, h = p + row, w = p + col, next at p + max(nx, ny)),
// 1×1 tokens (means, padding, newlines) as text. Expected values written out by hand per strategy.
import t from 'tap';
import { assemble, countTokens, isEmbeddingItem, type EmbeddingItem, type FrameGrid, type PooledStrategyName } from '../../lib/assembly/index.js';
import { gridPositions, withMropePositions } from '../../lib/assembly/mrope.js';

const dim = 2;
const grid = (nx: number, ny: number, t: number): FrameGrid => ({ t, nx, ny, dim, data: Float32Array.from({ length: nx * ny * dim }, (_, i) => i + t) });

/** Positions of a block as [t, h, w] triples, and its span; the extra section must be all 0. */
function triples(item: EmbeddingItem): { at: number[][]; span: number } {
  const { positions, span } = withMropePositions(item);
  const n = item.count;
  for (let i = 0; i < n; i++) if (positions![3 * n + i] !== 0) throw new Error('extra section not 0');
  return { at: Array.from({ length: n }, (_, i) => [positions![i]!, positions![n + i]!, positions![2 * n + i]!]), span: span! };
}

const blocks = (name: PooledStrategyName, grids: FrameGrid[], opts: object = {}) => {
  const plan = assemble(name, grids, { timeTokens: 'none', ...opts } as never);
  return { plan, blocks: plan.filter(isEmbeddingItem) };
};

t.test('gridPositions: one image as libmtmd places it', async (t) => {
  // a 3-wide, 2-high grid: mtmd_image_tokens_get_decoder_pos gives t = p, y = p + i / nx, x = p + i % nx; n_pos = max(nx, ny)
  const { positions, span } = gridPositions([{ nx: 3, ny: 2 }], 6);
  t.same([...positions], [0, 0, 0, 0, 0, 0, /* h */ 0, 0, 0, 1, 1, 1, /* w */ 0, 1, 2, 0, 1, 2, /* extra */ 0, 0, 0, 0, 0, 0]);
  t.equal(span, 3);
  t.throws(() => gridPositions([{ nx: 2, ny: 2 }], 5), { code: 'ERR_INVALID_ARG' });
});

t.test('concat: every frame its own grid, the separator text between them', async (t) => {
  const { plan, blocks: b } = blocks('concat', [grid(4, 2, 0), grid(4, 2, 1)]);
  t.same(plan.map((it) => (isEmbeddingItem(it) ? it.count : it.text)), [8, ' ', 8]);
  const row0 = [[0, 0, 0], [0, 0, 1], [0, 0, 2], [0, 0, 3]], row1 = [[0, 1, 0], [0, 1, 1], [0, 1, 2], [0, 1, 3]];
  t.same(triples(b[0]!), { at: [...row0, ...row1], span: 4 });
  t.same(triples(b[1]!), { at: [...row0, ...row1], span: 4 }, 'each block relative to its own start');
});

t.test('slowfast: fast tokens one position each, then each slow grid', async (t) => {
  const { blocks: b } = blocks('slowfast', [grid(4, 4, 0), grid(4, 4, 1), grid(4, 4, 2)], { slowFrames: 2 });
  t.equal(b.length, 1, 'no text between them: one block');
  t.equal(b[0]!.count, countTokens('slowfast', { frames: 3, nx: 4, ny: 4 }, { slowFrames: 2 }));
  t.same(triples(b[0]!), {
    at: [[0, 0, 0], [1, 1, 1], [2, 2, 2], // fast: frames 0, 1, 2
      [3, 3, 3], [3, 3, 4], [3, 4, 3], [3, 4, 4], // slow frame 0, 2×2 after avg_pool2d(2)
      [5, 5, 5], [5, 5, 6], [5, 6, 5], [5, 6, 6]], // slow frame 2
    span: 7,
  });
});

t.test('slowfast with LITA time tokens: the tokens are text between the blocks', async (t) => {
  const plan = assemble('slowfast', [grid(4, 4, 0), grid(4, 4, 1), grid(4, 4, 2)], { slowFrames: 2, timeTokens: 'lita', duration: 3, numTimeTokens: 3 } as never);
  const kinds = plan.map((it) => (isEmbeddingItem(it) ? `e${it.count}` : 'text'));
  // each fast token after its time token; the slow grids after theirs
  t.same(kinds, ['text', 'e1', 'text', 'e1', 'text', 'e1', 'text', 'e4', 'text', 'e4']);
  const slow = plan.filter(isEmbeddingItem).slice(3);
  for (const s of slow) t.same(triples(s), { at: [[0, 0, 0], [0, 0, 1], [0, 1, 0], [0, 1, 1]], span: 2 });
  t.same(triples(plan.filter(isEmbeddingItem)[0]!), { at: [[0, 0, 0]], span: 1 });
});

t.test('pllava: each frame pooled to its target grid', async (t) => {
  const { blocks: b } = blocks('pllava', [grid(4, 4, 0), grid(4, 4, 1)]);
  t.same(triples(b[0]!), { at: [[0, 0, 0], [0, 0, 1], [0, 1, 0], [0, 1, 1], [2, 2, 2], [2, 2, 3], [2, 3, 2], [2, 3, 3]], span: 4 });
});

t.test('bilinear: a row newline is one more column; the one_token newline one position', async (t) => {
  const nl = new Float32Array(dim).fill(9);
  const grid2 = blocks('bilinear', [grid(4, 4, 0)], { newline: nl, pool: 'average', newlinePosition: 'grid' }).blocks;
  // 2×2 pooled + a newline per row: a 3×2 grid
  t.same(triples(grid2[0]!), { at: [[0, 0, 0], [0, 0, 1], [0, 0, 2], [0, 1, 0], [0, 1, 1], [0, 1, 2]], span: 3 });
  const one = blocks('bilinear', [grid(4, 4, 0), grid(4, 4, 1)], { newline: nl }).blocks;
  t.equal(one[0]!.count, 9);
  t.same(triples(one[0]!), { at: [[0, 0, 0], [0, 0, 1], [0, 1, 0], [0, 1, 1], [2, 2, 2], [2, 2, 3], [2, 3, 2], [2, 3, 3], [4, 4, 4]], span: 5 });
});

t.test('vcgpt: temporal means and padding one position each, then the spatial grid', async (t) => {
  const { blocks: b } = blocks('vcgpt', [grid(2, 2, 0), grid(2, 2, 1)], { padTo: 3 });
  t.equal(b[0]!.count, 3 + 4);
  t.same(triples(b[0]!), { at: [[0, 0, 0], [1, 1, 1], [2, 2, 2], [3, 3, 3], [3, 3, 4], [3, 4, 3], [3, 4, 4]], span: 5 });
});
