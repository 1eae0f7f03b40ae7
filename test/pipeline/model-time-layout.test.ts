// timeTokens 'model' (lib/pipeline/model-time.ts), pure: the items each Qwen-VL family's layout
// makes of frame-pair grids, against values written out by hand from the processors' rules
// (docs/methods.md "Model-native time on the Qwen-VL family"), and the option's checks.
import t from 'tap';
import type { EmbeddingItem, FrameGrid, PlanItem } from '../../lib/assembly/types.js';
import { modelTimeItems } from '../../lib/pipeline/assemble.js';
import { checkModelTimeOption, planModelTime } from '../../lib/pipeline/plan.js';

// 5 frames: pairs (0, 0.5), (1, 1.5) and the lone 3 (paired with itself); a 1×2 grid per pair, dim 2
const times = [0, 0.5, 1, 1.5, 3];
const pair = (k: number): FrameGrid => ({ t: times[2 * k]!, nx: 2, ny: 1, dim: 2, data: Float32Array.from({ length: 4 }, (_, i) => 10 * k + i) });
const pairs = [pair(0), pair(1), pair(2)];
const texts = (items: PlanItem[]) => items.map((it) => ('text' in it ? it.text : `[${(it as EmbeddingItem).count}]`));
const sections = (e: EmbeddingItem) => {
  const n = e.count, p = Array.from(e.positions!);
  return [p.slice(0, n), p.slice(n, 2 * n), p.slice(2 * n, 3 * n), p.slice(3 * n)];
};

t.test('Qwen2-VL: one grid of 3 steps at t = 0, 1, 2 (time is not in the positions)', async (t) => {
  const { items, visual } = modelTimeItems('qwen2vl', pairs, times);
  t.same(texts(items), ['[6]'], 'the grid alone: the render stage wraps it in <|vision_start|> … <|vision_end|>');
  const e = items[0] as EmbeddingItem;
  t.equal(visual, 6);
  t.same(sections(e), [[0, 0, 1, 1, 2, 2], [0, 0, 0, 0, 0, 0], [0, 1, 0, 1, 0, 1], [0, 0, 0, 0, 0, 0]], '(t, h, w, 0) per token, t-major');
  t.equal(e.span, 3, 'the next text starts one past the largest position used (t = 2)');
  t.same(Array.from(e.embeddings), [0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23], "the pairs' embeddings one after another");
});

t.test('Qwen2.5-VL: step k at ⌊(time of frame 2k − time of frame 0) · 2⌋: 0, 2, 6', async (t) => {
  const { items } = modelTimeItems('qwen25vl', pairs, times);
  const e = items[0] as EmbeddingItem;
  t.same(sections(e)[0], [0, 0, 2, 2, 6, 6], 'pairs start at 0 s, 1 s, 3 s; 2 positions a second');
  t.equal(e.span, 7);
  const uneven = modelTimeItems('qwen25vl', pairs, [10, 10.1, 10.4, 12, 12.75]).items[0] as EmbeddingItem;
  t.same(sections(uneven)[0], [0, 0, 0, 0, 5, 5], 'from the first frame, not from 0: ⌊0.4·2⌋ = 0, ⌊2.75·2⌋ = 5');
});

t.test('Qwen3-VL: `<ts seconds>` before each pair (Python .1f: ties to even), each grid at t = 0', async (t) => {
  const { items, visual } = modelTimeItems('qwen3vl', pairs, times);
  // means 0.25, 1.25, 3: Python's f"{0.25:.1f}" is '0.2' and f"{1.25:.1f}" '1.2' (exact binary ties round to even)
  t.same(texts(items), ['<0.2 seconds>', '[2]', '<1.2 seconds>', '[2]', '<3.0 seconds>', '[2]']);
  t.equal(visual, 6);
  for (const e of items.filter((it): it is EmbeddingItem => 'embeddings' in it)) {
    t.same(sections(e), [[0, 0], [0, 0], [0, 1], [0, 0]]);
    t.equal(e.span, 2, 'a one-step 1×2 grid spans max(h, w) = 2');
  }
  t.same(texts(modelTimeItems('qwen3vl', pairs, [0.1, 0.3, 0.7, 0.75, 59.94]).items).filter((x) => x[0] === '<'), ['<0.2 seconds>', '<0.7 seconds>', '<59.9 seconds>'],
    'means 0.2, 0.725, 59.94 rounded to one decimal');
});

t.test('bad grids: ERR_INVALID_ARG', async (t) => {
  t.throws(() => modelTimeItems('qwen2vl', pairs.slice(0, 2), times), { code: 'ERR_INVALID_ARG', message: /make 3 pairs/ });
  t.throws(() => modelTimeItems('qwen2vl', [pair(0), { ...pair(1), nx: 3 }, pair(2)], times), { code: 'ERR_INVALID_ARG' });
  t.throws(() => modelTimeItems('qwen2vl', [], []), { code: 'ERR_INVALID_ARG' });
});

t.test('the option: the default on the native strategy of a Qwen-VL model; ERR_UNSUPPORTED elsewhere', async (t) => {
  const qwen = { vision: true, projectorType: 'qwen2.5vl_merger' };
  const llava = { vision: true, projectorType: 'mlp' };
  const video = { isImage: false, audio: false, subtitles: false };
  t.equal(planModelTime('native', qwen, undefined, video), 'qwen25vl', 'unset: the family layout');
  t.equal(planModelTime('native', qwen, 'model', video), 'qwen25vl');
  t.equal(planModelTime('native', qwen, 'none', video), undefined, "'none': libmtmd's layout");
  t.equal(planModelTime('concat', qwen, undefined, video), undefined, 'a pooled method keeps its own');
  t.equal(planModelTime('native', llava, undefined, video), undefined);
  t.equal(planModelTime('native', qwen, undefined, { ...video, isImage: true }), undefined, "an image: libmtmd's, the same layout");
  t.equal(planModelTime('native', qwen, undefined, { ...video, subtitles: true }), undefined, "unset with subtitles: libmtmd's, cues between the frames");
  t.throws(() => planModelTime('native', qwen, 'model', { ...video, audio: true }), { code: 'ERR_UNSUPPORTED', message: /sound/ });
  t.throws(() => checkModelTimeOption('model', 'auto', llava), { code: 'ERR_UNSUPPORTED', message: /projector is mlp/ });
  t.throws(() => checkModelTimeOption('model', 'slowfast', qwen), { code: 'ERR_UNSUPPORTED', message: /native strategy/ });
  t.doesNotThrow(() => checkModelTimeOption('model', undefined, qwen));
});
