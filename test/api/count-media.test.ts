// countMediaTokens(): the media tokens of a question before any decoding equal what ask() then
// evaluates (frames, audio clips, subtitle cue lines), on the models that see and hear; `fits`
// agrees with ask()'s ERR_CONTEXT_FULL; concurrent calls, abort and bad input.
import t from 'tap';
import { ask, countMediaTokens, loadModel } from '../../lib/index.js';
import { media } from '../fixtures/media.js';
import { tinyModels } from '../fixtures/tiny-models.js';

const m = await tinyModels();
const omni = await loadModel({ model: m.qwen2vlModel, mmproj: m.qwen25OmniMmproj, threads: 1 });
const llavaAudio = await loadModel({ model: m.qwen2Model, mmproj: m.llavaAudioMmproj, threads: 1 });
const llava = await loadModel({ model: m.model, mmproj: m.mmproj, threads: 1 });
t.teardown(() => { omni.dispose(); llavaAudio.dispose(); llava.dispose(); });
const burst = await media.toneBurst();
const gen = { maxTokens: 1, temperature: 0 };
// libmtmd's padded form (750 per clip) keeps the budget arithmetic below by hand; test/audio/real-length.test.ts counts the real length
const padded = { audioLength: 'padded' as const };

t.test('native path, frames and sound (Qwen2.5-Omni pair): the count is what libmtmd evaluates', async (t) => {
  for (const o of [{ frames: 4 }, { frames: 4, audio: 'interleave' as const, audioWindow: 2 }, { frames: 4, audio: 'prefix' as const }, { frames: 4, audio: 'interleave' as const, audioWindow: 1 }]) {
    for (const len of [padded, {}]) {
      const c = await countMediaTokens(burst, { model: omni, contextSize: 8192, ...o, ...len });
      const r = await ask(burst, 'What happens?', { model: omni, contextSize: 8192, ...o, ...len, ...gen });
      t.equal(c.strategy, 'native');
      t.equal(c.frameTokens + (c.audioTokens ?? NaN), r.tokens.visual, `${JSON.stringify({ ...o, ...len })}: ${c.frameTokens} frame + ${c.audioTokens} audio tokens = tokens.visual`);
      t.equal(c.frames, 4);
      t.equal(c.audioChunks, o.audio === undefined ? 0 : o.audio === 'prefix' ? 1 : 4 / o.audioWindow);
      t.ok(c.fits);
    }
  }
});

t.test('pooled path with sound (the mixed LLaVA + Qwen2-Audio fixture): pooled frames + clips', async (t) => {
  const o = { frames: 4, strategy: 'concat' as const, audio: 'interleave' as const, audioWindow: 2, contextSize: 4096, ...padded };
  const c = await countMediaTokens(burst, { model: llavaAudio, ...o });
  const r = await ask(burst, 'What happens?', { model: llavaAudio, ...o, ...gen });
  t.same([c.frameTokens, c.audioTokens, c.audioChunks], [4 * 64, 2 * 750, 2], 'by hand: 64 tokens a frame, 750 a Whisper chunk');
  t.equal(c.frameTokens + c.audioTokens!, r.tokens.visual);
});

t.test('subtitle cues are counted before decoding, as the prompt then grows', async (t) => {
  const clip = await media.movText();
  const plain = await ask(clip, 'What happens?', { model: llava, frames: 4, ...gen });
  const subs = await ask(clip, 'What happens?', { model: llava, frames: 4, subtitles: true, ...gen });
  const c = await countMediaTokens(clip, { model: llava, frames: 4, subtitles: true });
  t.equal(c.cues, 3);
  const grew = subs.tokens.prompt - plain.tokens.prompt;
  t.ok(grew === c.cueTokens || grew === c.cueTokens - 1, `the prompt grew by ${grew}; counted ${c.cueTokens} (the last line may join the question)`);
  t.equal(c.frameTokens, 4 * 64);
});

t.test('fits: false exactly where ask() refuses with ERR_CONTEXT_FULL before decoding', async (t) => {
  // Independent of the budget code: what the media cost is what libmtmd evaluates (ask() in a roomy
  // context), and the room is the context minus the text reserve, min(256, contextSize / 4), by hand.
  const o = { model: omni, frames: 4, audio: 'interleave' as const, audioWindow: 1, ...padded };
  const evaluated = (await ask(burst, 'q', { ...o, contextSize: 8192, ...gen })).tokens.visual;
  t.ok(evaluated > 4 * 750, `4 clips of 750 and 4 frames: ${evaluated}`);
  const reserve = 256;
  for (const contextSize of [evaluated + reserve, evaluated + reserve - 1, 3300]) {
    const c = await countMediaTokens(burst, { ...o, contextSize });
    const fits = evaluated <= contextSize - reserve;
    t.equal(c.fits, fits, `${evaluated} media tokens in a context of ${contextSize}`);
    t.same([c.total, c.budget], [evaluated, contextSize - reserve]);
    if (fits) {
      const r = await ask(burst, 'q', { ...o, contextSize, ...gen });
      t.equal(r.tokens.visual, evaluated, 'fits: ask() evaluates the media in exactly that room');
    } else {
      await t.rejects(ask(burst, 'q', { ...o, contextSize, ...gen }), { code: 'ERR_CONTEXT_FULL', details: { needed: evaluated, budget: contextSize - reserve, audioChunks: 4 } });
    }
  }
});

t.test('at once, aborted, bad input', async (t) => {
  const o = { model: omni, frames: 4, audio: 'interleave' as const, audioWindow: 2, contextSize: 8192, ...padded };
  const one = await countMediaTokens(burst, o);
  t.same(await Promise.all(Array.from({ length: 6 }, () => countMediaTokens(burst, o))), Array(6).fill(one), 'six at once on one model agree');
  await t.rejects(countMediaTokens(burst, { ...o, signal: AbortSignal.abort() }), { code: 'ERR_ABORTED' });
  await t.rejects(countMediaTokens(burst, { ...o, model: llava }), { code: 'ERR_UNSUPPORTED', details: { option: 'audio' } }, 'sound asked of a model that cannot hear');
  await t.rejects(countMediaTokens(burst, {} as never), { code: 'ERR_INVALID_ARG' });
  await t.rejects(countMediaTokens('/nonexistent.mp4', o), { code: 'ERR_VIDEO_OPEN' }, 'as ask() says it');
  await t.rejects(ask('/nonexistent.mp4', 'q', o), { code: 'ERR_VIDEO_OPEN' });
  await t.rejects(countMediaTokens(burst, { ...o, audioWindow: 1, contextSize: 2048 }), { code: 'ERR_CONTEXT_FULL' }, 'the sound alone cannot fit: refused as ask() refuses it');
});
