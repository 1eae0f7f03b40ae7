// Skip before encoding on a real clip: a clip of three held pictures (red, green, red again; 2 s
// each at 10 fps, made by the ffmpeg program) sampled at 12 frames keeps 3 runs and encodes exactly
// the 2 distinct pictures; each kept frame's time marker is its own time, `until` the last time it stands for.
import t from 'tap';
import { ask, chat, countMediaTokens } from '../../lib/index.js';
import { readVideo } from '../../lib/pipeline/index.js';
import { checkReduce } from '../../lib/reduce/option.js';
import { heldClip } from './helpers.js';
import { tinyModel } from '../inference/helpers.js';

const clip = await heldClip();
const model = await tinyModel({ cache: false, threads: 1 });
t.teardown(() => model.dispose());
const base = { model, strategy: 'concat' as const, frames: 12, timeTokens: 'text' as const, preamble: false, contextSize: 4096, fit: 'pad' as const };

t.test('12 frames of 3 held runs (2 pictures): 2 encoded, 3 blocks, markers at their own times, spans to the last frame each replaced', async (t) => {
  const off = await readVideo(clip, { ...base, signal: new AbortController().signal });
  t.equal(off.encoded.kind === 'grids' && off.encoded.stats?.encoded, 12, 'without reduce every sampled frame is encoded');
  const times = off.video.frames.map((f) => f.t);
  const r = await readVideo(clip, { ...base, reduce: checkReduce({ codecPlan: false, merge: false }), signal: new AbortController().signal });
  if (r.encoded.kind !== 'grids' || r.assembled.kind !== 'items') throw new Error('pooled');
  t.equal(r.encoded.stats?.encoded, 2, 'exactly the distinct pictures are encoded: red, green (red again reuses the first)');
  t.same(r.reduced?.same, [undefined, undefined, 0]);
  // by hand: the 12 sampled times split at 2 s and 4 s; each run's first frame is kept, its last is `until`
  const runs = [0, 1, 2].map((k) => times.filter((x) => x >= 2 * k - 1e-6 && x < 2 * k + 2 - 1e-6));
  t.same(r.video.frames.map((f) => f.t), runs.map((x) => x[0]));
  t.same(r.reduced?.until, runs.map((x) => x[x.length - 1]));
  t.same([r.reduced?.sampled, r.reduced?.kept], [12, 3]);
  t.equal(r.assembled.visual, 3 * 64, 'concat: one 8 × 8 grid per kept frame');
  const markers = r.assembled.items.flatMap((it) => ('text' in it ? [...it.text.matchAll(/\[(\d+(?:\.\d+)?)s\]/g)].map((m) => Number(m[1])) : []));
  t.same(markers.length, 3);
  markers.forEach((m, i) => t.ok(Math.abs(m - runs[i]![0]!) <= 0.05, `marker ${m} s is kept frame ${i}'s time ${runs[i]![0]}`));
});

t.test('ask(): the kept frames and their spans in the result; merge drops repeated tokens after the encoder', async (t) => {
  const r = await ask(clip, 'What colour?', { ...base, reduce: { codecPlan: false }, maxTokens: 2, temperature: 0 });
  t.same(r.reduced, { sampled: 12, kept: 3, pictures: 2, codecPlan: false });
  t.equal(r.frames.length, 3);
  t.ok(r.frames.every((f) => typeof f.until === 'number' && f.until >= f.t));
  // the third run is red again: its tokens repeat the first run's at every place → merged away (a solid picture: every token alike)
  t.ok(r.tokens.visual < 3 * 64, `${r.tokens.visual} visual tokens after merging`);
  const capped = await ask(clip, 'What colour?', { ...base, reduce: { ratio: 0.25, codecPlan: false }, maxTokens: 2, temperature: 0 });
  t.ok(capped.tokens.visual <= Math.ceil(12 * 64 * 0.25), `ratio 0.25 of 768: ${capped.tokens.visual}`);
});

t.test('a chat with merged tokens: a follow-up evaluates only its own turn', async (t) => {
  const c = await chat(clip, { ...base, reduce: 'auto' });
  t.teardown(() => c.dispose());
  const first = await c.ask('What colour?', { maxTokens: 2, temperature: 0 }).turn;
  const before = c.context.nPast(0);
  const history = [...c.history];
  const second = await c.ask('And then?', { maxTokens: 2, temperature: 0 }).turn;
  const delta = model.formatTurn(history, { role: 'user', content: 'And then?' });
  t.equal(second.evaluated, c.context.tokenize(delta).length, 'only the formatted follow-up');
  t.equal(second.nPast, before + second.evaluated + second.tokens.generated);
  t.ok(first.evaluated < 30);
});

t.test('reduce is checked before any work', async (t) => {
  for (const reduce of ['yes', { tokens: -1 }, { ratio: 2 }, { every: 1 }]) {
    await t.rejects(ask(clip, 'q', { ...base, reduce: reduce as never }), { code: 'ERR_INVALID_ARG', details: { option: 'reduce' } });
    await t.rejects(chat(clip, { ...base, reduce: reduce as never }), { code: 'ERR_INVALID_ARG' });
  }
});

t.test('a fixed reduce is known before any work: countMediaTokens and the budget check count its bound, ask() the real count', async (t) => {
  const c = await countMediaTokens(clip, { ...base, reduce: { tokens: 100 } });
  t.same([c.frameTokens, c.upperBound], [100, true], 'min(100, 12 × 64)');
  t.equal((await countMediaTokens(clip, { ...base, reduce: { ratio: 0.3 } })).frameTokens, Math.ceil(768 * 0.3));
  t.equal((await countMediaTokens(clip, { ...base, reduce: 'auto' })).frameTokens, 768, "auto: every token, at most");
  // 60 frames of concat (3840 tokens) do not fit a 2048 context; capped at 1000 they do
  const small = { ...base, frames: 60, contextSize: 2048 };
  await t.rejects(ask(clip, 'q', { ...small, maxTokens: 1 }), { code: 'ERR_CONTEXT_FULL' });
  const r = await ask(clip, 'q', { ...small, reduce: { tokens: 1000 }, maxTokens: 1 });
  t.ok(r.tokens.visual <= 1000, `${r.tokens.visual} <= 1000`);
  t.ok(r.tokens.visual < 1000, 'the real count after: the held pictures merge below the cap');
});

t.test('an M-RoPE pair (the native path): the kept frames are what libmtmd gets', async (t) => {
  const { loadModel } = await import('../../lib/index.js');
  const { tinyModels } = await import('../fixtures/tiny-models.js');
  const m = await tinyModels();
  const qwen = await loadModel({ model: m.qwen2vlModel, mmproj: m.qwen2vlMmproj, threads: 1 });
  t.teardown(() => qwen.dispose());
  const o = { model: qwen, strategy: 'native' as const, frames: 12, maxTokens: 1, temperature: 0 };
  const off = await ask(clip, 'q', o);
  const on = await ask(clip, 'q', { ...o, reduce: { codecPlan: false } });
  t.equal(off.frames.length, 12);
  t.same(on.frames.map((f) => f.t), off.frames.filter((_, i) => [0, 4, 8].includes(i)).map((f) => f.t), 'the first frame of each 4-frame run');
  t.ok(on.tokens.visual < off.tokens.visual, `${on.tokens.visual} media tokens < ${off.tokens.visual}`);
});
