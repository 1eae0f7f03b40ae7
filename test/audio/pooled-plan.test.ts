// Audio on the pooled strategies (issue 14), the pure part: where each audio chunk goes among the
// pooled frame blocks and which time marker it carries. Every expected plan is written out by hand
// from video-llm-methods.md §2.4 (LITA: idx = round(99 · t / duration), round half to even).
import t from 'tap';
import { assembleWithSlots, assemble as assemblePooled, isSlotItem, type SlottedPlan } from '../../lib/assembly/index.js';
import type { FrameGrid } from '../../lib/assembly/types.js';
import { mediaOrder } from '../../lib/audio/index.js';
import type { AudioMedia } from '../../lib/audio/media.js';
import { audioSlots } from '../../lib/pipeline/assemble.js';
import { assemble, frameVariant, planVideo, render, QUESTION, type ChatTemplate, type VideoPlan } from '../../lib/pipeline/index.js';
import type { VideoProbe } from '../../lib/video/types.js';

// one frame's grid: 2×2 tokens of dim 1, values 10·k + i, so every embedding says where it came from
const grid = (t: number, k: number): FrameGrid => ({ t, nx: 2, ny: 2, dim: 1, data: Float32Array.from([0, 1, 2, 3], (i) => 10 * k + i) });
const times = [0.5, 1.5, 2.5, 3.5];
const grids = times.map(grid);

/** The plan as short strings: text as is, embeddings as E[values], slots as A<k>. */
function show(plan: SlottedPlan): string[] {
  return plan.map((it) => (isSlotItem(it) ? `A${it.slot}` : 'embeddings' in it ? `E[${Array.from(it.embeddings).join(',')}]` : it.text));
}

t.test('audioSlots: each chunk goes before the frame that follows it in the media order', async (t) => {
  // 4 s of sound in 2 s windows, frames at 0.5 1.5 2.5 3.5: f0 f1 A[0,2) f2 f3 A[2,4)
  const steps = mediaOrder(times, [0, 4], 'interleave', 2);
  t.same(steps.map((s) => (s.kind === 'frame' ? `f${s.index}` : `a${s.start}`)), ['f0', 'f1', 'a0', 'f2', 'f3', 'a2']);
  t.same(audioSlots(steps), [{ t: 0, before: 2.5 }, { t: 2, before: Infinity }]);
  t.same(audioSlots(mediaOrder(times, [0, 4], 'prefix')), [{ t: 0, before: 0.5 }], 'prefix: before the first frame');
  // 1 s windows: a window with no frame after the previous chunk still keeps its order
  t.same(audioSlots(mediaOrder([0.5, 3.5], [0, 4], 'interleave', 1)),
    [{ t: 0, before: 3.5 }, { t: 1, before: 3.5 }, { t: 2, before: 3.5 }, { t: 3, before: Infinity }]);
});

t.test('concat + LITA time tokens: every chunk carries the token of its start, computed as for frames', async (t) => {
  const slots = audioSlots(mediaOrder(times, [0, 4], 'interleave', 2));
  const plan = assembleWithSlots('concat', grids, slots, { timeTokens: 'lita', duration: 4 });
  // frames: 99·0.5/4 = 12.375 → 12; 99·1.5/4 = 37.125 → 37; 2.5 → 61.875 → 62; 3.5 → 86.625 → 87
  // chunks: 0 s → 0; 2 s → 49.5 → 50 (half to even)
  t.same(show(plan), ['<t12>', 'E[0,1,2,3]', ' <t37>', 'E[10,11,12,13]', ' <t0>', 'A0', '<t62>', 'E[20,21,22,23]', ' <t87>', 'E[30,31,32,33]', '<t50>', 'A1']);
  // text timestamps, the same function as the frames' ([{t}s], one or two decimals)
  t.same(show(assembleWithSlots('concat', grids, slots, { timeTokens: 'text' })),
    ['[0.5s]', 'E[0,1,2,3]', ' [1.5s]', 'E[10,11,12,13]', ' [0.0s]', 'A0', '[2.5s]', 'E[20,21,22,23]', ' [3.5s]', 'E[30,31,32,33]', '[2.0s]', 'A1']);
  // prefix: the whole sound first, with the token of its start
  t.same(show(assembleWithSlots('concat', grids, [{ t: 0, before: 0.5 }], { timeTokens: 'lita', duration: 4 })),
    ['<t0>', 'A0', '<t12>', 'E[0,1,2,3]', ' <t37>', 'E[10,11,12,13]', ' <t62>', 'E[20,21,22,23]', ' <t87>', 'E[30,31,32,33]']);
});

t.test('slowfast and vcgpt: chunks go into the time-ordered run (fast / temporal tokens), pooled values untouched', async (t) => {
  const slots = audioSlots(mediaOrder(times, [0, 4], 'interleave', 2));
  const opts = { timeTokens: 'lita' as const, duration: 4, slowFrames: 2, pool: 2 };
  const plan = assembleWithSlots('slowfast', grids, slots, opts);
  // fast = each frame's mean (1.5, 11.5, 21.5, 31.5); slow = frames round(linspace(0, 3, 2)) = 0, 3, 2×2 pooled to one token
  t.same(show(plan), ['<t12>', 'E[1.5]', '<t37>', 'E[11.5]', '<t0>', 'A0', '<t62>', 'E[21.5]', '<t87>', 'E[31.5]', '<t50>', 'A1', '<t12>', 'E[1.5]', '<t87>', 'E[31.5]']);
  // the embeddings are exactly those of the plan without audio
  const embeddings = (p: SlottedPlan) => p.flatMap((it) => ('embeddings' in it ? Array.from(it.embeddings) : []));
  t.same(embeddings(plan), embeddings(assemblePooled('slowfast', grids, opts)));
  // Video-ChatGPT: temporal rows (padded to 6), then the spatial mean; chunks stay among the temporal rows
  const vc = assembleWithSlots('vcgpt', grids, slots, { timeTokens: 'text', padTo: 6 });
  t.same(show(vc), ['[0.5s]', 'E[1.5]', '[1.5s]', 'E[11.5]', '[0.0s]', 'A0', '[2.5s]', 'E[21.5]', '[3.5s]', 'E[31.5]', '[2.0s]', 'A1', 'E[0,0,15,16,17,18]']);
  // pllava and bilinear are per frame like concat
  t.same(show(assembleWithSlots('pllava', grids, slots, { downscale: 2 })), ['E[1.5,11.5]', 'A0', 'E[21.5,31.5]', 'A1']);
  t.throws(() => assembleWithSlots('concat', grids, [{ t: 0, before: 3 }, { t: 1, before: 1 }]), { code: 'ERR_INVALID_ARG' }, 'slots out of order');
});

const mixedInfo = {
  vision: true, audio: true, audioSampleRate: 16000, imageSize: 112, imageGrid: { nx: 8, ny: 8 }, tokensPerImage: 64, mrope: false,
  architecture: 'qwen2', projectorType: 'mlp', audioProjectorType: 'qwen2a',
} as never;
const probe = (duration: number): VideoProbe => ({
  source: 'hand', format: 'mp4', duration, startTime: 0, bitRate: null, isImage: false, isLive: false,
  audio: { startTime: 0, duration } as never, video: { avgFps: 30 } as never, subtitles: [],
});
// libmtmd's padded form: 750 per started 30 s
const query = { strategy: 'concat' as const, timeTokens: 'none' as const, preamble: false, fit: 'pad' as const, audioLength: 'padded' as const };

t.test('plan: a pooled strategy with audio, the budget counting the pooled frames and the clips', async (t) => {
  const p = planVideo(probe(60), mixedInfo, { ...query, contextSize: 4096, audio: 'prefix' });
  t.equal(p.path, 'pooled');
  t.same(p.audio, { mode: 'prefix', window: 29.9, projector: 'qwen2a', rate: 16000, length: 'padded' });
  // 2048 - 256 = 1792: 60 s in one clip is 750 · 3 = 2250 > 1792 (refused on its own)
  t.throws(() => planVideo(probe(60), mixedInfo, { ...query, contextSize: 2048, audio: 'prefix' }), { code: 'ERR_CONTEXT_FULL', details: { audioTokens: 2250 } });
  // 20 s: 750 tokens; with 8 concat frames (512) 1262 ≤ 1792; with 17 frames (1088) 1838 > 1792 although each part fits alone
  t.equal(planVideo(probe(20), mixedInfo, { ...query, contextSize: 2048, audio: 'prefix' }).count, 8);
  t.throws(() => planVideo(probe(20), mixedInfo, { ...query, frames: 17, contextSize: 2048, audio: 'prefix' }),
    { code: 'ERR_CONTEXT_FULL', details: { option: 'audio', audioTokens: 750, frames: 17, frameTokens: 1088, needed: 1838, budget: 1792 } });
});

t.test('assemble + render: the audio items sit in the prefix, in time order, outside the image wrap', async (t) => {
  const plan: VideoPlan = { strategy: 'concat', path: 'pooled', sample: { uniform: 4 }, frame: {}, variant: frameVariant({}), count: 4, byCount: true, maxFrames: 10, reserve: 0, audio: { mode: 'interleave', window: 2, projector: 'qwen2a', rate: 16000, length: 'padded' } };
  const pcm = [new Float32Array([1]), new Float32Array([2])];
  const audio: AudioMedia = { steps: mediaOrder(times, [0, 4], 'interleave', 2), chunks: pcm.map((a) => ({ audio: a })), warnings: [] };
  const a = assemble({ kind: 'grids', grids, ms: 0 }, plan, 4, { timeTokens: 'lita', preamble: false }, () => false, { audio });
  if (a.kind !== 'items') throw new Error('pooled');
  t.equal(a.visual, 16, 'pooled frame tokens only; libmtmd counts the clips when it encodes them');
  const template: ChatTemplate = {
    mediaMarker: '<m>',
    applyTemplate: (msgs) => msgs.map((m) => `[${m.role}]${m.content}`).join('') + '[assistant]',
    formatTurn: (_h, m) => `[${m.role}]${m.content}[assistant]`,
    imageWrap: { before: Int32Array.of(7), after: Int32Array.of(8) },
  };
  const r = render(template, a);
  if (r.prefix.kind !== 'plan') throw new Error('plan prefix');
  const kinds = r.prefix.plan.map((it) => ('audio' in it ? `A${it.audio[0]}` : 'tokens' in it ? `T${it.tokens.join('')}` : 'embeddings' in it ? `E${it.embeddings[0]}` : it.text));
  t.same(kinds, ['[user]<t12>', 'T7', 'E0', 'T8', ' <t37>', 'T7', 'E10', 'T8', ' <t0>', 'A1', '<t62>', 'T7', 'E20', 'T8', ' <t87>', 'T7', 'E30', 'T8', '<t50>', 'A2']);
  t.same(r.rest, [{ text: `\n${QUESTION}[assistant]` }]);
  t.equal(r.history[0]!.content, `<t12><m> <t37><m> <t0><m><t62><m> <t87><m><t50><m>\n${QUESTION}`, 'one media marker per block and per clip');
});
