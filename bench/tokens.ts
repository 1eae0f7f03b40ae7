/**
 * Prompt tokens and time of each strategy for a 60-second clip, against llama.cpp's own video
 * path run in the same benchmark: llama-mtmd-cli built with MTMD_VIDEO (bench/reference-build.ts)
 * given the clip with --video (its mtmd-helper spawns the ffmpeg program: 4 fps, every frame in
 * full, a "[XmY.YYs]" timestamp every 5 s). Both sides are whole processes doing the same work
 * with the same tiny model pair (8×8 grid, 64 tokens per frame): load the pair, decode the clip,
 * encode, evaluate the prompt, generate one token. vidlm is `vidlm ask --json` (dist/cli.js).
 *
 * llama-mtmd-cli's prompt tokens are read from libllama's own perf lines (prompt-eval tokens,
 * plus timed one-token runs); vidlm's from `tokens.prompt`. The G=24 and G=27 columns count
 * the visual tokens of real encoders (CLIP-L/14@336, SigLIP-so400m@384) with each strategy's own
 * counter, which the measured G=8 column checks; they are counts, not measurements.
 *
 * Run: npm run build:ts && npm run bench -- tokens [--repeat 3]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { countTokens, strategyDefaults, type StrategyName } from '../lib/index.js';
import { tinyModels } from '../lib/fixtures/tiny-models.js';
import { referenceVideoCli } from './reference-build.js';

const { values } = parseArgs({ options: { repeat: { type: 'string' } } });
const REPEAT = Number(values.repeat ?? 3);
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
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const framesOf = (s: StrategyName) => (strategyDefaults[s] as { frames: number }).frames;

function timed(cmd: string, args: string[]): { ms: number; stdout: string; stderr: string } {
  const t0 = performance.now();
  const p = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 28 });
  const ms = performance.now() - t0;
  if (p.status !== 0) throw new Error(`${cmd} ${args.slice(0, 2).join(' ')} failed (${p.status}): ${p.stderr.slice(-3000)}`);
  return { ms, stdout: p.stdout, stderr: p.stderr };
}

/** llama.cpp's video path: its prompt tokens and the number of frames its helper produced. */
function llamaCpp(): { ms: number; prompt: number; frames: number } {
  // -lv 4: libllama's own info lines (its perf summary) pass the CLI's log filter
  const r = timed(ref, ['-m', m.model, '--mmproj', m.mmproj, '--video', clip, '-p', QUESTION, '-n', '1', '--temp', '0', '-c', '20480', '-t', '2', '-lv', '4']);
  const pEval = /prompt eval time =\s*[\d.]+ ms \/\s*(\d+) tokens/.exec(r.stderr);
  const runs = /\beval time =\s*([\d.]+) ms \/\s*(\d+) runs/.exec(r.stderr);
  if (!pEval || !runs) throw new Error(`no perf lines in llama-mtmd-cli's log:\n${r.stderr.slice(-3000)}`);
  // With -n 1 the generated token's decode is never synchronised into the counters (its "1 run"
  // at 0.00 ms is libllama's clamp); timed single-token runs are one-token prompt chunks.
  const frames = [...r.stderr.matchAll(/encoding mtmd batch, n_chunks = (\d+)/g)].reduce((n, x) => n + Number(x[1]), 0);
  return { ms: r.ms, prompt: Number(pEval[1]) + (Number(runs[1]) > 0 ? Number(runs[2]) : 0), frames };
}

function vidlm(s: StrategyName): { ms: number; prompt: number; visual: number; frames: number } {
  const r = timed(process.execPath, [join(root, 'dist', 'cli.js'), 'ask', clip, QUESTION, '--model', m.model, '--mmproj', m.mmproj,
    '--strategy', s, ...(s === 'slowfast' ? ['--time-tokens', 'lita'] : []), '--max-tokens', '1', '--temp', '0', '--ctx-size', '8192', '--threads', '2', '--json']);
  const j = JSON.parse(r.stdout) as { tokens: { prompt: number; visual: number }; frames: unknown[] };
  return { ms: r.ms, prompt: j.tokens.prompt, visual: j.tokens.visual, frames: j.frames.length };
}

const strategies: StrategyName[] = ['concat', 'slowfast', 'pllava', 'bilinear', 'vcgpt'];
const runs = new Map<string, { ms: number[]; prompt: number; frames: number }>();
for (let r = 0; r < REPEAT; r++) {
  // turns: llama.cpp then every strategy, so a change in machine load hits all alike
  const l = llamaCpp();
  const lr = runs.get('llama') ?? { ms: [], prompt: l.prompt, frames: l.frames };
  lr.ms.push(l.ms);
  runs.set('llama', lr);
  for (const s of strategies) {
    const v = vidlm(s);
    const count = countTokens(s, { frames: framesOf(s), nx: 8, ny: 8 });
    if (v.visual !== count) throw new Error(`${s}: measured ${v.visual} visual tokens, counted ${count}`);
    const e = runs.get(s) ?? { ms: [], prompt: v.prompt, frames: v.frames };
    e.ms.push(v.ms);
    runs.set(s, e);
  }
}

const L = runs.get('llama')!;
const lms = median(L.ms);
console.log(`${DURATION} s clip, tiny model (G = 8: 64 tokens per frame), whole processes, median of ${REPEAT}:\n`);
console.log(`${'method'.padEnd(30)}${'frames'.padStart(7)}${'prompt'.padStart(8)}${'time'.padStart(10)}   ${'prompt vs llama.cpp'.padEnd(21)}${'time vs'.padEnd(9)}${'G=24'.padStart(8)}${'G=27'.padStart(8)}`);
const line = (name: string, frames: number, prompt: number, ms: number, pr: string, tr: string, g24: number, g27: number) =>
  console.log(`${name.padEnd(30)}${String(frames).padStart(7)}${String(prompt).padStart(8)}${(ms / 1000).toFixed(2).padStart(9)}s   ${pr.padEnd(21)}${tr.padEnd(9)}${String(g24).padStart(8)}${String(g27).padStart(8)}`);
line('llama.cpp video path (4 fps)', L.frames, L.prompt, lms, '1×', '1×', L.frames * 576, L.frames * 729);
const table = [`| llama.cpp video path (4 fps) | ${L.frames} | ${L.prompt} | ${(lms / 1000).toFixed(2)} s | 1× | 1× | ${L.frames * 576} | ${L.frames * 729} |`];
for (const s of strategies) {
  const e = runs.get(s)!;
  const ms = median(e.ms);
  const [g24, g27] = [24, 27].map((g) => countTokens(s, { frames: framesOf(s), nx: g, ny: g }));
  const name = s + (s === 'slowfast' ? ' + LITA time tokens' : '');
  const pr = `${(L.prompt / e.prompt).toFixed(1)}× fewer`, tr = `${(lms / ms).toFixed(1)}×`;
  line(name, e.frames, e.prompt, ms, pr, tr, g24!, g27!);
  table.push(`| ${name} | ${e.frames} | ${e.prompt} | ${(ms / 1000).toFixed(2)} s | ${pr} | ${tr} | ${g24} | ${g27} |`);
}
console.log('\n| method | frames | prompt tokens (G=8) | whole process | prompt vs llama.cpp | time vs llama.cpp | visual G=24 | visual G=27 |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
for (const row of table) console.log(row);
console.log("\nG=24 / G=27: visual tokens counted for those grids (llama.cpp: its measured frame count × G²); the time ratio is llama.cpp's time over vidlm's.");
