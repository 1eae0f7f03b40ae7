/**
 * Issue 31, item 8: a WAV whose header says 0 channels is refused the same way by
 * countMediaTokens() and ask() (it counted as fitting, then ask failed decoding); a JSON schema
 * with a broken `pattern` is ERR_GRAMMAR before any work (llama.cpp's converter took some as any
 * string, and looped without end on `a{2,1}`).
 */
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ask, countMediaTokens, loadModel, VidlmError } from '../../lib/index.js';
import { media } from '../fixtures/media.js';
import { tinyModels } from '../fixtures/tiny-models.js';

const m = await tinyModels();
const omni = await loadModel({ model: m.qwen2vlModel, mmproj: m.qwen25OmniMmproj, threads: 1 });
const llava = await loadModel({ model: m.model, mmproj: m.mmproj, threads: 1 });
t.teardown(() => { omni.dispose(); llava.dispose(); });

/** A PCM WAV whose header has `channels` (0 makes every size in it 0 too), with a second of data. */
function wav(path: string, channels: number): string {
  const data = Buffer.alloc(32000);
  const h = Buffer.alloc(44);
  h.write('RIFF', 0); h.writeUInt32LE(36 + data.length, 4); h.write('WAVEfmt ', 8);
  h.writeUInt32LE(16, 16); h.writeUInt16LE(1, 20); h.writeUInt16LE(channels, 22); h.writeUInt32LE(16000, 24);
  h.writeUInt32LE(16000 * 2 * channels, 28); h.writeUInt16LE(2 * channels, 32); h.writeUInt16LE(16, 34);
  h.write('data', 36); h.writeUInt32LE(data.length, 40);
  writeFileSync(path, Buffer.concat([h, data]));
  return path;
}

t.test('a 0-channel WAV: countMediaTokens and ask refuse it with the same code, on every audio mode', async (t) => {
  const dir = t.testdir();
  const zero = wav(join(dir, 'zero.wav'), 0);
  const mono = wav(join(dir, 'mono.wav'), 1);
  for (const o of [{}, { audio: 'prefix' as const }, { audio: 'interleave' as const, audioWindow: 1 }]) {
    const counted = await countMediaTokens(zero, { model: omni, ...o }).then(() => null, (e: unknown) => e);
    const asked = await ask(zero, 'What is heard?', { model: omni, maxTokens: 1, ...o }).then(() => null, (e: unknown) => e);
    t.ok(counted instanceof VidlmError && asked instanceof VidlmError, `${JSON.stringify(o)}: both refuse (${counted}, ${asked})`);
    t.equal((counted as VidlmError).code, 'ERR_VIDEO_NO_STREAM');
    t.equal((asked as VidlmError).code, (counted as VidlmError).code, 'the same code');
    t.match((asked as VidlmError).message, /nor an audio stream with channels/);
  }
  // the same file with one channel is heard: the refusal is about the header, not WAV
  const c = await countMediaTokens(mono, { model: omni, audio: 'prefix' });
  const r = await ask(mono, 'What is heard?', { model: omni, audio: 'prefix', maxTokens: 1, temperature: 0 });
  t.ok(c.fits && c.audioTokens! > 0 && c.audioTokens === r.tokens.visual, `mono: ${c.audioTokens} audio tokens counted and evaluated`);
});

t.test('a JSON schema with a broken pattern is ERR_GRAMMAR before any work, on ask and on a context', async (t) => {
  const still = await media.image('png');
  const broken = [
    '^(?<x$', // not a regular expression: llama.cpp made it any string
    '^[z-a]$', // a range out of order: llama.cpp made a class that matches nothing
    '^a{,3}$', // not ECMA-262 (a literal "{,3}" there), llama.cpp read it as {0,3}
    '^abc', // not anchored at the end: llama.cpp dropped it
    '^a{2,1}$', // llama.cpp's converter never returned
  ];
  const ctx = await llava.createContext({ contextSize: 256 });
  t.teardown(() => ctx.dispose());
  for (const pattern of broken) {
    const schema = { type: 'object', properties: { name: { type: 'string', pattern } }, required: ['name'] };
    const stages = new Set<string>();
    const err = await ask(still, 'Hi?', { model: llava, jsonSchema: schema, maxTokens: 2, onProgress: (e) => { stages.add(e.stage); } }).then(() => null, (e: unknown) => e);
    t.ok(err instanceof VidlmError && err.code === 'ERR_GRAMMAR', `${pattern}: ${err}`);
    t.same((err as VidlmError).details, { pattern });
    t.equal(stages.size, 0, 'nothing decoded');
    t.throws(() => ctx.generateParams({ jsonSchema: JSON.stringify(schema) }), { code: 'ERR_GRAMMAR' }, `${pattern}: a context's generate refuses it too`);
  }
  t.throws(() => ctx.generateParams({ jsonSchema: { type: 'object', patternProperties: { '[': { type: 'string' } } } }), { code: 'ERR_GRAMMAR' }, 'a patternProperties key is a regular expression too');
  // good patterns still constrain the answer
  const ok = await ask(still, 'Hi?', { model: llava, jsonSchema: { type: 'string', pattern: '^[ab]{3}$' }, maxTokens: 16, temperature: 0 });
  t.match(ok.text, /^"[ab]{3}"$/, `the answer ${ok.text} follows the pattern`);
});
