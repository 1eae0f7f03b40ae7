// Merging on an M-RoPE model keeps each kept token's grid position (#25 item 2: "its output keeps
// positions coherent … M-RoPE"): tokens dropped from a frame's grid leave the others at the (t, h, w)
// of their own cells, and the block still spans its whole grid. Hand-computed for a 2×2 grid, and
// through ask() on the tiny Qwen2-VL pair.
import t from 'tap';
import { mergeRepeats } from '../../lib/reduce/merge.js';
import { ask, loadModel } from '../../lib/index.js';
import { media } from '../fixtures/media.js';
import { tinyModels } from '../fixtures/tiny-models.js';

t.test('a 2×2 grid with two repeated tokens: the kept ones keep their cells', async (t) => {
  const dim = 2;
  const a = new Float32Array([1, 0, 0, 1, 1, 1, -1, 0]); // 4 tokens
  // the next frame: tokens 0 and 3 repeat frame a's, tokens 1 and 2 change
  const b = new Float32Array([1, 0, 1, -1, -1, 1, -1, 0]);
  const grids = [{ nx: 2, ny: 2 }];
  const out = mergeRepeats([{ embeddings: a, count: 4, t: 0, grids }, { text: ' ' }, { embeddings: b, count: 4, t: 1, grids }] as never, dim, { similar: 0.98 });
  const first = out[0] as { count: number; positions?: Int32Array };
  t.equal(first.count, 4, 'the first frame keeps every token');
  t.notOk(first.positions, 'untouched blocks keep their grids (positions come from them later)');
  const second = out[2] as { count: number; embeddings: Float32Array; positions: Int32Array; span: number };
  t.equal(second.count, 2, 'two tokens dropped');
  t.same([...second.embeddings], [1, -1, -1, 1], 'tokens 1 and 2 kept, in raster order');
  // a 2×2 grid at 0: token (x, y) at (t 0, h y, w x, 0): token 1 = (x 1, y 0), token 2 = (x 0, y 1)
  t.same([...second.positions], [0, 0, /* h */ 0, 1, /* w */ 1, 0, /* extra */ 0, 0], 'sections t, h, w, extra of the kept cells');
  t.equal(second.span, 2, 'the block still spans its grid: the next item starts at max(nx, ny)');
});

t.test('ask() with a token budget on the tiny Qwen2-VL pair: merged, answered, counted', async (t) => {
  const m = await tinyModels();
  const model = await loadModel({ model: m.qwen2vlModel, mmproj: m.qwen2vlMmproj, threads: 1 });
  t.teardown(() => model.dispose());
  const clip = await media.h264();
  const off = await ask(clip, 'What happens?', { model, strategy: 'pllava', frames: 8, maxTokens: 2, temperature: 0 } as never);
  const half = await ask(clip, 'What happens?', { model, strategy: 'pllava', frames: 8, maxTokens: 2, temperature: 0, reduce: { ratio: 0.5, codecPlan: false } } as never);
  t.ok(half.tokens.visual <= off.tokens.visual / 2, `at most half the visual tokens (${half.tokens.visual} of ${off.tokens.visual})`);
  t.ok(half.tokens.visual > 0);
});
