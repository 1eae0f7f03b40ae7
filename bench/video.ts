/**
 * Video input benchmark (issue 3). On a generated 10-minute 1280x720 H.264 clip, samples
 *   16 frames (uniform), 100 frames (LITA) and 1 fps, at 336x336 RGB,
 * with vidlm (in-process, seek + GOP-buffered decoding) and, in the same run, with
 *   (a) the ffmpeg program decoding the whole clip through an fps filter and scale to rawvideo
 *       (what llama.cpp's video helper does), and
 *   (b) the ffmpeg program once per frame with an input -ss seek (accurate seek).
 * Prints wall time and peak memory of each and the ratios.
 *
 * Run: TS_NODE_TRANSPILE_ONLY=1 node --import @tapjs/typescript/import bench/video.ts [--quick] [--plans 16,lita,1fps]
 * (`npm run bench -- video` does this). --quick runs (b) on every 10th target of the 1 fps plan
 * and scales its time up (reported as such).
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { openVideo, type SamplePlan } from '../lib/video/index.js';
import { media } from '../test/fixtures/media.js';

const SIZE = 336;
const PLANS: Record<string, { plan: SamplePlan; fpsFilter: string; label: string }> = {
  '16': { plan: { uniform: 16 }, fpsFilter: '16/600', label: '16 frames (uniform)' },
  lita: { plan: { lita: 100 }, fpsFilter: '100/600', label: '100 frames (LITA)' },
  '1fps': { plan: { fps: 1 }, fpsFilter: '1', label: '1 fps (600 frames)' },
};

interface Measure { wallMs: number; peakMB: number; frames: number; note?: string }

async function worker(key: string, clip: string): Promise<void> {
  const baseline = process.memoryUsage().rss;
  const t0 = performance.now();
  const v = await openVideo(clip);
  let frames = 0;
  const times: number[] = [];
  const sums: number[] = [];
  for await (const f of v.frames(PLANS[key]!.plan, { size: [SIZE, SIZE] })) {
    frames++;
    times.push(f.t);
    let s = 0;
    for (let i = 0; i < f.rgb.length; i += 97) s += f.rgb[i]!;
    sums.push(s);
  }
  const stats = { ...v.stats };
  await v.close();
  const wallMs = performance.now() - t0;
  const peak = process.resourceUsage().maxRSS * 1024;
  process.stdout.write(JSON.stringify({ wallMs, peakMB: peak / 2 ** 20, baselineMB: baseline / 2 ** 20, frames, times, stats }) + '\n');
}

function runProc(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<{ ms: number; stdout: string; stderr: string; bytes: number; code: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env });
    let bytes = 0;
    let stdout = '';
    let stderr = '';
    const keepText = cmd === process.execPath;
    p.stdout.on('data', (d: Buffer) => { bytes += d.length; if (keepText) stdout += d.toString(); });
    p.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    p.on('error', reject);
    p.on('close', (code) => resolve({ ms: performance.now() - t0, stdout, stderr, bytes, code: code ?? -1 }));
  });
}

const maxrss = (stderr: string): number => { const m = /maxrss=(\d+)kB/.exec(stderr); return m ? Number(m[1]) / 1024 : NaN; };

async function ffmpegFull(clip: string, fpsFilter: string): Promise<Measure> {
  const r = await runProc('ffmpeg', ['-hide_banner', '-nostdin', '-benchmark', '-i', clip, '-an', '-vf', `fps=${fpsFilter},scale=${SIZE}:${SIZE}`, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1']);
  if (r.code !== 0) throw new Error(`ffmpeg failed: ${r.stderr}`);
  return { wallMs: r.ms, peakMB: maxrss(r.stderr), frames: r.bytes / (SIZE * SIZE * 3) };
}

async function ffmpegSeeks(clip: string, times: number[], every: number): Promise<Measure> {
  let ms = 0;
  let peak = 0;
  let frames = 0;
  const picked = times.filter((_, i) => i % every === 0);
  for (const t of picked) {
    const r = await runProc('ffmpeg', ['-hide_banner', '-nostdin', '-benchmark', '-ss', t.toFixed(6), '-i', clip, '-an', '-frames:v', '1', '-vf', `scale=${SIZE}:${SIZE}`, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1']);
    if (r.code !== 0) throw new Error(`ffmpeg failed: ${r.stderr}`);
    ms += r.ms;
    peak = Math.max(peak, maxrss(r.stderr));
    frames += r.bytes / (SIZE * SIZE * 3);
  }
  const scale = times.length / picked.length;
  return { wallMs: ms * scale, peakMB: peak, frames: Math.round(frames * scale), ...(every > 1 ? { note: `${picked.length} of ${times.length} seeks run, time scaled ×${scale.toFixed(1)}` } : {}) };
}

/** Mean absolute difference between vidlm's and the ffmpeg program's 336x336 picture at each time. */
async function compare(clip: string, times: number[]): Promise<number> {
  const v = await openVideo(clip);
  let worst = 0;
  for (const t of times) {
    const [f] = await v.sample({ times: [t] }, { size: [SIZE, SIZE] });
    const r = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-ss', t.toFixed(6), '-i', clip, '-an', '-frames:v', '1', '-vf', `scale=${SIZE}:${SIZE}`, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { maxBuffer: 1 << 26 });
    let d = 0;
    for (let i = 0; i < f!.rgb.length; i++) d += Math.abs(f!.rgb[i]! - r.stdout[i]!);
    worst = Math.max(worst, d / f!.rgb.length);
  }
  await v.close();
  return worst;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const clip = await media.bench();
  if (args[0] === '--worker') return worker(args[1]!, clip);
  const quick = args.includes('--quick');
  const pi = args.indexOf('--plans');
  const keys = pi >= 0 ? args[pi + 1]!.split(',') : Object.keys(PLANS);
  const probeSrc = await openVideo(clip);
  const v = probeSrc.probe.video!;
  await probeSrc.close();
  console.log(`clip: ${clip}`);
  console.log(`      ${v.width}x${v.height} ${v.codec} ${v.avgFps} fps, ${v.frameCount} frames, ${(v.frameCount! / v.avgFps).toFixed(0)} s; output ${SIZE}x${SIZE} rgb24`);
  console.log(`host: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), node ${process.version}, load ${(await import('node:os')).loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  console.log('vidlm is timed inside its worker process (open → last frame → close); its peak is the worker\'s max RSS, with the node + TypeScript-loader baseline given apart.');
  console.log('');
  const rows: string[] = [];
  for (const key of keys) {
    const spec = PLANS[key];
    if (!spec) throw new Error(`unknown plan ${key}`);
    const w = await runProc(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--worker', key]);
    if (w.code !== 0) throw new Error(`worker failed: ${w.stderr}`);
    const res = JSON.parse(w.stdout.trim().split('\n').pop()!) as Measure & { baselineMB: number; times: number[] };
    const a = await ffmpegFull(clip, spec.fpsFilter);
    const b = await ffmpegSeeks(clip, res.times, quick && res.times.length > 100 ? 10 : 1);
    const line = (name: string, m: Measure): string => `  ${name.padEnd(34)} ${(m.wallMs / 1000).toFixed(2).padStart(8)} s  ${m.peakMB.toFixed(0).padStart(6)} MB  ${String(Math.round(m.frames)).padStart(4)} frames${m.note ? `  (${m.note})` : ''}`;
    console.log(spec.label);
    console.log(line('vidlm', res) + `  (baseline ${res.baselineMB.toFixed(0)} MB → +${(res.peakMB - res.baselineMB).toFixed(0)} MB)`);
    console.log(line('(a) ffmpeg full decode + fps filter', a));
    console.log(line('(b) ffmpeg -ss per frame', b));
    const ra = a.wallMs / res.wallMs;
    const rb = b.wallMs / res.wallMs;
    console.log(`  speed-up: ${ra.toFixed(1)}× vs (a), ${rb.toFixed(2)}× vs (b)`);
    const st = (res as unknown as { stats: { seeks: number; packetsRead: number; packetsDecoded: number; framesDecoded: number; calls: number } }).stats;
    console.log(`  vidlm work: ${st.seeks} seeks, ${st.packetsRead} packets read, ${st.packetsDecoded} decoded, ${st.framesDecoded} frames out (non-reference frames before a target skipped), ${st.calls} read/decode calls`);
    if (key === '16') console.log(`  same pictures as (b): mean abs diff over 4 frames ≤ ${(await compare(clip, res.times.filter((_, i) => i % 5 === 0))).toFixed(3)} (0-255)`);
    console.log('');
    rows.push(`| ${spec.label} | ${(res.wallMs / 1000).toFixed(2)} s / ${res.peakMB.toFixed(0)} MB | ${(a.wallMs / 1000).toFixed(2)} s / ${a.peakMB.toFixed(0)} MB | ${(b.wallMs / 1000).toFixed(2)} s / ${b.peakMB.toFixed(0)} MB${b.note ? ' *' : ''} | ${ra.toFixed(1)}× | ${rb.toFixed(2)}× |`);
  }
  console.log('| plan | vidlm | (a) full decode | (b) -ss per frame | vs (a) | vs (b) |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const r of rows) console.log(r);
}

await main();
