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
 * Run: npm run bench -- video [--plans 16,lita,1fps] [--quick]  (--quick: (b) runs every 10th
 * target of plans over 100 frames and scales its time up, reported as such)
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { openVideo, type SamplePlan } from '../lib/video/index.js';
import { media } from '../test/fixtures/media.js';

const SIZE = 336;
const FRAME_BYTES = SIZE * SIZE * 3;
const root = join(fileURLToPath(import.meta.url), '..', '..');
const cliJs = join(root, 'dist', 'cli.js');
const PLANS: Record<string, { plan: SamplePlan; cli: string[]; fpsFilter: string; label: string }> = {
  '16': { plan: { uniform: 16 }, cli: ['--frames', '16'], fpsFilter: '16/600', label: '16 frames (uniform)' },
  lita: { plan: { lita: 100 }, cli: ['--lita', '100'], fpsFilter: '100/600', label: '100 frames (LITA)' },
  '1fps': { plan: { fps: 1 }, cli: ['--fps', '1'], fpsFilter: '1', label: '1 fps (600 frames)' },
};

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

async function ffmpegPerFrame(clip: string, times: number[], every: number): Promise<Measure & { out: Buffer[] }> {
  let ms = 0;
  let peak = 0;
  const out: Buffer[] = [];
  const picked = times.filter((_, i) => i % every === 0);
  for (const t of picked) {
    const r = await timed('ffmpeg', [...ffArgs, '-ss', t.toFixed(6), '-i', clip, '-an', '-frames:v', '1', '-vf', `scale=${SIZE}:${SIZE}`, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1']);
    ms += r.ms;
    peak = Math.max(peak, r.peakMB);
    out.push(r.out);
  }
  const scale = times.length / picked.length;
  return { wallMs: ms * scale, peakMB: peak, frames: Math.round(out.length * scale), out, ...(every > 1 ? { note: `${picked.length} of ${times.length} processes run, time scaled ×${scale.toFixed(1)}` } : {}) };
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
  const args = process.argv.slice(2);
  if (!existsSync(cliJs)) throw new Error('dist/cli.js is missing: run `npm run build:ts` first');
  if (!existsSync('/usr/bin/time')) throw new Error('/usr/bin/time (Debian package "time") is needed for peak memory');
  const clip = await media.bench();
  const quick = args.includes('--quick');
  const pi = args.indexOf('--plans');
  const keys = pi >= 0 ? args[pi + 1]!.split(',') : Object.keys(PLANS);
  const probeSrc = await openVideo(clip);
  const v = probeSrc.probe.video!;
  await probeSrc.close();
  console.log(`clip: ${clip}`);
  console.log(`      ${v.width}x${v.height} ${v.codec} ${v.avgFps} fps, ${v.frameCount} frames, ${(v.frameCount! / v.avgFps).toFixed(0)} s; output ${SIZE}x${SIZE} rgb24`);
  console.log(`host: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), node ${process.version}, load ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  console.log('every side is a whole process (spawn → exit, max RSS), raw RGB24 written to a pipe');
  console.log('');
  const rows: string[] = [];
  for (const key of keys) {
    const spec = PLANS[key];
    if (!spec) throw new Error(`unknown plan ${key}`);
    const me = await vidlmCli(clip, key);
    const a = await ffmpegFull(clip, spec.fpsFilter);
    const b = await ffmpegPerFrame(clip, me.times, quick && me.times.length > 100 ? 10 : 1);
    // one input per target: 600 open demuxers and decoders at 1 fps is more than this machine
    // holds, so (c) runs on plans of up to 100 targets
    const c: Measure = me.times.length <= 100 ? await ffmpegOneSeekingProcess(clip, me.times) : { wallMs: NaN, peakMB: NaN, frames: 0, note: 'not run: one input per target' };
    const inproc = await inProcess(clip, key);
    const line = (name: string, m: Measure): string => `  ${name.padEnd(40)} ${(m.wallMs / 1000).toFixed(2).padStart(8)} s  ${m.peakMB.toFixed(0).padStart(6)} MB  ${String(Math.round(m.frames)).padStart(4)} frames${m.note ? `  (${m.note})` : ''}`;
    console.log(spec.label);
    console.log(line('vidlm frames (built CLI)', me));
    console.log(line('(a) ffmpeg full decode + fps filter', a));
    console.log(line('(b) ffmpeg -ss, one process per frame', b));
    console.log(line('(c) ffmpeg -ss per input, one process', c));
    console.log(`  vidlm in-process, open → close (no process start; not in a ratio): ${(inproc / 1000).toFixed(2)} s`);
    const ra = a.wallMs / me.wallMs;
    const rb = b.wallMs / me.wallMs;
    const rc = c.wallMs / me.wallMs;
    console.log(`  speed-up: ${ra.toFixed(1)}× vs (a), ${rb.toFixed(2)}× vs (b), ${rc.toFixed(2)}× vs (c)`);
    if (key === '16') {
      let same = 0;
      let worst = 0;
      b.out.forEach((ref, i) => {
        const mine = me.out.subarray(i * FRAME_BYTES, (i + 1) * FRAME_BYTES);
        if (Buffer.compare(mine, ref) === 0) same++;
        for (let k = 0; k < ref.length; k++) worst = Math.max(worst, Math.abs(mine[k]! - ref[k]!));
      });
      console.log(`  pictures vs (b): ${same} of ${b.out.length} byte-identical, max abs diff ${worst}`);
    }
    console.log('');
    rows.push(`| ${spec.label} | ${(me.wallMs / 1000).toFixed(2)} s / ${me.peakMB.toFixed(0)} MB | ${(a.wallMs / 1000).toFixed(2)} s / ${a.peakMB.toFixed(0)} MB | ${(b.wallMs / 1000).toFixed(2)} s${b.note ? ' *' : ''} | ${(c.wallMs / 1000).toFixed(2)} s / ${c.peakMB.toFixed(0)} MB | ${ra.toFixed(1)}× | ${rb.toFixed(2)}× | ${rc.toFixed(2)}× |`);
  }
  console.log('| plan | vidlm CLI | (a) full decode | (b) -ss per process | (c) -ss inputs, one process | vs (a) | vs (b) | vs (c) |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) console.log(r);
}

await main();
