/**
 * Token counts of a 60 s clip with sound and subtitles on one model with both encoders (the tiny
 * Qwen2.5-Omni pair: qwen2vl LLM + qwen2.5o mmproj), native strategy, 16 frames: frames alone,
 * frames + audio interleaved (2 s, 10 s and 30 s windows), frames + audio prefix, frames +
 * subtitles, and all of it. Each row: the budget counted before decoding (lib/pipeline/media-budget.ts)
 * and what `ask` measured (tokens.visual: embeddings libmtmd made; tokens.prompt: the whole prompt).
 * Counts, not timings: there is no reference to run.
 *
 * Run: npm run build:ts && npm run bench -- av-tokens
 */
import { ask, loadModel } from '../lib/index.js';
import { checkMediaBudget, planVideo } from '../lib/pipeline/index.js';
import { openVideo } from '../lib/video/index.js';
import { tinyModels } from '../lib/fixtures/tiny-models.js';
import { media } from '../test/fixtures/media.js';

const m = await tinyModels();
const model = await loadModel({ model: m.qwen2vlModel, mmproj: m.qwen25OmniMmproj, threads: 2 });
const clip = await media.av60();
const contextSize = 32768;
// the audio rows of docs/methods.md's table are libmtmd's padded form; the 'real' rows are the default
const padded = { audioLength: 'padded' };
const rows: [string, Record<string, unknown>][] = [
  ['16 frames', {}],
  ['16 frames + audio, interleave 2 s windows (30 chunks)', { audio: 'interleave', audioWindow: 2, ...padded }],
  ['16 frames + audio, interleave 10 s windows (6 chunks)', { audio: 'interleave', audioWindow: 10, ...padded }],
  ['16 frames + audio, interleave 30 s windows (2 chunks)', { audio: 'interleave', audioWindow: 30, ...padded }],
  ['16 frames + audio, prefix (1 clip)', { audio: 'prefix', ...padded }],
  ['16 frames + subtitles (12 cues)', { subtitles: true }],
  ['16 frames + audio interleave 2 s + subtitles', { audio: 'interleave', audioWindow: 2, subtitles: true, ...padded }],
  ['16 frames + audio, real length, default window', { audio: 'interleave' }],
  ['16 frames + audio, real length, interleave 2 s windows', { audio: 'interleave', audioWindow: 2 }],
  ['16 frames + audio, real length, prefix', { audio: 'prefix' }],
];
console.log('| Qwen2.5-Omni pair, native, 60 s clip | budget before decoding (frames + audio + cues) | tokens.visual | tokens.prompt |');
console.log('| --- | --- | --- | --- |');
for (const [name, o] of rows) {
  const source = await openVideo(clip);
  const plan = planVideo(source.probe, model.info, { strategy: 'auto', frames: 16, timeTokens: 'none', preamble: false, contextSize, fit: 'stretch', ...o });
  const { budget: b } = await checkMediaBudget(source, plan, model.info, (text) => model.handle.countTokens(text), contextSize);
  await source.close();
  const r = await ask(clip, 'What happens in this video?', { model, frames: 16, contextSize, maxTokens: 1, temperature: 0, ...o });
  console.log(`| ${name} | ${b.total} (${b.frameTokens} + ${b.audioTokens ?? '?'} + ${b.cueTokens}) | ${r.tokens.visual} | ${r.tokens.prompt} |`);
}
model.dispose();
