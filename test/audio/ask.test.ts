/** Sound into the model: audio files through libmtmd's audio path on the tiny Qwen2-Audio pair. */
import t from 'tap';
import { ask, loadModel } from '../../lib/index.js';
import { audioClipTokens, readAudioMedia } from '../../lib/audio/index.js';
import type { CheckedAudio } from '../../lib/audio/media.js';
import { openVideo } from '../../lib/video/index.js';
import { media } from '../fixtures/media.js';
import { tinyModels } from '../fixtures/tiny-models.js';
import { tinyModel } from '../inference/helpers.js';

const m = await tinyModels();
const model = await loadModel({ model: m.qwen2Model, mmproj: m.qwen2AudioMmproj, threads: 2 });
t.teardown(() => model.dispose());
const gen = { maxTokens: 3, temperature: 0, contextSize: 2048 };
/** The checked `audio` option, interleaved in windows of `window` s, of an encoder whose token count is unknown (no counts on the chunks). */
const interleave = (window: number): CheckedAudio => ({ mode: 'interleave', window, projector: null, rate: 16000, length: 'real' });

t.test('an audio file: answered from its sound', async (tt) => {
  tt.equal(model.info.audio, true);
  tt.equal(model.info.audioSampleRate, 16000);
  const wav = await media.toneBurstWav();
  const r = await ask(wav, 'What do you hear?', { model, ...gen });
  tt.equal(r.strategy, 'native');
  // real length (the default): 4 s = 400 mel frames → 200 (conv) → 100 (pool), as the HF processor counts
  tt.equal(r.tokens.visual, 100, 'the embeddings of 4 s of sound');
  tt.equal(audioClipTokens({ projector: 'qwen2a', rate: 16000, length: 'real' }, 4), r.tokens.visual, 'the budget estimate is what was evaluated');
  // padded: libmtmd pads to whole 30 s Whisper chunks: 3000 mel frames / 2 (conv) / 2 (pool)
  const padded = await ask(wav, 'What do you hear?', { model, ...gen, audioLength: 'padded' });
  tt.equal(padded.tokens.visual, 750, 'one 30 s chunk for 4 s of sound');
  tt.equal(audioClipTokens({ projector: 'qwen2a', rate: 16000, length: 'padded' }, 4), padded.tokens.visual, 'the budget estimate is what libmtmd made');
  tt.equal(r.tokens.generated, 3);
  tt.same(r.frames, []);
  // an m4a (AAC) of 3 s: 300 mel frames → 150 → 75; the 4-s burst as the sound of an mp4: as the wav
  const m4a = await ask(await media.audioOnly(), 'What do you hear?', { model, ...gen });
  tt.equal(m4a.tokens.visual, 75);
  const mp4 = await ask(await media.toneBurst(), 'What do you hear?', { model, ...gen });
  tt.equal(mp4.tokens.visual, 100);
  tt.match(mp4.warning, /no vision encoder: only the sound/);
  // two questions at once on one model
  const [a, b] = await Promise.all([ask(wav, 'What do you hear?', { model, ...gen }), ask(wav, 'What do you hear?', { model, ...gen })]);
  tt.equal(a.text, r.text, 'deterministic at temperature 0');
  tt.equal(b.text, r.text);
});

t.test('a model without an audio encoder: ERR_UNSUPPORTED naming the option', async (tt) => {
  const llava = await tinyModel();
  tt.teardown(() => llava.dispose());
  await tt.rejects(ask(await media.h264(), 'Q?', { model: llava, audio: true, ...gen }), { code: 'ERR_UNSUPPORTED', details: { option: 'audio' } });
  await tt.rejects(ask(await media.audioOnly(), 'Q?', { model: llava, ...gen }), { code: 'ERR_VIDEO_NO_STREAM' });
});

t.test('a video with no audio track: a warning and the frames alone', async (tt) => {
  const v = await openVideo(await media.noAudio());
  tt.teardown(() => v.close());
  const r = await readAudioMedia(v, interleave(2), [0, 1, 2], [0, 3], 16000);
  tt.same(r.chunks, []);
  tt.same(r.steps.map((s) => s.kind), ['frame', 'frame', 'frame']);
  tt.match(r.warnings[0], /has no audio track/);
});

t.test('interleaved chunks carry the right samples (tone burst at 2.0-2.5 s)', async (tt) => {
  const v = await openVideo(await media.toneBurst());
  tt.teardown(() => v.close());
  const r = await readAudioMedia(v, interleave(1), [0, 1, 2, 3], [0, 4], 16000);
  tt.same(r.steps.map((s) => s.kind), ['frame', 'audio', 'frame', 'audio', 'frame', 'audio', 'frame', 'audio']);
  const rms = r.chunks.map((c) => Math.sqrt(c.audio.reduce((s, x) => s + x * x, 0) / c.audio.length));
  tt.equal(r.chunks.map((c) => c.audio.length).join(), '16000,16000,16000,16000');
  // only the third second holds the burst: half a second of a 0.5 sine, rms 0.5/√2·√0.5 ≈ 0.25
  tt.ok(rms[2]! > 0.2 && rms[2]! < 0.3, `chunk 2 rms ${rms[2]}`);
  for (const k of [0, 1, 3]) tt.ok(rms[k]! < 0.02, `chunk ${k} is silent (rms ${rms[k]})`);
});

t.test('audio over the budget: ERR_CONTEXT_FULL before decoding, with what was asked', async (tt) => {
  // padded: 4 s in 1 s windows: 4 chunks of 750 tokens do not fit 2048 - 256
  const e = await ask(await media.toneBurstWav(), 'Q?', { model, audio: 'interleave', audioWindow: 1, audioLength: 'padded', ...gen }).catch((x: unknown) => x);
  tt.match(e, { code: 'ERR_CONTEXT_FULL', details: { option: 'audio', audioChunks: 4, audioTokens: 3000, audioSeconds: 4 } });
  tt.match((e as Error).message, /4\.0 s of audio in 4 chunk/);
  // with the numbers of what fits: 1792 tokens hold two 750-token chunks (2 s windows), one clip, or 100 real-length tokens
  tt.match((e as Error).message, /audioLength: 'real' fits \(100 tokens\); audioWindow: 2 fits \(1500 tokens\); audio: 'prefix' fits \(750 tokens\); at most 2 s/);
  // the same sound in 2 s windows: 1500 tokens fit
  const r = await ask(await media.toneBurstWav(), 'Q?', { model, audio: 'interleave', audioWindow: 2, audioLength: 'padded', ...gen });
  tt.equal(r.tokens.visual, 1500);
  // real length, 1 s windows: 4 × 25
  tt.equal((await ask(await media.toneBurstWav(), 'Q?', { model, audio: 'interleave', audioWindow: 1, ...gen })).tokens.visual, 100);
});

t.test('abort in the middle of the audio prefill, then the model answers again', async (tt) => {
  const wav = await media.toneBurstWav();
  const ac = new AbortController();
  const stages: string[] = [];
  const e = await ask(wav, 'Q?', { model, ...gen, signal: ac.signal, onProgress: ({ stage }) => { stages.push(stage); if (stage === 'prefill') ac.abort(); } }).catch((x: unknown) => x);
  tt.match(e, { code: 'ERR_ABORTED' });
  tt.ok(stages.includes('prefill'), 'aborted once the prefill had started');
  const r = await ask(wav, 'Q?', { model, ...gen });
  tt.equal(r.tokens.visual, 100);
});
