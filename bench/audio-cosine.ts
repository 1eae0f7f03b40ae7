/**
 * What real-length audio changes in the embeddings it keeps (docs/methods.md, "Real-length
 * audio"): libmtmd pads a clip with 30 s of silence and encodes the padding without an attention
 * mask, so the kept embeddings of a short clip have attended to silence. For a short clip (the
 * first L seconds of a 30-s signal) this compares its kept embeddings (the real length's count,
 * lib/audio/budget.ts) with the first positions of the full 30-s clip's embeddings (what the
 * same sound gives when the encoder's window holds only sound): cosine per position, mean and
 * minimum. Embeddings are read with Model.encodeAudio (native/encode_audio.cpp). Deterministic:
 * one run. The signal is synthetic (a chord with a slow vibrato and seeded noise), the models
 * are the random-weight fixtures: the numbers show the size of the effect on these towers and
 * the method, not a released model's.
 *
 * Run: npm run build:ts && npm run bench -- audio-cosine [--write-docs]
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { loadModel, type Model } from '../lib/index.js';
import { realTokens } from '../lib/audio/media.js';
import { tinyModels } from '../lib/fixtures/tiny-models.js';

const args = process.argv.slice(2);
const load = loadavg();
const started = new Date();
const root = process.cwd();
const commit = (() => { try { return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim(); } catch { return '0000000'; } })();

const RATE = 16000;
/** 30 s: a chord (220, 330, 440 Hz) with a slow vibrato, its level rising and falling, and seeded noise. */
export function signal(seconds = 30): Float32Array {
  const out = new Float32Array(seconds * RATE);
  let seed = 12345;
  const rnd = () => { seed = (seed * 1103515245 + 12345) >>> 0; return seed / 2 ** 32 - 0.5; };
  for (let i = 0; i < out.length; i++) {
    const t = i / RATE;
    const v = 1 + 0.01 * Math.sin(2 * Math.PI * 0.5 * t);
    const level = 0.2 + 0.15 * Math.sin(2 * Math.PI * 0.1 * t);
    out[i] = level * (Math.sin(2 * Math.PI * 220 * v * t) + 0.5 * Math.sin(2 * Math.PI * 330 * v * t) + 0.25 * Math.sin(2 * Math.PI * 440 * v * t)) / 1.75 + 0.02 * rnd();
  }
  return out;
}

export function cosine(a: Float32Array, b: Float32Array): number {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) { ab += a[i]! * b[i]!; aa += a[i]! * a[i]!; bb += b[i]! * b[i]!; }
  return ab / Math.sqrt(aa * bb);
}

async function rows(model: Model, name: string, lengths: number[]): Promise<string[]> {
  const full = signal(30);
  // the full 30-s clip: libmtmd's first chunk holds only sound (its padding starts at 30 s)
  const ref = await model.encodeAudio(full);
  const out: string[] = [];
  for (const L of lengths) {
    const short = await model.encodeAudio(full.slice(0, L * RATE));
    const k = realTokens(L * RATE, RATE);
    const cos: number[] = [];
    for (let p = 0; p < k; p++) cos.push(cosine(short.data.subarray(p * short.dim, (p + 1) * short.dim), ref.data.subarray(p * ref.dim, (p + 1) * ref.dim)));
    const mean = cos.reduce((s, x) => s + x, 0) / cos.length;
    const last = cos.slice(-Math.max(1, Math.round(k / 10)));
    out.push(`| ${name} | ${L} s | ${k} of ${short.tokens} | ${mean.toFixed(4)} | ${Math.min(...cos).toFixed(4)} | ${(last.reduce((s, x) => s + x, 0) / last.length).toFixed(4)} |`);
  }
  return out;
}

const m = await tinyModels();
const lengths = [2, 5, 10, 20];
const body = [
  '| audio tower (random-weight fixture) | clip | embeddings kept (of libmtmd\'s) | mean cosine | min cosine | mean cosine, last tenth kept |',
  '| --- | --- | --- | --- | --- | --- |',
];
for (const [name, mmproj] of [['Qwen2-Audio (`qwen2a`)', m.qwen2AudioMmproj], ['Qwen2.5-Omni (`qwen2.5o` audio)', m.qwen25OmniMmproj]] as const) {
  const model = await loadModel({ model: name.startsWith('Qwen2.5') ? m.qwen2vlModel : m.qwen2Model, mmproj, threads: 1 });
  body.push(...await rows(model, name, lengths));
  model.dispose();
}
const cpu = (cpus()[0]?.model ?? 'unknown CPU').replace(/[,;]/g, ' ').replace(/\s+/g, ' ').trim();
const cmd = ['npm run bench --', 'audio-cosine', ...args.filter((a) => a !== '--write-docs')].join(' ');
const footer = `Measured by \`${cmd}\` at commit ${commit}, ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC, on ${cpu}, ${availableParallelism()} cores; ` +
  `load average at the start ${load.map((x) => x.toFixed(2)).join(' / ')}; one run: cosine per kept position between the short clip's embeddings and the full 30-s clip's at the same position (deterministic: the encoders are the same floats each run).`;
const content = `${body.join('\n')}\n\n${footer}`;
console.log(content);
if (args.includes('--write-docs')) {
  // the table goes between its markers (bench/doc-table.ts's convention, issue 30)
  const path = join(root, 'docs/methods.md');
  const doc = readFileSync(path, 'utf8');
  const a = '<!-- bench:audio-cosine:start -->', b = '<!-- bench:audio-cosine:end -->';
  const i = doc.indexOf(a), j = doc.indexOf(b);
  if (i < 0 || j < i) throw new Error(`docs/methods.md has no ${a} … ${b} section`);
  writeFileSync(path, `${doc.slice(0, i + a.length)}\n${content}\n${doc.slice(j)}`);
  console.error('docs/methods.md: section audio-cosine written');
}
