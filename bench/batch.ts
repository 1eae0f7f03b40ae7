/**
 * Batch throughput on this machine: 40 short clips (1 s each, distinct pictures), one ask per
 * clip on the tiny model, run four ways and timed the same way (the batch's own clock, from
 * its first job to its last result, model loads excluded; each run in fresh processes, so no
 * embedding is reused between runs):
 *   local --parallel 1   the reference: one process, one context
 *   local --parallel 2   one process, two contexts on one model
 *   queue, 1 worker      `vidlm batch --queue` + one `vidlm worker` on a local redis-server
 *   queue, 2 workers     + two workers (processes), each with its own copy of the model
 * The status quo, a loop that runs `vidlm ask` once per clip, is timed by the wall clock against
 * the whole `vidlm batch --parallel 1` command (process start and model load included in both).
 * It also counts the Redis commands the queue runs per job (INFO stats) and the worker's start
 * time (process start to ready: model load included).
 *
 * The ways take turns run by run (order reversed every other run); cells are medians of --runs runs
 * with min–max.
 *
 * Run: npm run bench -- batch [--runs 3] [--clips 40] [--frames 4] [--max-tokens 8] [--threads 1] [--write-docs]
 *      (--write-docs: docs/scale.md, section bench:batch)
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { tinyModels } from '../lib/fixtures/tiny-models.js';
import { Cli, RedisServer, cliSync, writeJobs } from '../test/batch/helpers.js';
import { benchRun, median, publish } from './doc-table.js';

const { values } = parseArgs({ options: { runs: { type: 'string' }, clips: { type: 'string' }, frames: { type: 'string' }, 'max-tokens': { type: 'string' }, threads: { type: 'string' }, 'write-docs': { type: 'boolean' }, markdown: { type: 'boolean' } } });
const run = benchRun('batch');
const RUNS = Number(values.runs ?? 3);
const CLIPS = Number(values.clips ?? 40);
const jobOpts = ['--frames', values.frames ?? '4', '--max-tokens', values['max-tokens'] ?? '8', '--temp', '0', '--ctx-size', '1024'];
const threads = ['--threads', values.threads ?? '1'];

// 40 one-second clips cut from one testsrc2 run: every clip shows different pictures
const clipDir = join(process.cwd(), '.cache', 'media', `batch-clips-${CLIPS}`);
if (!existsSync(clipDir) || readdirSync(clipDir).length < CLIPS) {
  mkdirSync(clipDir, { recursive: true });
  execFileSync('ffmpeg', ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=duration=${CLIPS}:size=320x240:rate=25`, '-c:v', 'libx264', '-preset', 'veryfast',
    '-pix_fmt', 'yuv420p', '-force_key_frames', 'expr:gte(t,n_forced*1)', '-f', 'segment', '-segment_time', '1', '-reset_timestamps', '1', join(clipDir, 'clip%03d.mp4')]);
}
const clips = readdirSync(clipDir).filter((f) => f.endsWith('.mp4')).sort().slice(0, CLIPS).map((f) => join(clipDir, f));
const m = await tinyModels();
const modelArgs = ['--model', m.model, '--mmproj', m.mmproj, ...threads];
const work = join(process.cwd(), '.cache', 'bench-batch');
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
const jobs = writeJobs(work, 'jobs.jsonl', clips.map((video, i) => ({ id: `c${i}`, video, task: 'ask', question: 'What happens in this clip?' })));

interface Run { ms: number; failed: number; wallMs: number }
let serial = 0;

async function batch(name: string, args: string[]): Promise<Run> {
  const out = join(work, `${name.replace(/\W+/g, '-')}-${serial++}.jsonl`);
  const t0 = performance.now();
  const c = new Cli(['batch', jobs, '--out', out, '--json', ...jobOpts, ...args]);
  const end = await c.waitFor((e) => e.event === 'end', 1_800_000);
  await c.exited;
  const r = { ms: end.elapsedMs as number, failed: end.failed as number, wallMs: performance.now() - t0 };
  console.error(`  ${name}: ${(CLIPS / (r.ms / 60_000)).toFixed(1)} jobs/min (${r.failed} failed)`);
  return r;
}

/** What callers do today: a loop that runs `vidlm ask` once per clip (a process and a model load each). */
function loop(): Run {
  const t0 = performance.now();
  let failed = 0;
  for (const video of clips) {
    const r = cliSync(['ask', video, 'What happens in this clip?', ...modelArgs, ...jobOpts, '--json'], 120_000);
    if (r.status !== 0) failed++;
  }
  const ms = performance.now() - t0;
  console.error(`  loop of vidlm ask: ${(CLIPS / (ms / 60_000)).toFixed(1)} jobs/min, wall clock (${failed} failed)`);
  return { ms, failed, wallMs: ms };
}

const redis = await RedisServer.start();
const client = new Redis(redis.url);
const commands = async () => Number(/total_commands_processed:(\d+)/.exec(await client.info('stats'))![1]);
const startMs: number[] = [];
const perJob: number[] = [];
let queues = 0;

async function queue(n: number): Promise<Run> {
  const name = `q${n}-${queues++}`;
  const workers = Array.from({ length: n }, () => new Cli(['worker', '--queue', redis.url, '--name', name, ...modelArgs, '--json']));
  const t0 = performance.now();
  await Promise.all(workers.map((w) => w.waitFor((e) => e.event === 'ready')));
  startMs.push(performance.now() - t0);
  const before = await commands();
  const r = await batch(`queue, ${n} worker${n > 1 ? 's' : ''}`, ['--queue', redis.url, '--name', name]);
  if (n === 1) perJob.push(((await commands()) - before) / CLIPS);
  for (const w of workers) w.kill('SIGTERM');
  await Promise.all(workers.map((w) => w.exited));
  return r;
}

const WAYS: Record<string, () => Promise<Run>> = {
  'local `--parallel 1` (reference)': () => batch('local --parallel 1', [...modelArgs, '--parallel', '1']),
  'local `--parallel 2`': () => batch('local --parallel 2', [...modelArgs, '--parallel', '2']),
  'queue, 1 worker': () => queue(1),
  'queue, 2 workers': () => queue(2),
  loop: async () => loop(),
};
const got = new Map<string, Run[]>();
try {
  for (let r = 0; r < RUNS; r++) {
    const names = Object.keys(WAYS);
    for (const name of r % 2 ? [...names].reverse() : names) got.set(name, [...(got.get(name) ?? []), await WAYS[name]!()]);
  }
} finally {
  client.disconnect();
  await redis.dispose();
}

const rate = (x: Run, wall = false) => CLIPS / ((wall ? x.wallMs : x.ms) / 60_000);
const cellOf = (xs: number[]) => `${median(xs).toFixed(1)} (${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)})`;
const vs = (xs: number[], ref: number[]) => { const per = xs.map((x, k) => x / ref[k]!); return `${(median(xs) / median(ref)).toFixed(2)}× (${Math.min(...per).toFixed(2)}–${Math.max(...per).toFixed(2)})`; };
const failed = [...got.values()].flat().reduce((n, x) => n + x.failed, 0);
const ref = got.get('local `--parallel 1` (reference)')!.map((x) => rate(x));
const lines = [`| ${CLIPS} jobs, batch's own clock | jobs/min | vs local \`--parallel 1\` |`, '| --- | --- | --- |'];
for (const name of Object.keys(WAYS).filter((n) => n !== 'loop')) {
  const xs = got.get(name)!.map((x) => rate(x));
  lines.push(`| ${name} | ${cellOf(xs)} | ${vs(xs, ref)} |`);
}
const loopRates = got.get('loop')!.map((x) => rate(x, true));
const batchWall = got.get('local `--parallel 1` (reference)')!.map((x) => rate(x, true));
lines.push('', '| whole command, wall clock | jobs/min | vs the loop |', '| --- | --- | --- |',
  `| loop of \`vidlm ask\`, ${CLIPS} processes (reference) | ${cellOf(loopRates)} | 1× |`,
  `| \`vidlm batch --parallel 1\` | ${cellOf(batchWall)} | ${vs(batchWall, loopRates)} |`,
  '', `Redis commands per job (queue, 1 worker): ${cellOf(perJob)}; a worker's start to ready (process start and model load), 1 and 2 workers started at once: ${cellOf(startMs.map((x) => x / 1000))} s${failed ? `; ${failed} jobs failed` : ''}.`);
publish(run, {
  file: 'docs/scale.md', section: 'batch', body: lines.join('\n'), runs: RUNS,
  statistic: `${CLIPS} one-second clips, tiny model, ask with ${jobOpts.join(' ')}, ${threads.join(' ')} per process; the ways taking turns (order reversed every other run), fresh processes each; medians with min–max, ratios the ratio of medians with the range of per-run ratios`,
});
