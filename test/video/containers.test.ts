/**
 * Files as users have them, container by container: each clip shows its frame counter
 * (test/fixtures/media.ts), so the frame vidlm returns is read off its picture and compared with
 * the frame index it reports and with what the ffmpeg program decodes.
 *
 * - MPEG-TS (a camera's or a DVB recorder's .ts, an HLS segment): libavformat seeks it by dts, so
 *   a seek to the first frame's pts landed after the only keyframe (B-frames put its dts before
 *   its pts) and no frame could be decoded; a seek into the last GOP found no keyframe after it.
 * - An mp4 cut with `ffmpeg -ss T -c copy` (and a phone's trim): an edit list hides the frames
 *   before T, which the container still counts, so the plan asked for frames past the end.
 * - MPEG-PS (.mpg, a DVD's .vob) names no codec for its video streams: libavformat probes their
 *   bytes with the raw MPEG video demuxers, which the build lacked, so no video stream was found;
 *   and a PES carries one pts, so the packet scan mixed pts and dts into a timeline with
 *   repeated times (every frame after the first B-frames one off).
 * - An animated PNG opened as a still (its first frame) for want of the apng demuxer and decoder.
 * - H.264 with open GOPs (non-IDR I-frames, x264 --open-gop; broadcast and some cameras): a walk
 *   that skipped to a later GOP fed it to a decoder still holding the old chain, which put
 *   pictures under other frames' times (frame 130's picture as 16.0 s) or lost frames.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { openVideo } from '../../lib/video/index.js';
import { H, MEDIA_DIR, W, counterSource, readCounter } from '../fixtures/media.js';

const dir = join(MEDIA_DIR, 'containers');
mkdirSync(dir, { recursive: true });
const FPS = 30;
const SIZE: [number, number] = [W / 2, H / 2];
const x264 = ['-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p'];

function ffmpeg(args: string[], name: string): string {
  const out = join(dir, name);
  if (existsSync(out)) return out;
  const tmp = `${out}.tmp${process.pid}${name.slice(name.lastIndexOf('.'))}`;
  const r = spawnSync('nice', ['-n', '5', 'ffmpeg', '-hide_banner', '-loglevel', 'error', '-nostdin', '-y', ...args, tmp]);
  if (r.status !== 0) throw new Error(`ffmpeg failed: ${r.stderr}`);
  renameSync(tmp, out);
  return out;
}

/** The counters of every frame the ffmpeg program decodes from `path`, in order. */
function ffmpegCounters(path: string): number[] {
  const r = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-i', path, '-vf', `scale=${SIZE[0]}:${SIZE[1]}`, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { maxBuffer: 1 << 27 });
  if (r.status !== 0) throw new Error(`ffmpeg failed: ${r.stderr}`);
  const n = SIZE[0] * SIZE[1] * 3;
  const out: number[] = [];
  for (let o = 0; o + n <= r.stdout.length; o += n) out.push(readCounter({ width: SIZE[0], height: SIZE[1], rgb: r.stdout.subarray(o, o + n) }));
  return out;
}

const counters = (frames: Array<{ width: number; height: number; rgb: Uint8Array }>): number[] => frames.map((f) => readCounter(f));

// 3 s at 30 fps with B-frames: one keyframe (x264's default interval), or one a second
const tsOneGop = ffmpeg(['-f', 'lavfi', '-i', counterSource(3), ...x264, '-an', '-f', 'mpegts'], 'one-gop.ts');
const tsGops = ffmpeg(['-f', 'lavfi', '-i', counterSource(3), ...x264, '-g', '30', '-an', '-f', 'mpegts'], 'gop30.ts');

for (const [name, path] of [['one keyframe', tsOneGop], ['a keyframe a second', tsGops]] as const) {
  t.test(`MPEG-TS, ${name}: the frames a plan names, both ways of reaching them`, async (t) => {
    for (const strategy of ['seek', 'sequential'] as const) {
      const v = await openVideo(path, { threads: 1 });
      try {
        const fr = await v.sample({ uniform: 5 }, { size: SIZE, strategy });
        t.same(fr.map((f) => f.index), [0, 22, 44, 66, 89], `${strategy}: indices`);
        t.same(counters(fr), [0, 22, 44, 66, 89], `${strategy}: the pictures are those frames`);
        t.same(fr.map((f) => Math.round(f.t * FPS)), [0, 22, 44, 66, 89], `${strategy}: times`);
      } finally {
        await v.close();
      }
    }
  });
}

t.test('MPEG-TS: every frame once (the packet scan starts at the first one), and times in the last GOP', async (t) => {
  const v = await openVideo(tsGops, { threads: 1 });
  try {
    const all = await v.sample({ all: true }, { size: SIZE });
    t.equal(all.length, 90, 'every frame');
    t.same(counters(all), Array.from({ length: 90 }, (_, i) => i), 'in order, each the frame of its index');
    // each target by its own seek, at and just after each keyframe (2.0 s: the last GOP's)
    const times = [0, 1, 1.1, 2, 2.05, 2.9];
    const fr = await v.sample({ times }, { size: SIZE, strategy: 'seek' });
    t.same(counters(fr), times.map((s) => Math.ceil(s * FPS - 1e-6)), 'the first frame at or after each time');
  } finally {
    await v.close();
  }
  t.same(ffmpegCounters(tsGops), Array.from({ length: 90 }, (_, i) => i), 'the ffmpeg program decodes the same frames');
});

// a copy cut at 1.0 s of a clip with one keyframe: 30 frames before the cut stay in the file for
// decoding, hidden by the edit list; the ffmpeg program shows the 60 after it
const full = ffmpeg(['-f', 'lavfi', '-i', counterSource(3), ...x264, '-g', '300', '-an'], 'editlist-source.mp4');
const cut = ffmpeg(['-ss', '1.0', '-i', full, '-c', 'copy'], 'editlist-cut.mp4');

t.test('an mp4 cut with -ss and -c copy (edit list): the frames the ffmpeg program shows, no more', async (t) => {
  const expected = ffmpegCounters(cut);
  t.ok(expected.length >= 58 && expected.length <= 61 && expected[0]! >= 29 && expected[0]! <= 31, `the ffmpeg program shows the frames after the cut (${expected.length} from ${expected[0]})`);
  for (const strategy of ['seek', 'sequential'] as const) {
    const v = await openVideo(cut, { threads: 1 });
    try {
      const all = await v.sample({ all: true }, { size: SIZE, strategy });
      t.same(counters(all), expected, `${strategy}: every frame, as the ffmpeg program shows them`);
      t.equal(v.probe.video!.frameCount, expected.length, `${strategy}: frame count`);
      const fr = await v.sample({ uniform: 4 }, { size: SIZE, strategy });
      const n = expected.length;
      const idx = [0, Math.floor((n - 1) / 3), Math.floor((2 * (n - 1)) / 3), n - 1];
      t.same(fr.map((f) => f.index), idx, `${strategy}: uniform indices over the shown frames`);
      t.same(counters(fr), idx.map((i) => expected[i]), `${strategy}: their pictures`);
      t.equal(fr.warning, undefined, `${strategy}: no warning`);
    } finally {
      await v.close();
    }
  }
});

t.test('MPEG-PS (.mpg): the MPEG-2 video stream is found and sampled', async (t) => {
  const mpg = ffmpeg(['-f', 'lavfi', '-i', counterSource(3), '-c:v', 'mpeg2video', '-q:v', '2', '-g', '15', '-an', '-f', 'vob'], 'mpeg2.mpg');
  const v = await openVideo(mpg, { threads: 1 });
  try {
    t.equal(v.probe.video?.codec, 'mpeg2video', 'the video stream');
    for (const strategy of ['seek', 'sequential'] as const) {
      const fr = await v.sample({ uniform: 5 }, { size: SIZE, strategy });
      t.same(fr.map((f) => f.index), [0, 22, 44, 66, 89], `${strategy}: indices`);
      t.same(counters(fr), [0, 22, 44, 66, 89], `${strategy}: the pictures are those frames`);
    }
    // a PES carries one pts: the B-frames' packets have only a dts, and the timeline still has each frame once
    const all = await v.sample({ all: true }, { size: SIZE });
    t.same(counters(all), Array.from({ length: 90 }, (_, i) => i), 'every frame once, in order');
    t.same(all.map((f) => Math.round(f.t * FPS)), Array.from({ length: 90 }, (_, i) => i), 'at its time');
  } finally {
    await v.close();
  }
});

t.test('an animated PNG is a video of its frames, not a still', async (t) => {
  const apng = ffmpeg(['-f', 'lavfi', '-i', counterSource(2, 0, 10), '-plays', '0', '-f', 'apng'], 'counter.apng');
  const v = await openVideo(apng, { threads: 1 });
  try {
    t.equal(v.probe.isImage, false, 'not a still');
    const fr = await v.sample({ uniform: 4 }, { size: SIZE });
    t.same(fr.map((f) => f.index), [0, 6, 12, 19], 'indices over its 20 frames');
    t.same(counters(fr), [0, 6, 12, 19], 'their pictures');
    t.same(fr.map((f) => f.t), [0, 0.6, 1.2, 1.9], 'their times');
  } finally {
    await v.close();
  }
  t.same(ffmpegCounters(apng), Array.from({ length: 20 }, (_, i) => i), 'the ffmpeg program decodes the same 20 frames');
});

t.test('H.264 with open GOPs, mp4 and MPEG-TS: each target its own frame after a skip to a later GOP', async (t) => {
  // 20 s at 10 fps, a non-IDR I-frame every 3 s with B-frames that reach into the GOP before
  const args = ['-f', 'lavfi', '-i', counterSource(20, 0, 10), ...x264, '-g', '30', '-x264-params', 'open-gop=1', '-bf', '3', '-an'];
  for (const path of [ffmpeg(args, 'open-gop.mp4'), ffmpeg([...args, '-f', 'mpegts'], 'open-gop.ts')]) {
    for (const threads of [undefined, 1]) {
      const v = await openVideo(path, threads ? { threads } : {});
      try {
        for (const [strategy, times] of [['seek', [0, 12.34, 15.55, 19.9]], ['sequential', [0, 7.25, 12.34, 15.55, 19.9]]] as const) {
          const fr = await v.sample({ times: [...times] }, { size: SIZE, strategy });
          const want = times.map((s) => Math.ceil(s * 10 - 1e-6));
          t.same(fr.map((f) => f.index), want, `${path.slice(-4)} ${strategy} threads ${threads ?? 'auto'}: indices`);
          t.same(counters(fr), want, `${path.slice(-4)} ${strategy} threads ${threads ?? 'auto'}: the pictures are those frames`);
        }
      } finally {
        await v.close();
      }
    }
  }
});
