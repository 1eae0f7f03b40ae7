/**
 * `npm run bench -- reduce [--pairs tiny,05b] [--clips static,talking,motion] [--runs 3] [--rows off,skip,merge,auto] [--threads 1] [--no-eval]`
 *
 * Token reduction (lib/reduce, issue 25), whole process vs whole process: each row is `vidlm`'s
 * ask() in a process of its own (bench/reduce-child.mjs) on a 10-minute clip made by the ffmpeg
 * program, rows alternating within each run; medians with min–max. Rows: the fixed strategy
 * alone (off), + skip (still frames not encoded), + merge (repeated tokens merged), + codec plan
 * ('auto': frame times from the packets). Frames encoded = the distinct pictures among the frames
 * ask() kept (result.reduced.pictures: a returning picture reuses its embedding; the encoder's
 * cache is off in the child, so no other frame is encoded); blocks = the kept frames.
 * Accuracy: the trained semantic eval (semanticModel(): this recipe's pair in ~/.cache/vidlm, its colour and count tasks) at
 * each row, as a share of the unreduced row's.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { promisify } from 'node:util';
import { ask, loadModel, type ReduceOption } from '../lib/index.js';
import { QUESTIONS, scoreAnswer, tasksFor, type SemanticClip } from '../lib/eval/semantic/tasks.js';
import { tinyModels } from '../lib/fixtures/tiny-models.js';
import { semanticModel } from '../lib/fixtures/semantic/build.js';
import { benchPair, LLM_05B } from './models.js';
import { watchWith } from '../lib/watch/watch.js';
import { benchRun, publish } from './doc-table.js';

const bench = benchRun('reduce');
const run = promisify(execFile);
const root = resolve('.');
const { values } = parseArgs({ options: {
  'write-docs': { type: 'boolean' }, markdown: { type: 'boolean' },
  pairs: { type: 'string', default: 'tiny,05b' }, clips: { type: 'string', default: 'static,talking,motion' }, runs: { type: 'string', default: '3' },
  rows: { type: 'string', default: 'off,skip,merge,auto' }, threads: { type: 'string', default: '1' }, 'no-eval': { type: 'boolean', default: false },
  strategy: { type: 'string', default: 'pllava' }, frames: { type: 'string', default: '16' }, watch: { type: 'boolean', default: false },
} });
const RUNS = Number(values.runs), THREADS = Number(values.threads), STRATEGY = values.strategy!, FRAMES = Number(values.frames);

const ROWS: Record<string, ReduceOption> = { off: 'off', skip: { merge: false, codecPlan: false }, merge: { codecPlan: false }, auto: 'auto' };
const ROW_LABEL: Record<string, string> = { off: `${STRATEGY} alone`, skip: '+ skip', merge: '+ skip + merge', auto: '+ codec plan (auto)' };

// 10 minutes at 10 fps, 320×240, H.264 (x264 veryfast, GOP 250); what moves is overlaid (overlay evaluates its position every frame)
const BOX = (c: string, w: number, h: number) => `color=c=${c}:s=${w}x${h}:r=10:d=600`;
const CLIPS: Record<string, { label: string; inputs: string[]; graph: string }> = {
  static: {
    label: 'static camera: a still room, a person (box) crosses it 3 times for 30 s, sensor noise',
    inputs: [`color=c=0x506070:s=320x240:r=10:d=600`, BOX('red', 40, 90)],
    graph: `[0]drawbox=x=40:y=140:w=80:h=60:color=0x8a6a4a:t=fill,drawbox=x=200:y=40:w=60:h=100:color=0x303030:t=fill[bg];`
      + `[bg][1]overlay=x='20+8*mod(t,30)':y=100:enable='between(t,100,130)+between(t,290,320)+between(t,440,470)',noise=alls=2:allf=t`,
  },
  talking: {
    label: 'talking head: a head that sways, a mouth that opens and closes, a still background',
    inputs: [`color=c=0x304050:s=320x240:r=10:d=600`, BOX('0xd0a080', 60, 80), BOX('0x502020', 20, 8)],
    graph: `[0][1]overlay=x='130+8*sin(t*0.7)':y=50[a];[a][2]overlay=x='150+8*sin(t*0.7)':y='105+5*abs(sin(t*5))',noise=alls=2:allf=t`,
  },
  motion: {
    label: 'high motion: a moving test pattern, hue cycling, scrolling',
    inputs: ['testsrc2=s=320x240:r=10:d=600'],
    graph: '[0]hue=H=t*0.7,scroll=h=0.003:v=0.002',
  },
};

async function makeClip(name: string): Promise<string> {
  const dir = join(root, '.cache', 'media');
  const out = join(dir, `bench-reduce-${name}-600s-v2.mp4`);
  if (existsSync(out)) return out;
  mkdirSync(dir, { recursive: true });
  const tmp = `${out}.tmp.mp4`;
  const c = CLIPS[name]!;
  await run('nice', ['-n', '5', 'ffmpeg', '-hide_banner', '-loglevel', 'error', '-nostdin', '-y', ...c.inputs.flatMap((i) => ['-f', 'lavfi', '-i', i]), '-filter_complex', c.graph,
    '-c:v', 'libx264', '-preset', 'veryfast', '-g', '250', '-pix_fmt', 'yuv420p', '-threads', '1', tmp], { maxBuffer: 1 << 24 });
  renameSync(tmp, out);
  return out;
}

interface Sample { wallMs: number; ttftMs: number; encodeMs: number; prefillMs: number; decodeMs: number; visual: number; frames: number; encoded: number }

async function once(pair: { model: string; mmproj: string }, input: string, reduce: ReduceOption): Promise<Sample> {
  const t0 = performance.now();
  const { stdout } = await run(process.execPath, [join(root, 'bench', 'reduce-child.mjs'), JSON.stringify({ ...pair, input, strategy: STRATEGY, frames: FRAMES, threads: THREADS, contextSize: 8192, reduce })], { maxBuffer: 1 << 24 });
  const wallMs = performance.now() - t0;
  const r = JSON.parse(stdout.trim().split('\n').pop()!);
  return { wallMs, ttftMs: r.ttftMs, encodeMs: r.timings.encodeMs, prefillMs: r.timings.prefillMs, decodeMs: r.timings.decodeMs, visual: r.tokens.visual, frames: r.frames, encoded: r.encoded };
}

const med = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2; };
const fmt = (xs: number[], div = 1000, d = 2): string => `${(med(xs) / div).toFixed(d)} (${(Math.min(...xs) / div).toFixed(d)}–${(Math.max(...xs) / div).toFixed(d)})`;

/** The semantic eval's colour and count tasks through ask() with `reduce`: the mean score. */
async function semanticAccuracy(reduce: ReduceOption, strategy: 'concat' | 'pllava', frames: number): Promise<{ score: number; questions: number } | null> {
  // the trained pair of this tree's recipe (built first when missing), not whichever cache folder lists first
  const sm = await semanticModel();
  const dir = sm.dir;
  const clips = (JSON.parse(readFileSync(sm.clipsJson, 'utf8')) as Array<SemanticClip & { file: string }>).map((c) => ({ ...c, file: join(dir, c.file) }));
  const model = await loadModel({ model: sm.model, mmproj: sm.mmproj, threads: THREADS, cache: false });
  let sum = 0, n = 0;
  try {
    // the eval's own frame counts (EVAL_FRAMES: concat 4, pllava 8)
    for (const clip of clips) {
      for (const task of tasksFor(clip, 'none')) {
        const r = await ask(clip.file, QUESTIONS[task], { model, strategy, frames, timeTokens: 'none', temperature: 0, maxTokens: 24, reduce });
        sum += scoreAnswer(clip, task, r.text, 'none');
        n++;
      }
    }
  } finally {
    model.dispose();
  }
  return { score: sum / n, questions: n };
}

const rows = values.rows!.split(',');
const pairs: Record<string, () => Promise<{ model: string; mmproj: string; label: string }>> = {
  tiny: async () => { const m = await tinyModels(); return { model: m.model, mmproj: m.mmproj!, label: 'tiny LLaVA pair (8×8 grid, 64 tokens/frame)' }; },
  '05b': async () => benchPair(root, 'siglip384', 'llava', { ...LLM_05B, name: '05b' }),
};

/** The table's lines: printed and, with --write-docs, written into docs/methods.md (bench:reduce-<pairs>). */
const lines: string[] = [];
const out = (text: string): void => { lines.push(text); };
out(`${STRATEGY}, ${FRAMES} frames asked for, --threads ${THREADS}, ${RUNS} alternating runs; median (min–max), seconds.`);
for (const pairName of values.pairs!.split(',').filter(Boolean)) {
  const pair = await pairs[pairName]!();
  out(`\n**${pair.label}**`);
  for (const clipName of values.clips!.split(',')) {
    const input = await makeClip(clipName);
    const samples: Record<string, Sample[]> = Object.fromEntries(rows.map((r) => [r, []]));
    for (let k = 0; k < RUNS; k++) {
      for (const row of rows) {
        const x = await once(pair, input, ROWS[row]!);
        samples[row]!.push(x);
        // each sample as it comes (stderr): a run cut short still leaves what it measured
        process.stderr.write(`sample ${JSON.stringify({ pair: pairName, clip: clipName, run: k + 1, row, ...x })}\n`);
      }
    }
    out(`\n*${CLIPS[clipName]!.label}*\n`);
    out('| row | frames encoded | visual tokens | encode s | prefill s | time to first token s | total s (process) | TTFT vs alone |');
    out('|---|---|---|---|---|---|---|---|');
    const ref = samples[rows[0]!]!;
    for (const row of rows) {
      const s = samples[row]!;
      const ratio = med(ref.map((x) => x.ttftMs)) / med(s.map((x) => x.ttftMs));
      out(`| ${ROW_LABEL[row]} | ${med(s.map((x) => x.encoded))} of ${FRAMES} (${med(s.map((x) => x.frames))} blocks) | ${med(s.map((x) => x.visual))} | ${fmt(s.map((x) => x.encodeMs))} | ${fmt(s.map((x) => x.prefillMs))} | ${fmt(s.map((x) => x.ttftMs))} | ${fmt(s.map((x) => x.wallMs))} | ${ratio.toFixed(2)}× |`);
    }
  }
}

if (values.watch) {
  // watch on the static clip, tiny pair, answers from a stub (the frames are still encoded): frames encoded and windows asked
  const m = await tinyModels();
  const model = await loadModel({ model: m.model, mmproj: m.mmproj!, threads: THREADS, cache: false });
  const input = await makeClip('static');
  out('\n*watch on the static camera (tiny pair, every 10 s, window 30 s, 1 fps, answers stubbed)*\n');
  out('| reduce | frames encoded | windows | questions asked (the others gated) |');
  out('|---|---|---|---|');
  for (const reduce of ['off', 'auto'] as const) {
    let asked = 0;
    const w = watchWith(input, { model, every: 10, window: 30, fps: 1, realtime: false, reduce }, { answer: () => { asked++; return 'ok'; } });
    let windows = 0;
    for await (const x of w) if (x.type === 'window') windows++;
    out(`| ${reduce} | ${w.stats.encoded} | ${windows} | ${asked} |`);
  }
  model.dispose();
}

if (!values['no-eval']) {
  out('\n*accuracy kept: the trained semantic eval (colour and count tasks, no time tokens, the eval\'s frame counts)*\n');
  out('| reduce | concat, 4 frames | share of off | pllava, 8 frames | share of off |');
  out('|---|---|---|---|---|');
  const ref: Record<string, number> = {};
  for (const row of rows) {
    const cells: string[] = [];
    for (const [strategy, frames] of [['concat', 4], ['pllava', 8]] as const) {
      const a = await semanticAccuracy(ROWS[row]!, strategy, frames);
      if (!a) { cells.push('(no trained semantic model in ~/.cache/vidlm)', ''); continue; }
      ref[strategy] ??= a.score;
      cells.push(`${(100 * a.score).toFixed(1)} % of ${a.questions}`, ref[strategy]! > 0 ? `${(100 * a.score / ref[strategy]!).toFixed(1)} %` : '–');
    }
    out(`| ${row === 'off' ? 'off' : ROW_LABEL[row]} | ${cells.join(' | ')} |`);
  }
}
publish(bench, {
  file: 'docs/methods.md', section: `reduce-${values.pairs!.split(',').join('-')}`, body: lines.join('\n'), runs: RUNS,
  statistic: 'whole processes (spawn to exit), the rows taking turns within each run, each cell the median with min–max; frames encoded from a separate ask() per row (the counts do not depend on timing)',
});
