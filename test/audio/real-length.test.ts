// Real-length audio (issue 27): a clip's embeddings are those of its real samples, as the Hugging
// Face Qwen2-Audio / Qwen2.5-Omni processors count them, not libmtmd's 30-s padded chunks; the
// padded form stays available. Counts by hand: mel frames = samples / 160, then
// (⌊(L − 1) / 2⌋ + 1 − 2) / 2 + 1 (stride-2 conv, stride-2 pool): 2 s → 200 → 100 → 50.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { ask, countMediaTokens, loadModel } from '../../lib/index.js';
import { audioSampleTokens, checkAudioOption, defaultAudioWindow, paddedTokens, realTokens } from '../../lib/audio/index.js';
import { media } from '../fixtures/media.js';
import { tinyModels } from '../fixtures/tiny-models.js';

const m = await tinyModels();
const gen = { maxTokens: 2, temperature: 0 };

t.test('the length rule, by hand', async (tt) => {
  const s = (sec: number) => sec * 16000;
  tt.same([realTokens(s(2), 16000), realTokens(s(10), 16000), realTokens(s(30), 16000)], [50, 250, 750]);
  // 2.5 s: 250 mel frames → 125 → 62
  tt.equal(realTokens(s(2.5), 16000), 62);
  // a few samples still give one embedding
  tt.equal(realTokens(100, 16000), 1);
  // libmtmd: 750 per whole 3000-frame chunk of the clip + 30 s of silence; exactly 30 s spills into a second chunk
  tt.same([paddedTokens(s(2), 16000), paddedTokens(s(29.9), 16000), paddedTokens(s(30), 16000), paddedTokens(s(61), 16000)], [750, 750, 1500, 2250]);
  tt.equal(audioSampleTokens({ projector: 'ultravox', rate: 16000, length: 'real' }, s(2)), null, 'other Whisper-preprocessed families are not counted');
});

t.test('the option: default real, validated', async (tt) => {
  const info = { audio: true, audioProjectorType: 'qwen2a', audioSampleRate: 16000 };
  tt.match(checkAudioOption(true, undefined, info), { mode: 'interleave', window: 2, length: 'real', projector: 'qwen2a' });
  tt.match(checkAudioOption(true, undefined, info, 'padded'), { window: 29.9, length: 'padded' });
  tt.throws(() => checkAudioOption(true, undefined, info, 'short'), { code: 'ERR_INVALID_ARG', details: { option: 'audioLength' } });
  // real: 2 s, or a whole frame pair per window where libmtmd merges pairs (4 frames over 10 s: pairs 5 s long)
  tt.equal(defaultAudioWindow('real', { span: 10, frames: 4, merge: 1 }), 2);
  tt.equal(defaultAudioWindow('real', { span: 10, frames: 4, merge: 2 }), 5);
  tt.equal(defaultAudioWindow('real', { span: 60, frames: 64, merge: 2 }), 2);
  tt.equal(defaultAudioWindow(null, { span: 10, frames: 4, merge: 2 }), 2);
});

t.test('Qwen2-Audio pair: 10 s, 2 s and 30 s of the same sound', async (tt) => {
  const model = await loadModel({ model: m.qwen2Model, mmproj: m.qwen2AudioMmproj, threads: 1 });
  tt.teardown(() => model.dispose());
  const av = await media.av60();
  const q = (segment: [number, number], audioLength?: 'real' | 'padded') =>
    ask(av, 'What do you hear?', { model, segment, contextSize: 2560, ...gen, ...(audioLength ? { audioLength } : {}) });
  const ten = await q([0, 10]);
  tt.ok(Math.abs(ten.tokens.visual - 250) <= 25, `10 s: ${ten.tokens.visual} within 10 % of the reference's 250`);
  const [two, thirty] = [await q([10, 12]), await q([10, 40])];
  tt.same([two.tokens.visual, thirty.tokens.visual], [50, 750]);
  tt.equal(thirty.tokens.visual / two.tokens.visual, 30 / 2, 'in the ratio of their lengths');
  const [p2, p29] = [await q([10, 12], 'padded'), await q([10, 39.9], 'padded')];
  tt.same([p2.tokens.visual, p29.tokens.visual], [750, 750], 'padded: one 30-s chunk each');
  tt.equal((await q([10, 40], 'padded')).tokens.visual, 1500, 'padded: exactly 30 s is two chunks in libmtmd');
  // the prompt holds only the kept embeddings: 700 fewer cells than padded for the same 2 s
  tt.equal(p2.tokens.prompt - two.tokens.prompt, 700);
});

t.test('countMediaTokens equals what ask evaluates, both modes, both paths', async (tt) => {
  const omni = await loadModel({ model: m.qwen2vlModel, mmproj: m.qwen25OmniMmproj, threads: 1 });
  const mixed = await loadModel({ model: m.qwen2Model, mmproj: m.llavaAudioMmproj, threads: 1 });
  tt.teardown(() => { omni.dispose(); mixed.dispose(); });
  const av = await media.av10();
  for (const [model, strategy] of [[omni, 'native'], [mixed, 'concat']] as const) {
    for (const o of [{}, { audioLength: 'padded' as const }, { audio: 'prefix' as const }, { audioWindow: 3 }]) {
      const opts = { model, strategy, frames: 4, audio: true, contextSize: 8192, ...o };
      const c = await countMediaTokens(av, opts);
      const r = await ask(av, 'What happens?', { ...opts, ...gen });
      tt.equal(c.frameTokens + (c.audioTokens ?? NaN), r.tokens.visual, `${strategy} ${JSON.stringify(o)}: ${c.frameTokens} + ${c.audioTokens}`);
    }
  }
  // native, default window: 4 frames over 10 s merge in pairs, so the windows hold a pair (5 s): 2 image chunks, 2 clips of 125
  const c = await countMediaTokens(av, { model: omni, frames: 4, audio: true, contextSize: 8192 });
  tt.same([c.imageChunks, c.audioChunks, c.audioTokens], [2, 2, 250]);
});

t.test('concurrent and aborted questions with real-length audio', async (tt) => {
  const model = await loadModel({ model: m.qwen2Model, mmproj: m.llavaAudioMmproj, threads: 1 });
  tt.teardown(() => model.dispose());
  const av = await media.av10();
  const o = { model, frames: 4, audio: true, ...gen };
  const [a, b] = await Promise.all([ask(av, 'What happens?', o), ask(av, 'What happens?', o)]);
  tt.same([a.text, a.tokens], [b.text, b.tokens]);
  for (const ms of [0, 20, 200]) {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), ms);
    await ask(av, 'What happens?', { ...o, signal: ac.signal }).then(() => tt.pass(`finished before the abort at ${ms} ms`), (e) => tt.equal(e.code, 'ERR_ABORTED'));
  }
  const after = await ask(av, 'What happens?', o);
  tt.same([after.text, after.tokens], [a.text, a.tokens], 'the model answers the same after the aborts');
});

t.test('budget error with padded sound names the largest settings that fit, with numbers', async (tt) => {
  const model = await loadModel({ model: m.qwen2Model, mmproj: m.llavaAudioMmproj, threads: 1 });
  tt.teardown(() => model.dispose());
  const av = await media.av10();
  const e = await ask(av, 'Q?', { model, frames: 4, audio: true, audioWindow: 2, audioLength: 'padded', contextSize: 4096, ...gen }).catch((x) => x);
  tt.equal(e.code, 'ERR_CONTEXT_FULL');
  tt.match(e.message, /audioLength: 'real' fits \(250 tokens\)/);
  // 3584 left after the frames: 4 chunks of 750, so windows of 10 / 4 = 2.5 s
  tt.match(e.message, /audioWindow: 2.5 fits \(3000 tokens\)/);
  tt.match(e.message, /at most 8 s of this sound fits/);
  tt.match(e.message, /audio: 'prefix' fits \(750 tokens\)/);
});

t.test('the command of the issue answers with default options on a 10-s clip (LLaVA + Qwen2-Audio)', async (tt) => {
  const root = resolve(import.meta.dirname, '..', '..');
  const r = spawnSync(process.execPath, [join(root, 'dist', 'cli.js'), 'ask', await media.av10(), 'What happens?', '--model', m.qwen2Model,
    '--mmproj', m.llavaAudioMmproj, '--frames', '4', '--audio', '--max-tokens', '2', '--threads', '1', '--json'], { encoding: 'utf8', cwd: root, timeout: 240_000 });
  tt.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  // 4 concat frames of 64 + five 2-s clips of 50
  tt.equal(out.tokens.visual, 4 * 64 + 5 * 50);
});

t.test('Context.prefillMedia: a clip evaluates the first `tokens` embeddings, over its 30-s chunks; bad counts refused', async (tt) => {
  const model = await loadModel({ model: m.qwen2Model, mmproj: m.qwen2AudioMmproj, threads: 1 });
  tt.teardown(() => model.dispose());
  const ctx = await model.createContext({ contextSize: 4096 });
  tt.teardown(() => ctx.dispose());
  const marker = model.mediaMarker;
  const clip = (seconds: number) => new Float32Array(seconds * 16000).map((_, i) => 0.3 * Math.sin(i / 8));
  const audioChunks = (r: { chunks?: { type: string; tokens: number; positions: number }[] }) => r.chunks!.filter((c) => c.type === 'audio').map((c) => `${c.tokens}/${c.positions}`);
  // 40 s: libmtmd makes two 750-embedding chunks (70 s with the padding); 900 keeps the first whole and 150 of the second
  const a = await ctx.prefillMedia(marker, [{ audio: clip(40), tokens: 900 }]);
  tt.same(audioChunks(a), ['750/750', '150/150']);
  tt.equal(a.mediaTokens, 900);
  await ctx.truncate(0, 0);
  // 10 kept of a 2-s clip: the later 30-s chunk of padding is not evaluated at all
  const b = await ctx.prefillMedia(marker, [{ audio: clip(2), tokens: 10 }]);
  tt.same(audioChunks(b), ['10/10']);
  const text = b.chunks!.filter((c) => c.type === 'text').reduce((n, c) => n + c.positions, 0);
  tt.equal(b.evaluated, 10 + text, 'positions: the text markers and the kept embeddings only');
  await ctx.truncate(0, 0);
  // without tokens: all of libmtmd's
  tt.same(audioChunks(await ctx.prefillMedia(marker, [{ audio: clip(2) }])), ['750/750']);
  await ctx.truncate(0, 0);
  for (const tokens of [0, -3, 2.5, Number.NaN]) {
    await tt.rejects(ctx.prefillMedia(marker, [{ audio: clip(1), tokens }]), { code: 'ERR_INVALID_ARG' }, `tokens ${tokens}`);
  }
});
