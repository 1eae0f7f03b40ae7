/**
 * Watch benchmark (issue 13): watch() against the naive loop a user writes by hand, a fresh
 * ask() per window, on the same recording and the same model in the same run, at 1 fps with
 * every = 10 s and window = 30 s (a file read with realtime: false, so both run as fast as they
 * can). Reports frames encoded per window and the real-time factor (stream seconds answered
 * per wall second). Three rows per model:
 *   watch        watch(): each frame encoded once, one context rewound per window
 *   ask, no cache   ask() per window on a model loaded with cache: false (every frame of every window encoded)
 *   ask, cache   ask() per window with vidlm's default embedding cache (frames keyed by file and time)
 * Models: the tiny test pair and a larger random pair (CLIP 224 px/14 tower, 256 tokens a frame).
 *
 * Run: npm run build:ts && npm run bench -- watch [--seconds 120] [--threads 1] [--max-tokens 16]
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ask, loadModel, watch, type Model } from '../lib/index.js';
import { tinyModels } from '../lib/fixtures/tiny-models.js';
import { benchPair } from './models.js';

const { values } = parseArgs({ options: { seconds: { type: 'string' }, threads: { type: 'string' }, 'max-tokens': { type: 'string' } } });
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

interface Row { model: string; method: string; windows: number; encodedPerWindow: number; wallS: number; rtf: number }
const rows: Row[] = [];
const report = (r: Row) => console.log(`  ${r.model}, ${r.method}: ${r.windows} windows, ${r.encodedPerWindow.toFixed(1)} frames encoded per window, ${r.wallS.toFixed(1)} s`);
const ends = Array.from({ length: Math.floor(SECONDS / EVERY) }, (_, k) => (k + 1) * EVERY);

async function runWatch(label: string, model: Model, contextSize: number, strategy: 'pllava'): Promise<void> {
  const t0 = performance.now();
  let windows = 0, encoded = 0;
  for await (const x of watch(clip, { model, every: EVERY, window: WINDOW, fps: FPS, realtime: false, strategy, contextSize, maxTokens: MAX_TOKENS, temperature: 0, prompt: 'Describe what changed.' })) {
    if (x.type !== 'window') continue;
    windows++;
    encoded += x.encoded;
  }
  const wallS = (performance.now() - t0) / 1000;
  rows.push({ model: label, method: 'watch', windows, encodedPerWindow: encoded / windows, wallS, rtf: SECONDS / wallS });
  report(rows[rows.length - 1]!);
}

async function runNaive(label: string, model: Model, method: string, contextSize: number, strategy: 'pllava'): Promise<void> {
  const t0 = performance.now();
  let encoded = 0;
  for (const end of ends) {
    const misses = model.cache?.misses ?? 0;
    const r = await ask(clip, 'Describe what changed.', { model, fps: FPS, segment: [Math.max(0, end - WINDOW), end], strategy, contextSize, maxTokens: MAX_TOKENS, temperature: 0 });
    // without a cache every sampled frame is encoded; with one, each miss is one encode
    encoded += model.cache ? model.cache.misses - misses : r.frames.length;
  }
  const wallS = (performance.now() - t0) / 1000;
  rows.push({ model: label, method, windows: ends.length, encodedPerWindow: encoded / ends.length, wallS, rtf: SECONDS / wallS });
  report(rows[rows.length - 1]!);
}

const tiny = await tinyModels();
const big = await benchPair(root, 'clip224', 'llava');
const pairs = [
  { label: 'tiny (112 px, 64 tok/frame)', model: tiny.model, mmproj: tiny.mmproj, contextSize: 2048 },
  { label: 'clip224 llava (224 px, 256 tok/frame)', model: big.model, mmproj: big.mmproj, contextSize: 8192 },
];
console.log(`watch benchmark: ${SECONDS} s recording, ${FPS} fps, every ${EVERY} s, window ${WINDOW} s, ${MAX_TOKENS} answer tokens, ${THREADS} thread(s), strategy pllava`);
for (const p of pairs) {
  const noCache = await loadModel({ model: p.model, mmproj: p.mmproj, threads: THREADS, cache: false });
  const cached = await loadModel({ model: p.model, mmproj: p.mmproj, threads: THREADS });
  try {
    await runWatch(p.label, noCache, p.contextSize, 'pllava');
    await runNaive(p.label, noCache, 'ask, no cache', p.contextSize, 'pllava');
    await runNaive(p.label, cached, 'ask, cache', p.contextSize, 'pllava');
  } finally {
    noCache.dispose();
    cached.dispose();
  }
}
console.log('\n| model | method | windows | frames encoded / window | wall s | real-time factor | vs naive (ask, no cache) |');
console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows) {
  const naive = rows.find((x) => x.model === r.model && x.method === 'ask, no cache')!;
  console.log(`| ${r.model} | ${r.method} | ${r.windows} | ${r.encodedPerWindow.toFixed(1)} | ${r.wallS.toFixed(1)} | ${r.rtf.toFixed(1)} | ${(naive.wallS / r.wallS).toFixed(2)}× |`);
}
console.log(`\ngoal: watch encodes ≤ every × fps = ${EVERY * FPS} frames per window (new frames only); the naive loop encodes window × fps = ${WINDOW * FPS}.`);
