/**
 * Watch benchmark (issue 13): watch() against the naive loop a user writes by hand, a fresh
 * ask() per window, on the same recording and the same model in the same run, at 1 fps with
 * every = 10 s and window = 30 s (a file read with realtime: false, so both run as fast as they
 * can). Reports frames encoded per window and the real-time factor (stream seconds answered
 * per wall second). Three rows per model:
 *   watch        watch(): each frame encoded once, one context rewound per window
 *   ask, no cache   ask() per window on a model loaded with cache: false (every frame of every window encoded)
 *   ask, cache   ask() per window with vidlm's default embedding cache (frames keyed by file and time;
 *                emptied before each run, so every run starts cold)
 * Frames encoded are counted at the native encoder (the addon's encoderCounters(), issue 30) and
 * checked against what the surface reports (watch's `encoded`, ask's frames or cache misses): a
 * mismatch stops the bench. The three methods take turns, the order reversed every other run;
 * cells are medians of --runs runs with min–max.
 * Models: the tiny test pair and a larger random pair (CLIP 224 px/14 tower, 256 tokens a frame).
 *
 * Run: npm run build:ts && npm run bench -- watch [--runs 3] [--seconds 120] [--threads 1] [--max-tokens 16] [--write-docs]
 *      (--write-docs: docs/benchmarks.md, section bench:watch)
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ask, loadModel, watch, type Model } from '../lib/index.js';
import { native } from '../lib/native.js';
import { tinyModels } from '../lib/fixtures/tiny-models.js';
import { benchPair } from './models.js';
import { benchRun, median, publish, spread } from './doc-table.js';

const { values } = parseArgs({ options: { runs: { type: 'string' }, seconds: { type: 'string' }, threads: { type: 'string' }, 'max-tokens': { type: 'string' }, 'write-docs': { type: 'boolean' }, markdown: { type: 'boolean' } } });
const run = benchRun('watch');
const RUNS = Number(values.runs ?? 3);
const SECONDS = Number(values.seconds ?? 120);
const THREADS = Number(values.threads ?? 1);
const MAX_TOKENS = Number(values['max-tokens'] ?? 16);
const EVERY = 10, WINDOW = 30, FPS = 1;
const root = process.cwd();

const dir = join(root, '.cache', 'media');
mkdirSync(dir, { recursive: true });
const clip = join(dir, `bench-watch-${SECONDS}.mp4`);
if (!existsSync(clip)) {
  execFileSync('ffmpeg', ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=640x360:rate=25:duration=${SECONDS}`,
    '-c:v', 'libx264', '-preset', 'veryfast', '-g', '50', '-pix_fmt', 'yuv420p', clip]);
}

interface Sample { windows: number; encoded: number; reported: number; wallS: number }
const samples = new Map<string, Sample[]>();
const encoderCount = () => native().encoderCounters().framesEncoded;
const ends = Array.from({ length: Math.floor(SECONDS / EVERY) }, (_, k) => (k + 1) * EVERY);

function record(label: string, method: string, x: Sample): void {
  if (x.encoded !== x.reported) throw new Error(`${label}, ${method}: the encoder counted ${x.encoded} frames, the surface reported ${x.reported}`);
  const k = `${label}|${method}`;
  samples.set(k, [...(samples.get(k) ?? []), x]);
  console.error(`  ${label}, ${method}: ${x.windows} windows, ${(x.encoded / x.windows).toFixed(1)} frames encoded per window, ${x.wallS.toFixed(1)} s`);
}

async function runWatch(label: string, model: Model, contextSize: number): Promise<void> {
  const before = encoderCount();
  const t0 = performance.now();
  let windows = 0, reported = 0;
  for await (const x of watch(clip, { model, every: EVERY, window: WINDOW, fps: FPS, realtime: false, strategy: 'pllava', contextSize, maxTokens: MAX_TOKENS, temperature: 0, prompt: 'Describe what changed.' })) {
    if (x.type !== 'window') continue;
    windows++;
    reported += x.encoded;
  }
  record(label, 'watch', { windows, encoded: encoderCount() - before, reported, wallS: (performance.now() - t0) / 1000 });
}

async function runNaive(label: string, model: Model, method: string, contextSize: number): Promise<void> {
  model.cache?.clear(); // every run starts cold
  const before = encoderCount();
  const t0 = performance.now();
  let reported = 0;
  for (const end of ends) {
    const misses = model.cache?.misses ?? 0;
    const r = await ask(clip, 'Describe what changed.', { model, fps: FPS, segment: [Math.max(0, end - WINDOW), end], strategy: 'pllava', contextSize, maxTokens: MAX_TOKENS, temperature: 0 });
    // what the surface says: without a cache every sampled frame, with one each miss
    reported += model.cache ? model.cache.misses - misses : r.frames.length;
  }
  record(label, method, { windows: ends.length, encoded: encoderCount() - before, reported, wallS: (performance.now() - t0) / 1000 });
}

const tiny = await tinyModels();
const big = await benchPair(root, 'clip224', 'llava');
const pairs = [
  { label: 'tiny (112 px, 64 tok/frame)', model: tiny.model, mmproj: tiny.mmproj, contextSize: 2048 },
  { label: 'clip224 llava (224 px, 256 tok/frame)', model: big.model, mmproj: big.mmproj, contextSize: 8192 },
];
console.error(`watch benchmark: ${SECONDS} s recording, ${FPS} fps, every ${EVERY} s, window ${WINDOW} s, ${MAX_TOKENS} answer tokens, ${THREADS} thread(s), strategy pllava, ${RUNS} runs`);
const methods = ['watch', 'ask, no cache', 'ask, cache'];
for (const p of pairs) {
  const noCache = await loadModel({ model: p.model, mmproj: p.mmproj, threads: THREADS, cache: false });
  const cached = await loadModel({ model: p.model, mmproj: p.mmproj, threads: THREADS });
  try {
    for (let r = 0; r < RUNS; r++) {
      for (const method of r % 2 ? [...methods].reverse() : methods) {
        if (method === 'watch') await runWatch(p.label, noCache, p.contextSize);
        else await runNaive(p.label, method === 'ask, cache' ? cached : noCache, method, p.contextSize);
      }
    }
  } finally {
    noCache.dispose();
    cached.dispose();
  }
}
const lines = [
  '| model | method | frames encoded / window (at the encoder) | wall | real-time factor | naive wall / this wall |',
  '| --- | --- | ---: | --- | ---: | --- |',
];
for (const p of pairs) {
  const naive = samples.get(`${p.label}|ask, no cache`)!;
  for (const method of methods) {
    const xs = samples.get(`${p.label}|${method}`)!;
    const walls = xs.map((x) => x.wallS * 1000);
    const per = xs.map((x, k) => naive[k]!.wallS / x.wallS);
    const perWindow = xs.map((x) => x.encoded / x.windows);
    lines.push(`| ${p.label} | ${method} | ${median(perWindow).toFixed(1)} | ${spread(walls)} | ${(SECONDS / median(xs.map((x) => x.wallS))).toFixed(1)} | ` +
      `${(median(naive.map((x) => x.wallS)) / median(xs.map((x) => x.wallS))).toFixed(2)}× (${Math.min(...per).toFixed(2)}–${Math.max(...per).toFixed(2)}) |`);
  }
}
publish(run, {
  file: 'docs/benchmarks.md', section: 'watch', body: lines.join('\n'), runs: RUNS,
  statistic: `in one process, ${THREADS} thread(s), the three methods taking turns (order reversed every other run); wall cells are medians with min–max, the ratio is the ratio of medians with the range of the per-run ratios; frames encoded from the addon's encoder counter, equal to what each surface reported in every run`,
});
