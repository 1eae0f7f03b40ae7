// The media budget before any decoding (issue 14): frame tokens on the native path, audio chunks
// and subtitle cues together. Numbers by hand; the per-image count checked against what libmtmd
// makes of the same pictures on the fixtures.
import t from 'tap';
import { ask, loadModel, type Model } from '../../lib/index.js';
import { imageChunkTokens, mediaBudget, mediaBudgetError, planVideo } from '../../lib/pipeline/index.js';
import { smartResize, imageChunksOf } from '../../lib/pipeline/media-budget.js';
import type { SubtitleCue, VideoProbe } from '../../lib/video/types.js';
import { media } from '../fixtures/media.js';
import { tinyModels } from '../fixtures/tiny-models.js';

const m = await tinyModels();
const omni: Model = await loadModel({ model: m.qwen2vlModel, mmproj: m.qwen25OmniMmproj, threads: 2 });
t.teardown(() => omni.dispose());

const probe = (duration: number): VideoProbe => ({
  source: 'hand', format: 'mp4', duration, startTime: 0, bitRate: null, isImage: false, isLive: false,
  audio: { startTime: 0, duration } as never, video: { avgFps: 30, displayWidth: 384, displayHeight: 256 } as never, subtitles: [],
});
const query = { strategy: 'auto' as const, timeTokens: 'none' as const, preamble: false, contextSize: 4096, fit: 'stretch' as const };
const omniInfo = { vision: true, audio: true, audioSampleRate: 16000, imageSize: 112, patchSize: 14, imageGrid: { nx: 16, ny: 16 }, tokensPerImage: 256,
  mrope: true, architecture: 'qwen2vl', projectorType: 'qwen2.5o' } as never;
const llavaInfo = { vision: true, audio: false, imageSize: 112, patchSize: 14, imageGrid: { nx: 8, ny: 8 }, tokensPerImage: 64, mrope: false,
  architecture: 'llama', projectorType: 'mlp' } as never;
const chars = (s: string) => s.length; // an independent token counter: one token a character

t.test('image tokens of a dynamic-size tower, by hand', async (tt) => {
  // align = patch 14 × merge 2 = 28 px, 8 to 4096 tokens
  tt.same(smartResize(112, 112, 28, 8 * 784, 4096 * 784), [112, 112]);
  tt.equal(imageChunkTokens(omniInfo, 112, 112), 16, '4 × 4');
  tt.equal(imageChunkTokens(omniInfo, 448, 448), 256, '16 × 16');
  tt.equal(imageChunkTokens(omniInfo, 384, 256), 14 * 9, '384/28 = 13.7 → 14, 256/28 = 9.1 → 9');
  tt.equal(imageChunkTokens(omniInfo, 200, 60), 7 * 2, '7.1 → 7, 2.1 → 2');
  // 20×20 → 28×28 = 1 token < 8: scaled by √(8·784 / 400) = 3.96 and rounded up: 3 × 3
  tt.equal(imageChunkTokens(omniInfo, 20, 20), 9);
  // 3000×2000 → 107 × 71 > 4096: scaled by √(6e6 / (4096·784)) = 1.3669 and rounded down: 78 × 52
  tt.equal(imageChunkTokens(omniInfo, 3000, 2000), 78 * 52);
  tt.equal(imageChunkTokens(llavaInfo, 384, 256), 64, 'a fixed-size encoder: its count at load, whatever the picture');
});

t.test('image tokens: what libmtmd makes of the same pictures on the fixtures', async (tt) => {
  const picture = (w: number, h: number) => ({ t: 0, width: w, height: h, rgb: new Uint8Array(w * h * 3).fill(90) });
  const measured = async (model: Model, w: number, h: number) => {
    const ctx = await model.createContext({ contextSize: 2048 });
    try {
      return (await ctx.prefillMedia(model.mediaMarker, [picture(w, h)])).mediaTokens;
    } finally { ctx.dispose(); }
  };
  for (const [w, h] of [[112, 112], [384, 256], [200, 60], [20, 20]] as const) {
    tt.equal(imageChunkTokens(omni.info, w, h), await measured(omni, w, h), `qwen2.5o ${w}×${h}`);
  }
  for (const [name, mmproj, llm] of [['llava', m.mmproj, m.model], ['internvl', m.internvlMmproj, m.model], ['qwen2vl', m.qwen2vlMmproj, m.qwen2vlModel]] as const) {
    const model = await loadModel({ model: llm, mmproj, threads: 2 });
    tt.equal(imageChunkTokens(model.info, 112, 112), await measured(model, 112, 112), `${name} 112×112`);
    model.dispose();
  }
});

t.test('image chunks of a layout: pairs merge only side by side with nothing between', async (tt) => {
  const M = '\u0000';
  const f = (i: number) => ({ kind: 'frame' as const, index: i, t: i });
  const a = { kind: 'audio' as const, start: 0, end: 1 };
  tt.equal(imageChunksOf(`${M}${M}${M}${M}`, [f(0), f(1), f(2), f(3)], 2), 2);
  tt.equal(imageChunksOf(`${M}${M}${M}`, [f(0), f(1), f(2)], 2), 2, 'the odd frame alone');
  tt.equal(imageChunksOf(`${M}${M}${M}${M}`, [f(0), f(1), f(2), f(3)], 1), 4, 'no temporal merge');
  tt.equal(imageChunksOf(`${M}${M}${M}`, [f(0), a, f(1)], 2), 2, 'a sound between');
  tt.equal(imageChunksOf(`${M}x${M}${M}`, [f(0), f(1), f(2)], 2), 2, 'text after frame 0: frames 1 and 2 pair');
  tt.equal(imageChunksOf(`${M}${M}x${M}`, [f(0), f(1), f(2)], 2), 2);
  tt.equal(imageChunksOf(`${M}x${M}x${M}`, [f(0), f(1), f(2)], 2), 3);
});

t.test('the whole budget of a plan, by hand', async (tt) => {
  // padded (libmtmd's form): 750 per clip
  const plan = planVideo(probe(4), omniInfo, { ...query, frames: 3, audio: 'interleave', audioWindow: 2, audioLength: 'padded' });
  // frames at 0, 2.2, 2.6: [f0] [sound 0-2] [f1 f2] [sound 2-4]
  const b = mediaBudget(plan, probe(4), omniInfo, [0, 2.2, 2.6], [], chars);
  tt.same(b, { frames: 3, imageChunks: 2, frameTokens: 2 * 16, audioSeconds: 4, audioChunks: 2, audioTokens: 1500, cues: 0, cueTokens: 0, total: 1532 });
  // real length (the default): 2 s = 200 mel frames → 100 → 50 per clip
  const real = mediaBudget(planVideo(probe(4), omniInfo, { ...query, frames: 3, audio: 'interleave', audioWindow: 2 }), probe(4), omniInfo, [0, 2.2, 2.6], [], chars);
  tt.match(real, { imageChunks: 2, audioChunks: 2, audioTokens: 100, total: 132 });
  // a cue at 2.3 s goes after frame 1 and keeps frames 1 and 2 apart: three images; its line is 12 characters
  const cue: SubtitleCue[] = [{ start: 2.3, end: 2.4, text: 'x' }];
  const c = mediaBudget(planVideo(probe(4), omniInfo, { ...query, frames: 3, audio: 'interleave', audioWindow: 2, audioLength: 'padded', subtitles: true }), probe(4), omniInfo, [0, 2.2, 2.6], cue, chars);
  tt.same(c, { frames: 3, imageChunks: 3, frameTokens: 48, audioSeconds: 4, audioChunks: 2, audioTokens: 1500, cues: 1, cueTokens: '\n[2.3s] "x"\n'.length, total: 48 + 1500 + 12 });
  // prefix: one clip, then the frames (a pair and one alone)
  const p = mediaBudget(planVideo(probe(4), omniInfo, { ...query, frames: 3, audio: 'prefix', audioLength: 'padded' }), probe(4), omniInfo, [0, 2.2, 2.6], [], chars);
  tt.match(p, { imageChunks: 2, frameTokens: 32, audioChunks: 1, audioTokens: 750, total: 782 });
  // a pooled plan: the strategy's count and the transcript before the question
  const pooled = mediaBudget(planVideo(probe(4), llavaInfo, { ...query, strategy: 'concat', frames: 4, subtitles: true }), probe(4), llavaInfo, [0, 1, 2, 3],
    [{ start: 0.5, end: 1, text: 'one' }], chars);
  tt.match(pooled, { frames: 4, frameTokens: 4 * 64, cues: 1, cueTokens: 'Subtitles:\n[0.5s] "one"\n'.length, total: 256 + 24 });
  // an encoder family whose audio count is not known here: not counted (libmtmd's own count stops the prefill)
  const other = { ...(omniInfo as object), projectorType: 'ultravox' } as never;
  tt.match(mediaBudget(planVideo(probe(4), other, { ...query, frames: 2, audio: 'prefix' }), probe(4), other, [0, 2], [], chars), { audioChunks: 1, audioTokens: null });

  tt.equal(mediaBudgetError(c, 1560, 4096, 'native'), null, 'fits exactly');
  const e = mediaBudgetError(c, 1559, 4096, 'native')!;
  tt.match(e, { code: 'ERR_CONTEXT_FULL', details: { frames: 3, frameTokens: 48, audioSeconds: 4, audioChunks: 2, audioTokens: 1500, cues: 1, cueTokens: 12, needed: 1560, budget: 1559 } });
  tt.match(e.message, /3 frame\(s\) \(48 tokens\) \+ 4\.0 s of audio in 2 chunk\(s\) \(1500 tokens\) \+ 1 subtitle cue\(s\) \(12 tokens\) need 1560 tokens/);
});

t.test('ask: frames and sound over the context fail before any decoding, saying what was asked', async (tt) => {
  const video = await media.toneBurst();
  const stages = new Set<string>();
  // 4 frames in 1 s windows: 4 × 16 + 4 × 750 = 3064 > 3300 - 256; the sound alone (3000) would fit
  const e = await ask(video, 'Q?', { model: omni, frames: 4, audio: 'interleave', audioWindow: 1, audioLength: 'padded', contextSize: 3300, maxTokens: 1, onProgress: ({ stage }) => stages.add(stage) }).catch((x: unknown) => x);
  tt.match(e, { code: 'ERR_CONTEXT_FULL', details: { frames: 4, imageChunks: 4, frameTokens: 64, audioChunks: 4, audioTokens: 3000, audioSeconds: 4, needed: 3064, budget: 3044 } });
  tt.same([...stages], [], 'nothing decoded, encoded or evaluated');
  tt.match((e as Error).message, /4 frame\(s\) \(64 tokens\) \+ 4\.0 s of audio in 4 chunk\(s\) \(3000 tokens\) need 3064 tokens/);
  // the budget is what libmtmd then makes: the same question with room
  const r = await ask(video, 'Q?', { model: omni, frames: 4, audio: 'interleave', audioWindow: 1, audioLength: 'padded', contextSize: 4096, maxTokens: 1, temperature: 0 });
  tt.equal(r.tokens.visual, 3064);
  // many native frames: counted before decoding too (100 pairs of 16)
  const many = await ask(video, 'Q?', { model: omni, frames: 100, contextSize: 1024, maxTokens: 1 }).catch((x: unknown) => x);
  tt.match(many, { code: 'ERR_CONTEXT_FULL', details: { frames: 100, imageChunks: 50, frameTokens: 800, budget: 768 } });
  tt.match((many as Error).message, /100 frame\(s\) \(800 tokens in 50 image chunk\(s\)\)/);
});

t.test('ask: subtitle cues are in the budget, tokenized before decoding', async (tt) => {
  const video = await media.movText();
  // 4 frames at 0, 1.3, 2.63, 3.97; cues at 0.5 and 1.5 go after the first pair, 3.25 after the second
  const pieces = ['\n[0.5s] "The counter starts"\n[1.5s] "Second line / of a cue"\n', '\n[3.3s] "A bold end"\n'];
  const cueTokens = pieces.reduce((n, s) => n + omni.handle.countTokens(s), 0);
  const stages = new Set<string>();
  // budget 64 - 16 = 48: the frames (32) fit, frames and cues do not
  const e = await ask(video, 'Q?', { model: omni, frames: 4, subtitles: true, contextSize: 64, maxTokens: 1, onProgress: ({ stage }) => stages.add(stage) }).catch((x: unknown) => x);
  tt.match(e, { code: 'ERR_CONTEXT_FULL', details: { frames: 4, frameTokens: 32, cues: 3, cueTokens, needed: 32 + cueTokens, budget: 48 } });
  tt.same([...stages], [], 'nothing decoded');
  // what the cues really add to the prompt: the estimate, or one less where the last line runs into the question
  const gen = { model: omni, frames: 4, contextSize: 2048, maxTokens: 1, temperature: 0 };
  const [plain, subs] = await Promise.all([ask(video, 'Q?', gen), ask(video, 'Q?', { ...gen, subtitles: true })]);
  const added = subs.tokens.prompt - plain.tokens.prompt;
  tt.ok(added <= cueTokens && added >= cueTokens - 1, `the cues added ${added} tokens; estimated ${cueTokens}`);
  tt.equal(subs.tokens.visual, 32);
});
