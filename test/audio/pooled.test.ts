// Audio on the pooled strategies, end to end (issue 14) on the tiny mixed fixture: the LLaVA vision
// tower + the Qwen2-Audio encoder in one mmproj, for the 1-D-RoPE qwen2 LLM. What reaches the
// context is recorded at Context.prefill, the boundary to the addon.
import t from 'tap';
import { ask, loadModel, localize } from '../../lib/index.js';
import { audioClipTokens } from '../../lib/audio/index.js';
import { Context, type ContextPlan } from '../../lib/inference/context.js';
import { parseStartEnd, parseTimes } from '../../lib/time/index.js';
import { media } from '../fixtures/media.js';
import { tinyModels } from '../fixtures/tiny-models.js';
import { tinyModel } from '../inference/helpers.js';

const m = await tinyModels();
const model = await loadModel({ model: m.qwen2Model, mmproj: m.llavaAudioMmproj, threads: 2 });
t.teardown(() => model.dispose());
// libmtmd's padded form (750 per clip); test/audio/real-length.test.ts counts the real length on this fixture
const gen = { maxTokens: 4, temperature: 0, contextSize: 4096, audioLength: 'padded' as const };
const video = await media.toneBurst(); // 4 s, a 1 kHz burst at 2.0–2.5 s

// every plan handed to Context.prefill, in call order
const prefilled: ContextPlan[] = [];
const original = Context.prototype.prefill;
Context.prototype.prefill = function (plan, opts) {
  prefilled.push(plan);
  return original.call(this, plan, opts);
};
t.teardown(() => { Context.prototype.prefill = original; });

/** The prefix plan as short strings: A<burst|quiet>:<samples> for an audio clip (the burst peaks at 0.5), E<count> for embeddings, text as is. */
function kinds(plan: ContextPlan): string[] {
  return plan.flatMap((it) => {
    if ('audio' in it) return [`A${it.audio.some((x) => Math.abs(x) > 0.3) ? 'burst' : 'quiet'}:${it.audio.length}`];
    if ('embeddings' in it) return [`E${it.count}`];
    if ('tokens' in it) return it.tokens.length ? ['T'] : [];
    return [it.text];
  });
}
const floats = (plan: ContextPlan) => plan.flatMap((it) => ('embeddings' in it ? Array.from(it.embeddings) : []));

t.test('the mixed fixture: vision and audio encoders, 1-D positions', async (tt) => {
  tt.equal(model.info.vision, true);
  tt.equal(model.info.audio, true);
  tt.equal(model.info.mrope, false);
  tt.equal(model.info.projectorType, 'mlp');
  tt.equal(model.info.audioProjectorType, 'qwen2a');
  tt.equal(model.info.tokensPerImage, 64);
});

t.test('concat + interleave: frames and clips prefilled in time order, visual = pooled + audio tokens', async (tt) => {
  prefilled.length = 0;
  const plain = await ask(video, 'What happens?', { model, strategy: 'concat', frames: 4, ...gen });
  const plainPlan = prefilled[0]!;
  prefilled.length = 0;
  const r = await ask(video, 'What happens?', { model, strategy: 'concat', frames: 4, audio: true, audioWindow: 2, timeTokens: 'text', ...gen });
  const plan = prefilled[0]!;
  // 120 frames at 30 fps: linspace(0, 119, 4, dtype=int) = 0, 39, 79, 119
  tt.same(r.frames.map((f) => f.t), [0, 39 / 30, 79 / 30, 119 / 30]);
  // windows [0,2) and [2,4): f0 f1 A[0,2) f2 f3 A[2,4); each clip 2 s at 16 kHz, stamped with its start
  tt.same(kinds(plan).filter((k) => k !== 'T'), [
    '<|im_start|>user\n[0.0s]', 'E64', ' [1.3s]', 'E64', ' [0.0s]', 'Aquiet:32000', '[2.63s]', 'E64', ' [3.97s]', 'E64', '[2.0s]', 'Aburst:32000',
  ]);
  // pooling never touches audio: the frame embeddings are the same floats as without sound
  tt.ok(floats(plan).length === 4 * 64 * 64 && floats(plan).every((x, i) => x === floats(plainPlan)[i]), 'frame embeddings identical with and without audio');
  // tokens.visual: 4 frames × 64 + 2 clips × 750 (libmtmd pads each clip to a 30 s Whisper chunk)
  tt.equal(plain.tokens.visual, 256);
  tt.equal(r.tokens.visual, 256 + 2 * audioClipTokens({ projector: 'qwen2a', rate: 16000, length: 'padded' }, 2)!);
  tt.equal(r.tokens.visual, 1756);
  // the prompt grows by the clips, their markers (<|audio_bos|> … <|audio_eos|>) and their time stamps
  tt.ok(r.tokens.prompt - plain.tokens.prompt > 1500, `prompt ${plain.tokens.prompt} → ${r.tokens.prompt}`);
});

t.test('pllava without time tokens: interleave and prefix, the pooled frames untouched', async (tt) => {
  prefilled.length = 0;
  await ask(video, 'What happens?', { model, strategy: 'pllava', frames: 4, ...gen });
  const plainPlan = prefilled[0]!;
  prefilled.length = 0;
  const r = await ask(video, 'What happens?', { model, strategy: 'pllava', frames: 4, audio: 'prefix', ...gen });
  // no time tokens: nothing between the pooled frames, so they are one block of 4 × 16 after the 4 s clip
  tt.same(kinds(prefilled[0]!).filter((k) => k !== 'T'), ['<|im_start|>user\n', 'Aburst:64000', 'E64']);
  tt.same(floats(prefilled[0]!), floats(plainPlan), 'the pooled (2×2 averaged) frames are the same floats with the sound before them');
  prefilled.length = 0;
  await ask(video, 'What happens?', { model, strategy: 'pllava', frames: 4, audio: 'interleave', audioWindow: 2, ...gen });
  // frames at 0, 1.3 | 2.63, 3.97: two frames, the first 2 s, two frames, the last 2 s
  tt.same(kinds(prefilled[0]!).filter((k) => k !== 'T'), ['<|im_start|>user\n', 'E32', 'Aquiet:32000', 'E32', 'Aburst:32000']);
  tt.same(floats(prefilled[0]!), floats(plainPlan), 'the same floats with the sound between them');
  tt.equal(r.tokens.visual, 4 * 16 + 750, 'pllava: 4 frames of 4×4 + one 30 s chunk');
});

t.test('localize a sound: the burst chunk carries the LITA token of its start', async (tt) => {
  prefilled.length = 0;
  const r = await localize(video, 'the alarm sounds', { model, frames: 8, audio: true, audioWindow: 1, ...gen, maxTokens: 16 });
  tt.equal(r.strategy, 'slowfast');
  const k = kinds(prefilled[0]!);
  // 1 s windows, duration 4: 99·0/4 = 0, 99·1/4 = 24.75 → 25, 99·2/4 = 49.5 → 50 (half to even), 99·3/4 = 74.25 → 74
  const before = (i: number) => (k[i - 1] ?? '').match(/<t\d+>$/)?.[0];
  const clips = k.flatMap((x, i) => (x.startsWith('A') ? [`${before(i)} ${x}`] : []));
  tt.same(clips, ['<t0> Aquiet:16000', '<t25> Aquiet:16000', '<t50> Aburst:16000', '<t74> Aquiet:16000']);
  // slowfast: 8 fast tokens + 4 slow frames of 4×4, plus 4 clips of 750
  tt.equal(r.tokens.visual, 8 + 4 * 16 + 4 * 750);
  // random weights: the answer means nothing, but it is held to the span format and parsed
  tt.match(r.text, /^<t\d+> <t\d+>$/);
  tt.type(r.start, 'number');
  // what a right answer would give: <t50> <t62> → round(50·4/99, 2) = 2.02 s, round(62·4/99, 2) = 2.51 s
  tt.same(parseStartEnd('<t50> <t62>', { duration: 4, mode: 'lita' }), [2.02, 2.51]);
  tt.same(parseTimes('the alarm: <t50> <t62>', { duration: 4, mode: 'lita' }).map((s) => [s.start, s.end]), [[2.02, 2.51]]);
});

t.test('Video-ChatGPT (question first): the clip is evaluated with the first question and still counted', async (tt) => {
  prefilled.length = 0;
  const r = await ask(video, 'What happens?', { model, strategy: 'vcgpt', frames: 2, audio: 'prefix', ...gen });
  tt.equal(prefilled.length, 0, 'nothing before the question');
  // vcgpt: max(2, 100) temporal rows + 8·8 spatial = 164, plus one 750-token clip
  tt.equal(r.tokens.visual, 164 + 750);
});

t.test('two questions with audio at once on one model give the same answer as one alone', async (tt) => {
  const q = { model, strategy: 'concat' as const, frames: 2, audio: 'prefix' as const, ...gen };
  const one = await ask(video, 'What do you hear?', q);
  const [a, b] = await Promise.all([ask(video, 'What do you hear?', q), ask(video, 'What do you hear?', q)]);
  tt.equal(a.text, one.text);
  tt.equal(b.text, one.text);
  tt.equal(a.tokens.visual, 128 + 750);
  tt.equal(b.tokens.prompt, one.tokens.prompt);
});

t.test('abort while an audio clip is being prefilled: the sequence is left as it was, the model answers again', async (tt) => {
  const pcm = new Float32Array(16000).map((_, i) => 0.5 * Math.sin((2 * Math.PI * 440 * i) / 16000));
  const plan: ContextPlan = [{ text: '<|im_start|>user\nlisten' }, { audio: pcm }, { text: ' what is it?<|im_end|>\n<|im_start|>assistant\n' }];
  const fresh = async () => {
    const ctx = await model.createContext({ contextSize: 2048 });
    try {
      const p = await ctx.prefill(plan);
      const g = await ctx.generate({ maxTokens: 4, temperature: 0 });
      return { evaluated: p.evaluated, mediaTokens: p.mediaTokens, text: g.text };
    } finally { ctx.dispose(); }
  };
  const reference = await fresh();
  tt.equal(reference.mediaTokens, 750);
  const ctx = await model.createContext({ contextSize: 2048 });
  tt.teardown(() => ctx.dispose());
  const ac = new AbortController();
  const seen: number[] = [];
  // parts: [text] [clip] [text]; the clip's first progress report (after <|audio_bos|>) lies in (1/3, 2/3)
  const e = await ctx.prefill(plan, { signal: ac.signal, onProgress: (f) => { seen.push(f); if (f > 1 / 3 && f < 2 / 3) ac.abort(); } }).catch((x: unknown) => x);
  tt.match(e, { code: 'ERR_ABORTED' });
  tt.ok(seen.some((f) => f > 1 / 3 && f < 2 / 3), `aborted inside the clip (progress ${seen.map((f) => f.toFixed(2)).join(' ')})`);
  tt.equal(ctx.nPast(0), 0, 'the text before the clip was taken back');
  const again = await ctx.prefill(plan);
  tt.equal(again.evaluated, reference.evaluated);
  tt.equal((await ctx.generate({ maxTokens: 4, temperature: 0 })).text, reference.text, 'the same answer as on a fresh context');
  // the pipeline too: abort an ask during the clips' prefill, then ask again
  const ac2 = new AbortController();
  const q = { model, strategy: 'concat' as const, frames: 2, audio: 'prefix' as const, ...gen };
  const e2 = await ask(video, 'Q?', { ...q, signal: ac2.signal, onProgress: ({ stage }) => { if (stage === 'prefill') ac2.abort(); } }).catch((x: unknown) => x);
  tt.match(e2, { code: 'ERR_ABORTED' });
  tt.equal((await ask(video, 'Q?', q)).tokens.visual, 128 + 750);
});

t.test('a model without an audio encoder: ERR_UNSUPPORTED naming the option, on the pooled path and in a plan', async (tt) => {
  const llava = await tinyModel();
  tt.teardown(() => llava.dispose());
  await tt.rejects(ask(video, 'Q?', { model: llava, strategy: 'slowfast', audio: true, ...gen }), { code: 'ERR_UNSUPPORTED', message: /'audio'/, details: { option: 'audio' } });
  const ctx = await llava.createContext({ contextSize: 512 });
  tt.teardown(() => ctx.dispose());
  await tt.rejects(ctx.prefill([{ text: 'a' }, { audio: new Float32Array(160) }]), { code: 'ERR_UNSUPPORTED', details: { option: 'audio' } });
  tt.equal(ctx.nPast(0), 0, 'nothing evaluated');
});
