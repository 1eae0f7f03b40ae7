/**
 * Prompt tokens and time of each strategy for a 60-second clip, against llama.cpp's own video
 * path run in the same benchmark: llama-mtmd-cli built with MTMD_VIDEO (bench/reference-build.ts)
 * given the clip with --video (its mtmd-helper spawns the ffmpeg program: 4 fps, every frame in
 * full, a "[XmY.YYs]" timestamp every 5 s). Both sides are whole processes with the same tiny model
 * pair (8×8 grid, 64 tokens per frame), the same thread count and the same clip: load the pair,
 * decode the clip, encode, evaluate the prompt, generate one token. vidlm is `vidlm ask --json`.
 *
 * Two kinds of row per strategy, labelled in the table:
 *   same frames     vidlm samples as many frames as llama.cpp's video path took (240 for 60 s at
 *                   4 fps), so both encoders do the same work and the ratio measures the rest
 *                   (decoding in-process vs the ffmpeg program, the tokens each strategy keeps);
 *   each side's default   vidlm with the strategy's own frame count (8 to 100) against llama.cpp's
 *                   240: the design difference, not equal work.
 * Runs take turns: llama.cpp, then every vidlm row, the order reversed every other run; each cell is
 * the median of --runs runs with min–max. Prompt tokens: llama-mtmd-cli's from libllama's perf lines,
 * vidlm's from `tokens.prompt` (checked against each strategy's counter).
 *
 * Run: npm run build:ts && npm run bench -- tokens [--runs 3] [--threads 1] [--write-docs]
 *      (--write-docs: docs/benchmarks.md, section bench:tokens)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { countTokens, strategyDefaults, type PooledStrategyName as StrategyName } from '../lib/index.js';
import { tinyModels } from '../lib/fixtures/tiny-models.js';
import { benchRun, median, publish, spread } from './doc-table.js';
import { referenceVideoCli } from './reference-build.js';

const { values } = parseArgs({ options: { runs: { type: 'string' }, threads: { type: 'string' }, 'write-docs': { type: 'boolean' }, markdown: { type: 'boolean' } } });
const run = benchRun('tokens');
const RUNS = Number(values.runs ?? 3);
const THREADS = String(Number(values.threads ?? 1));
const DURATION = 60;
const QUESTION = 'What happens in this video?';
const root = process.cwd();
const dir = join(root, '.cache', 'media');
mkdirSync(dir, { recursive: true });
const clip = join(dir, 'tokens-60s.mp4');
if (!existsSync(clip)) {
  execFileSync('ffmpeg', ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=duration=${DURATION}:size=320x240:rate=25`,
    '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', clip]);
}
const m = await tinyModels();
const ref = referenceVideoCli(root);
const framesOf = (s: StrategyName) => (strategyDefaults[s] as { frames: number }).frames;

function timed(cmd: string, args: string[]): { ms: number; stdout: string; stderr: string } {
  const t0 = performance.now();
  const p = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 28 });
  const ms = performance.now() - t0;
  if (p.status !== 0) throw new Error(`${cmd} ${args.slice(0, 2).join(' ')} failed (${p.status}): ${p.stderr.slice(-3000)}`);
  return { ms, stdout: p.stdout, stderr: p.stderr };
}

interface Sample { ms: number; prompt: number; frames: number }

/** llama.cpp's video path: its prompt tokens and the number of frames its helper produced. */
function llamaCpp(): Sample {
  // -lv 4: libllama's own info lines (its perf summary) pass the CLI's log filter
  const r = timed(ref, ['-m', m.model, '--mmproj', m.mmproj, '--video', clip, '-p', QUESTION, '-n', '1', '--temp', '0', '-c', '20480', '-t', THREADS, '-lv', '4']);
  const pEval = /prompt eval time =\s*[\d.]+ ms \/\s*(\d+) tokens/.exec(r.stderr);
  const runs = /\beval time =\s*([\d.]+) ms \/\s*(\d+) runs/.exec(r.stderr);
  if (!pEval || !runs) throw new Error(`no perf lines in llama-mtmd-cli's log:\n${r.stderr.slice(-3000)}`);
  // With -n 1 the generated token's decode is never synchronised into the counters (its "1 run"
  // at 0.00 ms is libllama's clamp); timed single-token runs are one-token prompt chunks.
  const frames = [...r.stderr.matchAll(/encoding mtmd batch, n_chunks = (\d+)/g)].reduce((n, x) => n + Number(x[1]), 0);
  return { ms: r.ms, prompt: Number(pEval[1]) + (Number(runs[1]) > 0 ? Number(runs[2]) : 0), frames };
}

function vidlm(s: StrategyName, frames: number): Sample {
  const r = timed(process.execPath, [join(root, 'dist', 'cli.js'), 'ask', clip, QUESTION, '--model', m.model, '--mmproj', m.mmproj,
    '--strategy', s, '--frames', String(frames), ...(s === 'slowfast' ? ['--time-tokens', 'lita'] : []),
    '--max-tokens', '1', '--temp', '0', '--ctx-size', '20480', '--threads', THREADS, '--json']);
  const j = JSON.parse(r.stdout) as { tokens: { prompt: number; visual: number }; frames: unknown[] };
  const counted = countTokens(s, { frames, nx: 8, ny: 8 });
  if (j.tokens.visual !== counted) throw new Error(`${s}, ${frames} frames: measured ${j.tokens.visual} visual tokens, its counter says ${counted}`);
  if (j.frames.length !== frames) throw new Error(`${s}: asked for ${frames} frames, got ${j.frames.length}`);
  return { ms: r.ms, prompt: j.tokens.prompt, frames: j.frames.length };
}

const strategies: StrategyName[] = ['concat', 'slowfast', 'pllava', 'bilinear', 'vcgpt'];
const samples = new Map<string, Sample[]>();
const add = (k: string, x: Sample) => samples.set(k, [...(samples.get(k) ?? []), x]);
console.error(`tokens: ${RUNS} runs, ${THREADS} thread(s), load at start ${run.load.map((x) => x.toFixed(2)).join(' ')}`);
let refFrames = 0;
for (let r = 0; r < RUNS; r++) {
  const l = llamaCpp();
  add('llama', l);
  if (refFrames && l.frames !== refFrames) throw new Error(`llama.cpp took ${l.frames} frames, before ${refFrames}`);
  refFrames = l.frames;
  console.error(`  run ${r + 1}: llama.cpp ${l.frames} frames, ${l.prompt} tokens, ${(l.ms / 1000).toFixed(2)} s`);
  const order = strategies.flatMap((s) => [[s, 'same'], [s, 'default']] as const);
  for (const [s, kind] of r % 2 ? [...order].reverse() : order) {
    const v = vidlm(s, kind === 'same' ? refFrames : framesOf(s));
    add(`${s}|${kind}`, v);
    console.error(`  run ${r + 1}: ${s} ${kind} ${v.frames} frames, ${v.prompt} tokens, ${(v.ms / 1000).toFixed(2)} s`);
  }
}

const L = samples.get('llama')!;
const lms = median(L.map((x) => x.ms));
const lines = [
  '| rows | method | frames | prompt tokens | whole process | prompt vs llama.cpp | llama.cpp time / vidlm time |',
  '| --- | --- | ---: | ---: | --- | --- | --- |',
  `| reference | llama.cpp video path (4 fps) | ${L[0]!.frames} | ${L[0]!.prompt} | ${spread(L.map((x) => x.ms))} | 1× | 1× |`,
];
for (const kind of ['same', 'default'] as const) {
  for (const s of strategies) {
    const xs = samples.get(`${s}|${kind}`)!;
    const ms = xs.map((x) => x.ms);
    // the ratio of medians, with the range of the per-run ratios (run k of llama.cpp against run k of vidlm)
    const per = xs.map((x, k) => L[k]!.ms / x.ms);
    const name = s + (s === 'slowfast' ? ' + LITA time tokens' : '');
    lines.push(`| ${kind === 'same' ? 'same frames' : "each side's default"} | ${name} | ${xs[0]!.frames} | ${xs[0]!.prompt} | ${spread(ms)} | ` +
      `${(L[0]!.prompt / xs[0]!.prompt).toFixed(1)}× fewer | ${(lms / median(ms)).toFixed(2)}× (${Math.min(...per).toFixed(2)}–${Math.max(...per).toFixed(2)}) |`);
  }
}
publish(run, {
  file: 'docs/benchmarks.md', section: 'tokens', body: lines.join('\n'), runs: RUNS,
  statistic: `whole processes (spawn to exit), ${THREADS} thread(s) on both sides, llama.cpp and every vidlm row taking turns (order reversed every other run); time cells are medians with min–max, the time ratio is the ratio of medians with the range of the per-run ratios`,
});
