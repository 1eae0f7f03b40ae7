/**
 * Video input benchmark. On a generated 10-minute 1280x720 H.264 clip (GOP 250), samples
 *   16 frames (uniform), 100 frames (LITA) and 1 fps, at 336x336 RGB24,
 * timing whole processes on both sides, one after another in the same run:
 *   vidlm  `node dist/cli.js frames <clip> <plan> --size 336x336 --format rgb24 --out -`
 *          (the built CLI: node start, addon and FFmpeg load, open, seek/decode/scale, raw RGB24 to a pipe);
 *   (a)    the ffmpeg program decoding the whole clip through an fps filter and scale to rawvideo
 *          (what llama.cpp's video helper does);
 *   (b)    the ffmpeg program once per frame with an input -ss seek (one process per target);
 *   (c)    one ffmpeg process seeking to every target: one `-ss t -i clip` input per target and
 *          one output per input (its first frame, scaled, raw RGB24 to a file).
 * Wall time is spawn to exit; peak memory is each process's max RSS (GNU time's %M). vidlm's
 * in-process time (open → close, no node start-up) is printed beside it, labelled, never in a ratio.
 * The 16 frames are compared byte for byte with (b)'s.
 *
 * The sides take turns run by run (order reversed every other run); cells are medians of --runs
 * runs with min–max, and every process of (b) is run: no time is scaled up from a sample.
 *
 * Run: npm run bench -- video [--plans 16,lita,1fps] [--runs 3] [--seconds 600] [--write-docs] [--section video]
 *      (--write-docs: docs/video.md, section bench:video, or the one --section names)
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, renameSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { benchRun, median, publish, spread } from './doc-table.js';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { openVideo, type SamplePlan } from '../lib/video/index.js';
import { media } from '../test/fixtures/media.js';

const SIZE = 336;
const FRAME_BYTES = SIZE * SIZE * 3;
const root = join(fileURLToPath(import.meta.url), '..', '..');
const cliJs = join(root, 'dist', 'cli.js');
// the clip's length: 600 s (media.bench(), the default) or --seconds N for a shorter clip of the same kind
const secondsArg = process.argv.indexOf('--seconds');
const SECONDS = secondsArg >= 0 ? Number(process.argv[secondsArg + 1]) : 600;
const PLANS: Record<string, { plan: SamplePlan; cli: string[]; fpsFilter: string; label: string }> = {
  '16': { plan: { uniform: 16 }, cli: ['--frames', '16'], fpsFilter: `16/${SECONDS}`, label: '16 frames (uniform)' },
  lita: { plan: { lita: 100 }, cli: ['--lita', '100'], fpsFilter: `100/${SECONDS}`, label: '100 frames (LITA)' },
  '1fps': { plan: { fps: 1 }, cli: ['--fps', '1'], fpsFilter: '1', label: `1 fps (${SECONDS} frames)` },
};

/** media.bench()'s clip, or the same encoding settings for --seconds N (x264 veryfast, CRF 23, 30 fps, AAC). */
async function benchClip(): Promise<string> {
  if (SECONDS === 600) return media.bench();
  const clip = join(root, '.cache', 'media', `bench-720p-${SECONDS}s.mp4`);
  if (!existsSync(clip)) {
    const tmp = `${clip}.tmp${process.pid}.mp4`;
    await timed('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
      '-t', String(SECONDS), '-map', '0:v', '-map', '1:a', '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '23', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '96k', '-movflags', '+faststart', tmp]);
    renameSync(tmp, clip);
  }
  return clip;
}

interface Run { ms: number; peakMB: number; out: Buffer; stderr: string }
interface Measure { wallMs: number; peakMB: number; frames: number; note?: string }

/** Runs a whole process under GNU time; returns wall time, max RSS, stdout and stderr. */
function timed(cmd: string, args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const p = spawn('/usr/bin/time', ['-f', 'vidlm-bench-maxrss=%M', cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => { chunks.push(d); });
    p.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    p.on('error', reject);
    p.on('close', (code) => {
      const ms = performance.now() - t0;
      if (code !== 0) return reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${stderr.slice(-2000)}`));
      const m = /vidlm-bench-maxrss=(\d+)/.exec(stderr);
      resolve({ ms, peakMB: m ? Number(m[1]) / 1024 : NaN, out: Buffer.concat(chunks), stderr });
    });
  });
}

async function vidlmCli(clip: string, key: string): Promise<Measure & { times: number[]; out: Buffer }> {
  const r = await timed(process.execPath, [cliJs, 'frames', clip, ...PLANS[key]!.cli, '--size', `${SIZE}x${SIZE}`, '--format', 'rgb24', '--out', '-', '--json']);
  const json = r.stderr.slice(r.stderr.indexOf('['), r.stderr.lastIndexOf(']') + 1);
  const rows = JSON.parse(json) as Array<{ t: number }>;
  return { wallMs: r.ms, peakMB: r.peakMB, frames: r.out.length / FRAME_BYTES, times: rows.map((x) => x.t), out: r.out };
}

const ffArgs = ['-hide_banner', '-loglevel', 'error', '-nostdin'];

async function ffmpegFull(clip: string, fpsFilter: string): Promise<Measure> {
  const r = await timed('ffmpeg', [...ffArgs, '-i', clip, '-an', '-vf', `fps=${fpsFilter},scale=${SIZE}:${SIZE}`, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1']);
  return { wallMs: r.ms, peakMB: r.peakMB, frames: r.out.length / FRAME_BYTES };
}

async function ffmpegPerFrame(clip: string, times: number[]): Promise<Measure & { out: Buffer[] }> {
  let ms = 0;
  let peak = 0;
  const out: Buffer[] = [];
  for (const t of times) {
    const r = await timed('ffmpeg', [...ffArgs, '-ss', t.toFixed(6), '-i', clip, '-an', '-frames:v', '1', '-vf', `scale=${SIZE}:${SIZE}`, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1']);
    ms += r.ms;
    peak = Math.max(peak, r.peakMB);
    out.push(r.out);
  }
  return { wallMs: ms, peakMB: peak, frames: out.length, out };
}

async function ffmpegOneSeekingProcess(clip: string, times: number[]): Promise<Measure> {
  // one output per input, each its target's first frame (a concat filter graph over trimmed
  // inputs returned only some of the frames); the outputs go to files, read back after
  const dir = mkdtempSync(join(tmpdir(), 'vidlm-bench-c-'));
  try {
    const inputs = times.flatMap((t) => ['-ss', t.toFixed(6), '-i', clip]);
    const outputs = times.flatMap((_, i) => ['-map', `${i}:v`, '-frames:v', '1', '-vf', `scale=${SIZE}:${SIZE}`, '-f', 'rawvideo', '-pix_fmt', 'rgb24', join(dir, `f${i}.rgb`)]);
    const r = await timed('ffmpeg', [...ffArgs, ...inputs, ...outputs]);
    const frames = times.filter((_, i) => existsSync(join(dir, `f${i}.rgb`)) && statSync(join(dir, `f${i}.rgb`)).size === FRAME_BYTES).length;
    return { wallMs: r.ms, peakMB: r.peakMB, frames };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** vidlm in-process: open → last frame → close inside this node process (no start-up), for reference. */
async function inProcess(clip: string, key: string): Promise<number> {
  const t0 = performance.now();
  const v = await openVideo(clip);
  for await (const f of v.frames(PLANS[key]!.plan, { size: [SIZE, SIZE] })) void f;
  await v.close();
  return performance.now() - t0;
}

async function main(): Promise<void> {
  const run = benchRun('video');
  const args = process.argv.slice(2);
  if (!existsSync(cliJs)) throw new Error('dist/cli.js is missing: run `npm run build:ts` first');
  if (!existsSync('/usr/bin/time')) throw new Error('/usr/bin/time (Debian package "time") is needed for peak memory');
  const clip = await benchClip();
  const pi = args.indexOf('--plans');
  const keys = pi >= 0 ? args[pi + 1]!.split(',') : Object.keys(PLANS);
  const ri = args.indexOf('--runs');
  const RUNS = ri >= 0 ? Number(args[ri + 1]) : 3;
  const si = args.indexOf('--section');
  const section = si >= 0 ? args[si + 1]! : 'video';
  const probeSrc = await openVideo(clip);
  const v = probeSrc.probe.video!;
  await probeSrc.close();
  console.log(`clip: ${clip}`);
  console.log(`      ${v.width}x${v.height} ${v.codec} ${v.avgFps} fps, ${v.frameCount} frames, ${(v.frameCount! / v.avgFps).toFixed(0)} s; output ${SIZE}x${SIZE} rgb24`);
  console.log(`host: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), node ${process.version}, load ${loadavg().map((x) => x.toFixed(2)).join(' ')}, ${RUNS} runs`);
  console.log('every side is a whole process (spawn → exit, max RSS), raw RGB24 written to a pipe');
  console.log('');
  const rows: string[] = [];
  const line = (name: string, m: Measure): string => `  ${name.padEnd(40)} ${(m.wallMs / 1000).toFixed(2).padStart(8)} s  ${m.peakMB.toFixed(0).padStart(6)} MB  ${String(Math.round(m.frames)).padStart(4)} frames${m.note ? `  (${m.note})` : ''}`;
  for (const key of keys) {
    const spec = PLANS[key];
    if (!spec) throw new Error(`unknown plan ${key}`);
    const got: Record<'me' | 'a' | 'b' | 'c', Measure[]> = { me: [], a: [], b: [], c: [] };
    const times = (await vidlmCli(clip, key)).times; // the plan's targets, for (b) and (c); a warm-up, not counted
    for (let r = 0; r < RUNS; r++) {
      const sides = ['me', 'a', 'b', 'c'] as const;
      for (const side of r % 2 ? [...sides].reverse() : sides) {
        let m: Measure;
        if (side === 'me') {
          const me = await vidlmCli(clip, key);
          if (r === 0 && key === '16') {
            const b = await ffmpegPerFrame(clip, me.times);
            const same = b.out.filter((ref, i) => Buffer.compare(me.out.subarray(i * FRAME_BYTES, (i + 1) * FRAME_BYTES), ref) === 0).length;
            console.log(`  pictures vs (b): ${same} of ${b.out.length} byte-identical`);
          }
          m = me;
        } else if (side === 'a') m = await ffmpegFull(clip, spec.fpsFilter);
        else if (side === 'b') m = await ffmpegPerFrame(clip, times);
        // one input per target: 600 open demuxers and decoders at 1 fps is more than this machine
        // holds, so (c) runs on plans of up to 100 targets
        else if (times.length <= 100) m = await ffmpegOneSeekingProcess(clip, times);
        else continue;
        got[side].push(m);
        console.log(line(`${spec.label} run ${r + 1} ${side}`, m));
      }
    }
    const inproc = await inProcess(clip, key);
    console.log(`  vidlm in-process, open → close (no process start; not in a ratio or table): ${(inproc / 1000).toFixed(2)} s`);
    const cell = (ms: Measure[], mem = true) => ms.length ? `${spread(ms.map((x) => x.wallMs))}${mem ? ` / ${median(ms.map((x) => x.peakMB)).toFixed(0)} MB` : ''}` : 'not run (one input per target)';
    const ratio = (other: Measure[]) => {
      if (!other.length) return '';
      const per = other.map((x, k) => x.wallMs / got.me[k]!.wallMs);
      return `${(median(other.map((x) => x.wallMs)) / median(got.me.map((x) => x.wallMs))).toFixed(2)}× (${Math.min(...per).toFixed(2)}–${Math.max(...per).toFixed(2)})`;
    };
    rows.push(`| ${spec.label} | ${cell(got.me)} | ${cell(got.a)} | ${cell(got.b, false)} | ${cell(got.c)} | ${ratio(got.a)} | ${ratio(got.b)} | ${ratio(got.c)} |`);
  }
  const body = ['| plan | vidlm CLI | (a) full decode | (b) -ss per process | (c) -ss inputs, one process | (a) / vidlm | (b) / vidlm | (c) / vidlm |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |', ...rows].join('\n');
  publish(run, { file: 'docs/video.md', section, body, runs: RUNS,
    statistic: 'whole processes (spawn to exit; peak RSS from GNU time, median), the sides taking turns (order reversed every other run); times are medians with min–max, ratios the ratio of medians with the range of per-run ratios; (b) is the sum of all its processes' });
}

await main();
