// The watch soak (issue 13): a file read with realtime: false for 1,000 windows on one model.
// RSS over the last 500 windows must grow less than 5%, and the watch must create one context.
// Not in the suite or .ci/run: npm run test:soak -- --watch [--windows N]. Prints the figures
// and exits 1 when over.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const { loadModel, watch } = await import(join(root, 'dist/index.js'));
const { tinyModels } = await import(join(root, 'dist/fixtures/tiny-models.js'));
const i = process.argv.indexOf('--windows');
const windows = i > 0 ? Number(process.argv[i + 1]) : 1000;
const half = Math.floor(windows / 2);

const dir = join(root, '.cache', 'media');
mkdirSync(dir, { recursive: true });
const seconds = windows + 5;
const clip = join(dir, `watch-soak-${seconds}.mp4`);
// colour cycling once a minute, 2 fps, small: the soak measures the watch, not the decoder
if (!existsSync(clip)) {
  execFileSync('ffmpeg', ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `testsrc=size=160x120:rate=2:duration=${seconds}`,
    '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '20', '-pix_fmt', 'yuv420p', clip]);
}

const m = await tinyModels();
const model = await loadModel({ model: m.model, mmproj: m.mmproj, threads: 1, cache: false });
let contexts = 0;
const create = model.createContext.bind(model);
model.createContext = async (o) => { contexts++; return create(o); };
const rss = () => { globalThis.gc?.(); return process.memoryUsage().rss / 2 ** 20; };
const started = Date.now();
const w = watch(clip, { model, every: 1, window: 3, fps: 1, realtime: false, maxTokens: 4, temperature: 0 });
let n = 0, atHalf = 0, maxHeld = 0;
for await (const x of w) {
  if (x.type !== 'window') continue;
  n++;
  maxHeld = Math.max(maxHeld, w.stats.held);
  if (n === half) atHalf = rss();
  if (n % 100 === 0) console.log(`window ${n}: RSS ${rss().toFixed(1)} MiB, encoded ${w.stats.encoded}, held ${w.stats.held}`);
  if (n === windows) break;
}
const atEnd = rss();
const growth = (atEnd - atHalf) / atHalf;
model.dispose();
console.log(`watch soak: ${n} windows in ${((Date.now() - started) / 1000).toFixed(0)} s; contexts created: ${contexts}; frames encoded: ${w.stats.encoded}; most frames held: ${maxHeld}; RSS after window ${half}: ${atHalf.toFixed(1)} MiB, after window ${n}: ${atEnd.toFixed(1)} MiB (${(growth * 100).toFixed(2)}%)`);
process.exitCode = growth < 0.05 && contexts === 1 && n === windows ? 0 : 1;
