/**
 * Encode benchmark (issue 4): frames per second of `model.encode` against llama.cpp's own
 * `llama-mtmd-cli` (built from the same vendored tree) on the same images, same model, same run.
 *
 * The model is a random-weight LLaVA-style pair sized so that the vision encoder dominates:
 * CLIP ViT 224 px / patch 14 (16 × 16 = 256 tokens), width 256, 6 blocks. llama-mtmd-cli is
 * given all images in one prompt; its own log gives the time of each encoder batch
 * ("mtmd batch encoding done in N ms"), summed. vidlm encodes the same decoded images.
 *
 * Run: npm run bench -- encode [--frames 32] [--repeat 3] [--threads N]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadModel } from '../lib/index.js';
import { tinyModels } from '../lib/fixtures/tiny-models.js';
import { TINY_LLAVA } from '../lib/fixtures/tiny-params.js';

const { values } = parseArgs({ options: { frames: { type: 'string' }, repeat: { type: 'string' }, threads: { type: 'string' } } });
const N = Number(values.frames ?? 32);
const REPEAT = Number(values.repeat ?? 3);
const THREADS = Number(values.threads ?? availableParallelism());
const root = process.cwd();

const BENCH = { ...TINY_LLAVA, nEmbd: 256, nHead: 4, nHeadKv: 4, nFf: 512, projectionDim: 256, mismatchProjectionDim: 128,
  imageSize: 224, patchSize: 14, visionWidth: 256, visionLayers: 6, visionHeads: 4, visionFf: 1024, contextLength: 16384 };
const models = await tinyModels({ cacheDir: join(root, '.cache', 'models-bench'), params: BENCH });

// N different 224×224 pictures from a moving test pattern
const dir = join(root, '.cache', 'media', 'bench-encode');
mkdirSync(dir, { recursive: true });
const images = Array.from({ length: N }, (_, i) => join(dir, `frame-${String(i).padStart(3, '0')}.png`));
if (!images.every(existsSync)) {
  execFileSync('ffmpeg', ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=224x224:rate=${N}:duration=1`,
    '-frames:v', String(N), '-start_number', '0', join(dir, 'frame-%03d.png')]);
}
const rgbOf = (png: string) => new Uint8Array(execFileSync('ffmpeg', ['-loglevel', 'error', '-i', png, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-']));
const frames = images.map((f, i) => ({ t: i, width: 224, height: 224, rgb: rgbOf(f) }));

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

// vidlm and llama-mtmd-cli take turns, so a change in machine load hits both alike.
const model = await loadModel({ model: models.model, mmproj: models.mmproj, threads: THREADS, cache: false });
await model.encode(frames.slice(0, 1)); // warm-up: first graph allocation
const cli = join(root, 'build', 'bin', 'llama-mtmd-cli');
if (!existsSync(cli)) execFileSync(process.execPath, [join(root, 'scripts', 'build-native.mjs'), '--target', 'llama-mtmd-cli'], { stdio: 'inherit' });
const ours: number[] = [];
const theirs: number[] = [];
const walls: number[] = [];
let batches = 0;
for (let r = 0; r < REPEAT; r++) {
  const { stats } = await model.encodeWithStats(frames, { batchSize: 16 });
  ours.push(stats.ms);
  batches = stats.batches;

  const t0 = performance.now();
  const p = spawnSync(cli, ['-m', models.model, '--mmproj', models.mmproj, ...images.flatMap((f) => ['--image', f]), '-p', 'Describe.',
    '-n', '1', '--temp', '0', '-c', String(N * 256 + 512), '-t', String(THREADS)], { encoding: 'utf8' });
  walls.push(performance.now() - t0);
  if (p.status !== 0) throw new Error(`llama-mtmd-cli failed: ${p.stderr.slice(-2000)}`);
  const ms = [...p.stderr.matchAll(/mtmd batch encoding done in (\d+) ms/g)].map((m) => Number(m[1]));
  if (ms.length === 0) throw new Error('no encode timings in llama-mtmd-cli\'s log');
  theirs.push(ms.reduce((a, b) => a + b, 0));
}
model.dispose();

const fps = (ms: number) => (N * 1000) / ms;
const [a, b] = [median(ours), median(theirs)];
console.log(`encode benchmark: ${N} images 224×224 → 256 tokens each, CLIP width 256 × 6 blocks, ${THREADS} threads, median of ${REPEAT}`);
console.log(`  vidlm model.encode    ${a.toFixed(0).padStart(6)} ms  ${fps(a).toFixed(1).padStart(6)} frames/s  (${batches} encoder graphs)`);
console.log(`  llama-mtmd-cli encode ${b.toFixed(0).padStart(6)} ms  ${fps(b).toFixed(1).padStart(6)} frames/s  (sum of its "mtmd batch encoding" lines)`);
console.log(`  ratio vidlm / llama-mtmd-cli: ${(fps(a) / fps(b)).toFixed(2)}× frames per second`);
console.log(`  (llama-mtmd-cli whole process, load + ${N} images + 1 token: ${median(walls).toFixed(0)} ms)`);
