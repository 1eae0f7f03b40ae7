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
 * Run: npm run bench -- batch [--clips 40] [--frames 4] [--max-tokens 8] [--threads 1]
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { tinyModels } from '../lib/fixtures/tiny-models.js';
import { Cli, RedisServer, cliSync, writeJobs } from '../test/batch/helpers.js';

const { values } = parseArgs({ options: { clips: { type: 'string' }, frames: { type: 'string' }, 'max-tokens': { type: 'string' }, threads: { type: 'string' } } });
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

interface Run { name: string; ms: number; failed: number; wallMs?: number }
const runs: Run[] = [];

async function batch(name: string, args: string[]): Promise<Run> {
  const out = join(work, `${name.replace(/\W+/g, '-')}.jsonl`);
  const t0 = performance.now();
  const c = new Cli(['batch', jobs, '--out', out, '--json', ...jobOpts, ...args]);
  const end = await c.waitFor((e) => e.event === 'end', 1_800_000);
  await c.exited;
  const r = { name, ms: end.elapsedMs as number, failed: end.failed as number, wallMs: performance.now() - t0 };
  runs.push(r);
  console.error(`${name}: ${(CLIPS / (r.ms / 60_000)).toFixed(1)} jobs/min (${r.failed} failed)`);
  return r;
}

await batch('local --parallel 1', [...modelArgs, '--parallel', '1']);
await batch('local --parallel 2', [...modelArgs, '--parallel', '2']);

// what callers do today: a loop that runs `vidlm ask` once per clip (a process and a model load each)
const loopT0 = performance.now();
let loopFailed = 0;
for (const video of clips) {
  const r = cliSync(['ask', video, 'What happens in this clip?', ...modelArgs, ...jobOpts, '--json'], 120_000);
  if (r.status !== 0) loopFailed++;
}
const loopMs = performance.now() - loopT0;
console.error(`loop of vidlm ask: ${(CLIPS / (loopMs / 60_000)).toFixed(1)} jobs/min, wall clock (${loopFailed} failed)`);

const redis = await RedisServer.start();
const client = new Redis(redis.url);
const commands = async () => Number(/total_commands_processed:(\d+)/.exec(await client.info('stats'))![1]);
const startMs: number[] = [];
let perJob = 0;
try {
  for (const n of [1, 2]) {
    const name = `q${n}`;
    const workers = Array.from({ length: n }, () => new Cli(['worker', '--queue', redis.url, '--name', name, ...modelArgs, '--json']));
    const t0 = performance.now();
    await Promise.all(workers.map((w) => w.waitFor((e) => e.event === 'ready')));
    startMs.push(performance.now() - t0);
    const before = await commands();
    await batch(`queue, ${n} worker${n > 1 ? 's' : ''}`, ['--queue', redis.url, '--name', name]);
    if (n === 1) perJob = ((await commands()) - before) / CLIPS;
    for (const w of workers) w.kill('SIGTERM');
    await Promise.all(workers.map((w) => w.exited));
  }
} finally {
  client.disconnect();
  await redis.dispose();
}

const ref = runs[0]!;
const rate = (r: Run) => CLIPS / (r.ms / 60_000);
console.log(`\nbatch of ${CLIPS} one-second clips, tiny model, ask with ${jobOpts.join(' ')}, ${threads.join(' ')} per process`);
console.log(`| run | jobs/min | vs local --parallel 1 |\n| --- | --- | --- |`);
for (const r of runs) console.log(`| ${r.name} | ${rate(r).toFixed(1)} | ${(rate(r) / rate(ref)).toFixed(2)}× |${r.failed ? ` ${r.failed} failed` : ''}`);
const local1 = runs[0]!;
console.log(`\nwhole commands, wall clock (process start, model load, all jobs):`);
console.log(`| run | jobs/min | vs the loop |\n| --- | --- | --- |`);
console.log(`| loop of \`vidlm ask\` (${CLIPS} processes) | ${(CLIPS / (loopMs / 60_000)).toFixed(1)} | 1.00× |${loopFailed ? ` ${loopFailed} failed` : ''}`);
console.log(`| \`vidlm batch --parallel 1\` | ${(CLIPS / (local1.wallMs! / 60_000)).toFixed(1)} | ${(loopMs / local1.wallMs!).toFixed(2)}× |`);
console.log(`\nRedis commands per job (queue, 1 worker: enqueue, take, progress, complete, collect): ${perJob.toFixed(1)}`);
console.log(`worker start to ready (process start + model load): ${startMs.map((x) => `${x.toFixed(0)} ms`).join(', ')} (for 1 and 2 workers started at once)`);
