/**
 * AVI (a one-frame time base, decode-order timestamps) samples the frames a plan names (#31).
 *
 * The clips show their frame counter (test/fixtures/media.ts), so the frame returned is read off
 * the picture. References: the ffmpeg program, which places frame n of an AVI at n / fps when
 * told to count frames (`setpts=N/(FRAME_RATE*TB)`; the container's only clock), and its own
 * timestamps (`trim` on them, what `-ss` does) where those are right (no B-frames: the ffmpeg
 * program's AVI timestamps with B-frames are the reorder delay late). A time is taken on the
 * stream's grid as FFmpeg rounds it (nearest tick) and the first frame at or after it is the
 * frame (docs/video.md).
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import fc from 'fast-check';
import t from 'tap';
import { openVideo } from '../../lib/video/index.js';
import { cfrTimeline, listTimeline, resolvePlan, roundHalfAway, walkTarget } from '../../lib/video/plans.js';
import { H, MEDIA_DIR, W, counterSource, readCounter } from '../fixtures/media.js';

const run = promisify(execFile);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

interface Clip { name: string; fps: [number, number]; codec: string[]; bframes: boolean }
const CLIPS: Clip[] = [
  { name: 'mpeg4-asp-24', fps: [24, 1], codec: ['-c:v', 'mpeg4', '-vtag', 'XVID', '-q:v', '3', '-bf', '2', '-g', '24'], bframes: true },
  { name: 'h264-24', fps: [24, 1], codec: ['-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-g', '25'], bframes: true },
  { name: 'mjpeg-24', fps: [24, 1], codec: ['-c:v', 'mjpeg', '-q:v', '3', '-pix_fmt', 'yuvj420p'], bframes: false },
  { name: 'mjpeg-ntsc', fps: [30000, 1001], codec: ['-c:v', 'mjpeg', '-q:v', '3', '-pix_fmt', 'yuvj420p'], bframes: false },
  { name: 'h264-25-gop10', fps: [25, 1], codec: ['-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-g', '10', '-bf', '3'], bframes: true },
];
const SECONDS = 4;

async function clip(c: Clip): Promise<string> {
  const out = join(MEDIA_DIR, `avi-${c.name}.avi`);
  if (existsSync(out)) return out;
  mkdirSync(MEDIA_DIR, { recursive: true });
  const src = counterSource(SECONDS, 0, 24).replace(':r=24:', `:r=${c.fps[0]}/${c.fps[1]}:`);
  const tmp = `${out}.tmp${process.pid}.avi`;
  await run('nice', ['-n', '5', 'ffmpeg', '-hide_banner', '-loglevel', 'error', '-nostdin', '-y', '-f', 'lavfi', '-i', src, ...c.codec, '-an', tmp]);
  renameSync(tmp, out);
  return out;
}

const frameCount = (c: Clip): number => Math.round((SECONDS * c.fps[0]) / c.fps[1]);

/**
 * The ffmpeg program's frame at each time, read off its picture, in one decoding: for each
 * time a `trim=start=T` branch keeps the first frame at or after T (trim rounds T to the
 * nearest tick, as -ss does). `counted`: frames placed at n / fps; otherwise on the ffmpeg
 * program's own timestamps.
 */
function ffmpegFramesAt(path: string, times: string[], counted: boolean): number[] {
  const dir = mkdtempSync(join(tmpdir(), 'vidlm-avi-'));
  try {
    const pre = counted ? 'setpts=N/(FRAME_RATE*TB),' : '';
    const labels = times.map((_, k) => `[s${k}]`).join('');
    const graph = [`[0:v]${pre}split=${times.length}${labels}`, ...times.map((tm, k) => `[s${k}]trim=start=${tm}[o${k}]`)].join(';');
    const args = ['-hide_banner', '-loglevel', 'error', '-nostdin', '-i', path, '-filter_complex', graph];
    times.forEach((_, k) => args.push('-map', `[o${k}]`, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', join(dir, `${k}.rgb`)));
    const r = spawnSync('nice', ['-n', '5', 'ffmpeg', ...args], { encoding: 'utf8', maxBuffer: 1 << 24 });
    if (r.status !== 0) throw new Error(`ffmpeg failed: ${r.stderr}`);
    return times.map((_, k) => {
      const rgb = readFileSync(join(dir, `${k}.rgb`));
      return rgb.length >= W * H * 3 ? readCounter({ width: W, height: H, rgb }) : -1;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A seeded generator (mulberry32): the same 100 times on every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

t.test('the issue\'s case: --times 0.5,1,1.5,2 on a 24 fps AVI gives frames 12, 24, 36, 48 (CLI)', async (tt) => {
  for (const c of CLIPS.filter((x) => x.fps[0] === 24)) {
    const out = mkdtempSync(join(tmpdir(), 'vidlm-avi-cli-'));
    tt.teardown(() => rmSync(out, { recursive: true, force: true }));
    const r = spawnSync(process.execPath, [join(root, 'dist', 'cli.js'), 'frames', await clip(c), '--times', '0.5,1,1.5,2', '--out', out, '--json'], { encoding: 'utf8', cwd: root });
    tt.equal(r.status, 0, r.stderr);
    tt.same((JSON.parse(r.stdout) as Array<{ index: number }>).map((f) => f.index), [12, 24, 36, 48], `${c.name}: indices`);
    const v = await openVideo(await clip(c), { threads: 1 });
    const frames = await v.sample({ times: [0.5, 1, 1.5, 2] });
    await v.close();
    tt.same(frames.map((f) => readCounter(f)), [12, 24, 36, 48], `${c.name}: the pictures are those frames`);
  }
});

for (const c of CLIPS) {
  t.test(`${c.name}: 100 random times give the ffmpeg program's frame`, async (tt) => {
    const path = await clip(c);
    const n = frameCount(c);
    const fps = c.fps[0] / c.fps[1];
    const rnd = random(0x5eed + n + c.name.length);
    // times up to the last frame's (later ones have no frame at or after them)
    const times = Array.from({ length: 100 }, () => (rnd() * (n - 1) / fps).toFixed(6));
    const counted = ffmpegFramesAt(path, times, true);
    // the reference itself: frame n of the clip shows n, at the tick nearest the time
    tt.same(counted, times.map((s) => Math.min(n - 1, roundHalfAway(Number(s) * fps))), 'the ffmpeg program counts frames as the nearest-tick rule');
    if (!c.bframes) tt.same(ffmpegFramesAt(path, times, false), counted, 'without B-frames its own timestamps agree');
    for (const strategy of ['auto', 'seek'] as const) {
      const v = await openVideo(path, { threads: strategy === 'seek' ? 1 : undefined });
      tt.teardown(() => v.close());
      tt.equal(v.probe.video!.frameCount, n);
      const frames = await v.sample({ times: times.map(Number) }, { strategy });
      const got = frames.map((f) => readCounter(f));
      tt.same(got, counted, `${strategy}: the pictures are the ffmpeg program's frames`);
      tt.same(frames.map((f) => f.index), counted, `${strategy}: the reported indices too`);
      tt.ok(frames.every((f) => Math.abs(f.t - f.index / fps) < 1e-6), `${strategy}: each frame's time is index / fps`);
      await v.close();
    }
    // every frame once, in order (the decoder's reorder delay and its flush at the end)
    const v = await openVideo(path);
    tt.teardown(() => v.close());
    const all = await v.sample({ all: true });
    tt.same(all.map((f) => readCounter(f)), Array.from({ length: n }, (_, i) => i), 'all frames, each once');
  });
}

// The at-or-after rule on a stream's grid, restated: the first frame whose timestamp (ticks) is
// at or after the tick nearest t. pts: each frame's timestamp as a muxer writes it.
function ruleFrame(pts: number[], t: number, tps: number): number {
  const k = roundHalfAway(t * tps);
  const i = pts.findIndex((p) => p >= k);
  return i < 0 ? pts.length - 1 : i;
}
// What the native walker returns for a target: the first frame at or after it (the last at the end).
const walkerFrame = (pts: number[], target: number): number => { const i = pts.findIndex((p) => p >= target); return i < 0 ? pts.length - 1 : i; };

t.test('property: on random time bases and frame rates, every target gets the frame the at-or-after rule names', async (tt) => {
  const rate = fc.constantFrom<[number, number]>([24, 1], [25, 1], [30, 1], [30000, 1001], [24000, 1001], [60, 1], [12, 1], [10, 1], [15, 1], [50, 1], [60000, 1001], [5, 1], [1, 1])
    .chain((r) => fc.oneof(fc.constant(r), fc.tuple(fc.integer({ min: 1, max: 120 }), fc.integer({ min: 1, max: 8 }))));
  // a time base: one frame (AVI), a common container's, or any whose tick is under a frame
  const base = (fps: number) => fc.oneof(
    fc.constant<'frame'>('frame'),
    fc.constantFrom(1000, 12800, 15360, 90000, 1_000_000, 600, 30000, 24000),
    fc.integer({ min: Math.ceil(fps * 1.5), max: 200_000 }),
  );
  fc.assert(fc.property(
    rate.chain((r) => fc.tuple(fc.constant(r), base(r[0] / r[1]), fc.integer({ min: 2, max: 400 }), fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 20 }))),
    ([[num, den], tb, n, fractions]) => {
      const fps = num / den;
      const tps = tb === 'frame' ? fps : tb;
      if (tps < fps) return; // a tick longer than a frame cannot hold a constant rate
      // a muxer writes round(i / fps) ticks; on a one-frame time base that is i
      const pts = Array.from({ length: n }, (_, i) => tb === 'frame' ? i : roundHalfAway((i * den * tps) / num));
      const times = fractions.map((f) => f * (n - 1) / fps);
      for (const tl of [cfrTimeline(n, fps, 0, 1 / tps), listTimeline(pts.map((p) => p / tps), n / fps, 1 / tps)]) {
        const plan = resolvePlan({ times }, tl);
        plan.frames.forEach((f, k) => {
          const want = ruleFrame(pts, times[k]!, tps);
          if (f.index !== want) throw new Error(`${tl.exact ? 'exact' : 'computed'} timeline, ${num}/${den} fps, tick 1/${tps}: t=${times[k]} planned ${f.index}, the rule names ${want}`);
          const got = walkerFrame(pts, walkTarget(tl, f.index, tps, 0));
          if (got !== want) throw new Error(`${tl.exact ? 'exact' : 'computed'} timeline, ${num}/${den} fps, tick 1/${tps}: t=${times[k]} walked to ${got}, the rule names ${want}`);
        });
      }
    },
  ), { numRuns: 3000, seed: 31 });
  tt.pass('3000 random streams');
});
