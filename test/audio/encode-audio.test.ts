// Model.encodeAudio (native/encode_audio.cpp): an audio clip's embeddings read out of libmtmd
// instead of evaluated, for the cosine measure of real-length audio (bench/audio-cosine.ts). What
// it returns is what a prefill evaluates: the first 50 embeddings of a 2 s clip given as an
// embedding block between the clip's markers leave the KV as the real-length audio item does.
import t from 'tap';
import { loadModel } from '../../lib/index.js';
import { realTokens } from '../../lib/audio/media.js';
import { tinyModels } from '../fixtures/tiny-models.js';
import { tinyModel } from '../inference/helpers.js';

const m = await tinyModels();
const model = await loadModel({ model: m.qwen2Model, mmproj: m.qwen2AudioMmproj, threads: 1 });
t.teardown(() => model.dispose());
const RATE = 16000;
const tone = (seconds: number, hz = 440) => Float32Array.from({ length: seconds * RATE }, (_, i) => 0.4 * Math.sin((2 * Math.PI * hz * i) / RATE));

t.test('every chunk libmtmd makes of a clip, padding included; the same floats each time', async (t) => {
  const a = await model.encodeAudio(tone(2));
  t.equal(a.dim, model.info.nEmbd);
  t.equal(a.chunks, 1);
  t.equal(a.tokens, 750, 'a 2 s clip padded to 30 s: one chunk of 750');
  t.equal(a.data.length, 750 * a.dim);
  const b = await model.encodeAudio(tone(2));
  t.same(Array.from(b.data.subarray(0, 64)), Array.from(a.data.subarray(0, 64)), 'deterministic');
  const long = await model.encodeAudio(tone(31));
  // 31 s + 30 s of padding = 6101 mel frames: libmtmd keeps the two whole 3000-frame chunks
  t.same([long.chunks, long.tokens], [2, 1500], 'two chunks of 750');
  const other = await model.encodeAudio(tone(2, 1000));
  t.not(other.data[0], a.data[0], 'another sound, other embeddings');
});

t.test('the embeddings are what the prefill evaluates: the kept 50 as a block between the markers equal the real-length audio item', async (t) => {
  const clip = tone(2);
  const k = realTokens(clip.length, RATE);
  t.equal(k, 50);
  const { data, dim } = await model.encodeAudio(clip);
  const viaAudio = await model.createContext({ contextSize: 512 });
  const viaEmbd = await model.createContext({ contextSize: 512 });
  t.teardown(() => { viaAudio.dispose(); viaEmbd.dispose(); });
  const a = await viaAudio.prefill([{ text: 'Listen: ' }, { audio: clip, tokens: k }, { text: ' What is it?' }]);
  const b = await viaEmbd.prefill([{ text: 'Listen: ' }, { text: '<|audio_bos|>' }, { embeddings: data.slice(0, k * dim), count: k }, { text: '<|audio_eos|>' }, { text: ' What is it?' }]);
  t.equal(b.nPast, a.nPast, 'the same positions');
  const gen = { maxTokens: 6, temperature: 0 };
  const [x, y] = [await viaAudio.generate(gen), await viaEmbd.generate(gen)];
  t.equal(y.text, x.text, 'the same greedy answer');
});

t.test('bad input: clear codes, the model usable after', async (t) => {
  await t.rejects(async () => model.encodeAudio(new Float32Array(0)), { code: 'ERR_INVALID_ARG' });
  await t.rejects(async () => model.encodeAudio([0.1, 0.2] as never), { code: 'ERR_INVALID_ARG' });
  const seeing = await tinyModel({ cache: false, threads: 1 });
  t.teardown(() => seeing.dispose());
  await t.rejects(async () => seeing.encodeAudio(tone(1)), { code: 'ERR_UNSUPPORTED' });
  const ac = new AbortController();
  ac.abort();
  await t.rejects(async () => model.encodeAudio(tone(1), { signal: ac.signal }), { code: 'ERR_ABORTED' });
  t.equal((await model.encodeAudio(tone(1))).tokens, 750);
});
