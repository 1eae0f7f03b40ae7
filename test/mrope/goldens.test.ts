// vidlm's Qwen layouts against goldens made by transformers' own processors and get_rope_index
// (python/goldens/qwen_rope.py → test/goldens/qwen-rope.json): prompt text and position ids exactly.
// The goldens' token unit: each special token is one token, every other character one token.
import { readFileSync } from 'node:fs';
import t from 'tap';
import {
  mropePositions, qwen3Timestamp, qwenImageParts, qwenItems, qwenVideoParts, type MropeGrid, type QwenFamily, type QwenPart, type QwenVideoOptions,
} from '../../lib/mrope/index.js';
import { qwenFamilyOf } from '../../lib/pipeline/plan.js';

interface Video { num_frames: number; grid_h: number; grid_w: number; fps: number; frames_indices: number[] }
interface Golden {
  family: QwenFamily; name: string; prompt: string; videos?: Video[]; images?: { grid_h: number; grid_w: number }[];
  divergence?: string; text: string; position_ids: number[][];
}
const goldens = (JSON.parse(readFileSync(new URL('../goldens/qwen-rope.json', import.meta.url), 'utf8')) as { cases: Golden[] }).cases;

const SPECIAL = ['<|vision_start|>', '<|vision_end|>', '<|image_pad|>', '<|video_pad|>'];
/** The goldens' shim tokenizer: one token per special token, one per other character. */
function countTokens(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; n++) i += SPECIAL.find((s) => text.startsWith(s, i))?.length ?? 1;
  return n;
}

const VIDEO = '<|vision_start|><|video_pad|><|vision_end|>';
const IMAGE = '<|vision_start|><|image_pad|><|vision_end|>';

/** The golden's prompt with each media placeholder replaced by vidlm's layout for it. */
function vidlmParts(g: Golden, opts: QwenVideoOptions = {}): QwenPart[] {
  const parts: QwenPart[] = [];
  let vi = 0, ii = 0;
  for (const piece of g.prompt.split(/(<\|vision_start\|><\|(?:video|image)_pad\|><\|vision_end\|>)/)) {
    if (piece === VIDEO) {
      const v = g.videos![vi++]!;
      // Qwen3-VL: the frames' times in the source video; Qwen2/2.5-VL: frames sampled at fps from 0
      const times = g.family === 'qwen3vl' ? v.frames_indices.map((i) => i / v.fps) : Array.from({ length: v.num_frames }, (_, k) => k / v.fps);
      parts.push(...qwenVideoParts(g.family, { times, h: v.grid_h / 2, w: v.grid_w / 2 }, opts));
    } else if (piece === IMAGE) {
      const im = g.images![ii++]!;
      parts.push(...qwenImageParts(im.grid_h / 2, im.grid_w / 2));
    } else if (piece) parts.push({ kind: 'text', text: piece });
  }
  return parts;
}

function render(parts: QwenPart[], pad: string): string {
  return parts.map((p) => (p.kind === 'text' ? p.text : pad.repeat(p.t.length * p.h * p.w))).join('');
}

/** t, h, w rows of the layout's positions (the fourth section is llama.cpp's, not in get_rope_index). */
function rows(parts: QwenPart[]): number[][] {
  const l = mropePositions(qwenItems(parts, countTokens));
  const n = l.nTokens;
  return [0, 1, 2].map((s) => Array.from(l.positions.subarray(s * n, (s + 1) * n)));
}

for (const g of goldens) {
  t.test(`${g.family}: ${g.name}`, async (t) => {
    const parts = vidlmParts(g);
    const pad = g.images ? '<|image_pad|>' : '<|video_pad|>';
    t.equal(render(parts, pad), g.text, 'prompt text equals the processor\'s');
    if (g.divergence) {
      // transformers at that commit truncates second_per_grid_t (0.5) to 0: all pairs at one temporal index.
      // vidlm keeps the real spacing (vLLM's rule and transformers' own docstring example); record the difference.
      t.equal(countTokens(g.text), g.position_ids[0]!.length);
      const vision = g.position_ids[0]!.filter((_, i) => tokenAt(g.text, i) === '<|video_pad|>');
      t.equal(new Set(vision).size, 1, `the golden shows the cast: ${g.divergence}`);
      t.not(new Set(rows(parts)[0]!.filter((_, i) => tokenAt(g.text, i) === '<|video_pad|>')).size, 1, 'vidlm spaces the pairs by their time');
      return;
    }
    t.same(rows(parts), g.position_ids, 'position ids equal get_rope_index\'s');
  });
}

function tokenAt(text: string, index: number): string {
  let n = 0;
  for (let i = 0; i < text.length; n++) {
    const s = SPECIAL.find((x) => text.startsWith(x, i)) ?? text[i]!;
    if (n === index) return s;
    i += s.length;
  }
  return '';
}

t.test('the goldens catch a changed time rule', async (t) => {
  const q25 = goldens.filter((g) => g.family === 'qwen25vl' && g.videos && !g.divergence);
  t.ok(q25.length >= 3);
  for (const g of q25) {
    // dropping tokens_per_second (1 position per second instead of 2) moves every pair after the first
    t.notSame(rows(vidlmParts(g, { tokensPerSecond: 1 })), g.position_ids, `${g.name}: without tokens_per_second the positions differ`);
  }
  // Qwen2-VL's rule (consecutive steps) on Qwen2.5-VL's goldens: differs too
  const g0 = q25[0]!;
  t.notSame(rows(vidlmParts({ ...g0, family: 'qwen2vl' })), g0.position_ids, 'consecutive temporal steps are not Qwen2.5-VL\'s');

  const q3 = goldens.find((g) => g.family === 'qwen3vl' && g.name.includes('tie'))!;
  // 0.25 s and 1.25 s are exact binary ties: Python's '.1f' gives 0.2 and 1.2; JS toFixed (half up) 0.3 and 1.3
  t.equal(qwen3Timestamp(0.25), '<0.2 seconds>');
  t.equal(qwen3Timestamp(1.25), '<1.2 seconds>');
  const halfUp = render(vidlmParts(q3), '<|video_pad|>').replace(/<(\d+\.\d+) seconds>/g, (_, s: string) => `<${(Number(s) + 0.05).toFixed(1)} seconds>`);
  t.not(halfUp, q3.text, 'rounding ties up (toFixed) would not match the processor\'s text');
  t.match(q3.text, /<0\.2 seconds>.*<1\.2 seconds>/s, 'the golden has the processor\'s rounding');
  // per-frame timestamps (no pair mean) would not match either
  const perFrame = q3.text.replace('<0.2 seconds>', '<0.0 seconds>');
  t.not(render(vidlmParts(q3), '<|video_pad|>'), perFrame);
});

t.test('the family follows the projector (a Qwen2.5-VL LLM is architecture qwen2vl too)', async (t) => {
  t.equal(qwenFamilyOf('qwen2vl_merger'), 'qwen2vl');
  t.equal(qwenFamilyOf('qwen2.5vl_merger'), 'qwen25vl');
  t.equal(qwenFamilyOf('qwen3vl_merger'), 'qwen3vl');
  t.equal(qwenFamilyOf('qwen2.5o'), null);
  t.equal(qwenFamilyOf('mlp'), null);
  t.equal(qwenFamilyOf(null), null);
});

t.test('Qwen2.5-VL on uneven frame times (hand-computed) and bad input', async (t) => {
  // pairs start at 0, 3.0 and 7.2 s (the odd last frame pairs with itself): t = ⌊s · 2⌋ = 0, 6, 14
  const g = qwenVideoParts('qwen25vl', { times: [0, 0.5, 3.0, 3.5, 7.2], h: 1, w: 2 })[1]!;
  t.same(g, { kind: 'grid', t: [0, 6, 14], h: 1, w: 2 });
  // relative to the first pair: a segment from 60 s gives the same indices as one from 0
  t.same(qwenVideoParts('qwen25vl', { times: [60, 60.5, 63, 63.5, 67.2], h: 1, w: 2 })[1], g);
  // 1.4999999999999998 s (1.5 after float noise) · 2 is 2.9999999999999996: counted as 3
  t.same((qwenVideoParts('qwen25vl', { times: [0, 1, 1.4999999999999998], h: 1, w: 1 })[1] as MropeGrid).t, [0, 3]);
  // Qwen3-VL: the odd last frame's timestamp is its own time; timestamps are absolute
  t.equal((qwenVideoParts('qwen3vl', { times: [60, 61, 62.5], h: 1, w: 1 })[2] as { text: string }).text, '<|vision_end|><62.5 seconds><|vision_start|>');
  for (const bad of [{ times: [], h: 1, w: 1 }, { times: [1, 0], h: 1, w: 1 }, { times: [0], h: 0, w: 1 }, { times: [Number.NaN], h: 1, w: 1 }]) {
    t.throws(() => qwenVideoParts('qwen3vl', bad), { code: 'ERR_INVALID_ARG' });
  }
  t.throws(() => qwenVideoParts('qwen25vl', { times: [0], h: 1, w: 1 }, { tokensPerSecond: 0 }), { code: 'ERR_INVALID_ARG' });
  t.throws(() => qwenVideoParts('qwen4' as QwenFamily, { times: [0], h: 1, w: 1 }), { code: 'ERR_INVALID_ARG' });
});
