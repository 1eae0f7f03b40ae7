/**
 * Encode benchmark: vidlm against llama.cpp's own llama-mtmd-cli (built from the same vendored
 * tree, build/bin/llama-mtmd-cli) on the same N images with the same model pair, both timed as
 * whole processes doing the same work: load the pair, decode the N PNG files, encode them,
 * evaluate the prompt holding them, generate one token. The two take turns, REPEAT times.
 *
 * Two encoder sizes (a small CLIP and a SigLIP-384-sized tower) and two families: llava (the
 * mlp projector; libmtmd encodes one frame per graph) and internvl (libmtmd batches several
 * frames per graph; llama-mtmd-cli does not, because the <img> </img> text around each image
 * splits its batches).
 *
 * In-process figures are printed beside, labelled with their scopes, without a ratio: vidlm's
 * encode stats (preprocessing + encoder graphs) and the sum of llama-mtmd-cli's "mtmd batch
 * encoding done" lines (encoder graphs only).
 *
 * The two sides take turns, the order reversed every other run; cells are medians with min–max.
 *
 * Run: npm run build:ts && npm run bench -- encode [--frames 8] [--repeat 3] [--threads N] [--only clip224,siglip384] [--families llava,internvl] [--write-docs]
 *      (--write-docs: docs/benchmarks.md, section bench:encode)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { benchPair, ENCODERS, type EncoderSize, type Family } from './models.js';
import { benchRun, median, publish, spread } from './doc-table.js';
import { referenceVideoCli } from './reference-build.js';

const { values } = parseArgs({ options: { frames: { type: 'string' }, repeat: { type: 'string' }, threads: { type: 'string' }, only: { type: 'string' }, families: { type: 'string' }, 'write-docs': { type: 'boolean' }, markdown: { type: 'boolean' } } });
const run = benchRun('encode');
const N = Number(values.frames ?? 8);
const REPEAT = Number(values.repeat ?? 3);
const THREADS = Number(values.threads ?? availableParallelism());
const SIZES = (values.only?.split(',') ?? Object.keys(ENCODERS)) as EncoderSize[];
const FAMILIES = (values.families?.split(',') ?? ['llava', 'internvl']) as Family[];
const root = process.cwd();

// llama-mtmd-cli from the vendored tree: vidlm's build folder if it has one, else the reference build (its video path does not touch images)
const cli = existsSync(join(root, 'build', 'bin', 'llama-mtmd-cli')) ? join(root, 'build', 'bin', 'llama-mtmd-cli') : referenceVideoCli(root);

/** N different pictures of a moving test pattern at the encoder's size. */
function images(side: number): string[] {
  const dir = join(root, '.cache', 'media', `bench-encode-${side}`);
  mkdirSync(dir, { recursive: true });
  const files = Array.from({ length: N }, (_, i) => join(dir, `frame-${String(i).padStart(3, '0')}.png`));
  if (!files.every(existsSync)) {
    execFileSync('ffmpeg', ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=${side}x${side}:rate=${N}:duration=1`,
      '-frames:v', String(N), '-start_number', '0', join(dir, 'frame-%03d.png')]);
  }
  return files;
}

function timed(cmd: string, args: string[]): { ms: number; stdout: string; stderr: string } {
  const t0 = performance.now();
  const p = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 28 });
  const ms = performance.now() - t0;
  if (p.status !== 0) throw new Error(`${cmd} failed (${p.status}): ${p.stderr.slice(-2000)}`);
  return { ms, stdout: p.stdout, stderr: p.stderr };
}

const rows: string[] = [];
console.log(`encode benchmark: ${N} images per process, ${THREADS} threads, median of ${REPEAT} turns each`);
for (const size of SIZES) {
  for (const family of FAMILIES) {
    const pair = await benchPair(root, size, family);
    const files = images(pair.imageSize);
    const ctxSize = String(N * pair.tokensPerImage + 512);
    const ours: number[] = [], theirs: number[] = [], oursEnc: number[] = [], theirsEnc: number[] = [];
    let graphs = 0, theirGraphs = 0, promptOurs = 0;
    const vidlmSide = () => {
      const a = timed(process.execPath, [join(root, 'bench', 'encode-worker.mjs'), pair.model, pair.mmproj, String(THREADS), ...files]);
      const w = JSON.parse(a.stdout.trim().split('\n').pop()!) as { encodeMs: number; graphs: number; tokens: number; prompt: number };
      if (w.tokens !== N * pair.tokensPerImage) throw new Error(`vidlm made ${w.tokens} tokens, expected ${N} × ${pair.tokensPerImage}`);
      ours.push(a.ms); oursEnc.push(w.encodeMs); graphs = w.graphs; promptOurs = w.prompt;
    };
    const theirSide = () => {
      const b = timed(cli, ['-m', pair.model, '--mmproj', pair.mmproj, ...files.flatMap((f) => ['--image', f]), '-p', 'Describe.',
        '-n', '1', '--temp', '0', '-c', ctxSize, '-t', String(THREADS)]);
      const enc = [...b.stderr.matchAll(/mtmd batch encoding done in (\d+) ms/g)].map((m) => Number(m[1]));
      if (enc.length === 0) throw new Error("no encode timings in llama-mtmd-cli's log");
      theirs.push(b.ms); theirsEnc.push(enc.reduce((x, y) => x + y, 0)); theirGraphs = enc.length;
    };
    for (let r = 0; r < REPEAT; r++) {
      if (r % 2) { theirSide(); vidlmSide(); } else { vidlmSide(); theirSide(); }
    }
    const [a, b] = [median(ours), median(theirs)];
    console.log(`\n${pair.label}: ${pair.tokensPerImage} tokens per image`);
    console.log(`  whole process  vidlm ${a.toFixed(0).padStart(6)} ms   llama-mtmd-cli ${b.toFixed(0).padStart(6)} ms   ratio ${(b / a).toFixed(2)}× (llama-mtmd-cli time / vidlm time)`);
    console.log(`  in-process     vidlm encode() ${median(oursEnc).toFixed(0)} ms in ${graphs} graphs (preprocessing + encoder)`);
    console.log(`                 llama-mtmd-cli ${median(theirsEnc).toFixed(0)} ms in ${theirGraphs} graphs (encoder only: its "mtmd batch encoding done" lines)`);
    console.log(`  vidlm prompt: ${promptOurs} positions`);
    const per = theirs.map((x, k) => x / ours[k]!);
    rows.push(`| ${pair.label} | ${pair.tokensPerImage} | ${spread(ours)} (${graphs} graphs) | ${spread(theirs)} (${theirGraphs} graphs) | ${(b / a).toFixed(2)}× (${Math.min(...per).toFixed(2)}–${Math.max(...per).toFixed(2)}) |`);
  }
}
publish(run, {
  file: 'docs/benchmarks.md', section: 'encode', runs: REPEAT,
  body: [`| encoder (${N} images, ${THREADS} thread(s)) | tokens/image | vidlm process | llama-mtmd-cli process | llama-mtmd-cli / vidlm |`, '| --- | --- | --- | --- | --- |', ...rows].join('\n'),
  statistic: 'whole processes (spawn to exit), the two sides taking turns (order reversed every other run); times are medians with min–max, the ratio is the ratio of medians with the range of per-run ratios',
});
