/**
 * The decoder runs inside the user's process, so hostile bytes must never end it: ≥ 2,000 mutated
 * files (byte flips, truncations, corrupted MP4 box sizes and Matroska/WebM EBML sizes) go through
 * open, probe and a sample. Allowed outcomes: frames, or a VidlmError with a documented code.
 * Memory stays bounded. Absurd headers get a coded error before a large allocation.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { VidlmError } from '../../lib/errors.js';
import { mulberry32 } from '../../lib/fixtures/prng.js';
import { openVideo } from '../../lib/video/index.js';
import { MEDIA_DIR } from '../fixtures/media.js';

const CASES = Number(process.env.VIDLM_FUZZ_CASES ?? 2100);
const CODES = new Set(['ERR_VIDEO_OPEN', 'ERR_VIDEO_NO_STREAM', 'ERR_VIDEO_DECODE', 'ERR_VIDEO_EMPTY', 'ERR_VIDEO_TOO_LARGE', 'ERR_VIDEO_TIMEOUT', 'ERR_INVALID_ARG']);

const dir = join(MEDIA_DIR, 'fuzz');
mkdirSync(dir, { recursive: true });
function make(name: string, args: string[]): Buffer {
  const out = join(dir, name);
  if (!existsSync(out)) execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y', '-f', 'lavfi', '-i', 'testsrc2=s=96x64:r=15:d=2', '-f', 'lavfi', '-i', 'sine=d=2', ...args, out]);
  return readFileSync(out);
}
const seeds = {
  mp4: make('seed.mp4', ['-c:v', 'libx264', '-g', '10', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest']),
  mkv: make('seed.mkv', ['-c:v', 'libx264', '-g', '10', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest']),
  webm: make('seed.webm', ['-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-g', '10', '-c:a', 'libopus', '-shortest']),
};

/** Offsets of MP4 box size fields (a box header: 4-byte size, 4-letter type). */
function mp4Boxes(b: Buffer): number[] {
  const out: number[] = [];
  for (let i = 0; i + 8 <= b.length; i++) {
    if (/^[a-z0-9]{4}$/.test(b.toString('latin1', i + 4, i + 8)) && ['moov', 'trak', 'mdia', 'minf', 'stbl', 'stsz', 'stco', 'stts', 'stsc', 'stss', 'mdat', 'avcC', 'esds', 'tkhd', 'mvhd', 'hdlr', 'stsd', 'avc1', 'mp4a'].includes(b.toString('latin1', i + 4, i + 8))) out.push(i);
  }
  return out;
}

/** Offsets of the size fields after well-known EBML element IDs (Segment, Cluster, Tracks, ...). */
function ebmlSizes(b: Buffer): number[] {
  const ids = [[0x18, 0x53, 0x80, 0x67], [0x1f, 0x43, 0xb6, 0x75], [0x16, 0x54, 0xae, 0x6b], [0xae], [0xa3], [0xa0], [0x1c, 0x53, 0xbb, 0x6b], [0x63, 0xa2], [0xb0], [0xba]];
  const out: number[] = [];
  for (let i = 0; i < b.length - 4; i++) {
    for (const id of ids) if (id.every((v, k) => b[i + k] === v)) out.push(i + id.length);
  }
  return out;
}

function mutate(seed: Buffer, kind: 'mp4' | 'mkv' | 'webm', rand: () => number): { bytes: Buffer; how: string } {
  const b = Buffer.from(seed);
  const pick = <T>(a: T[]): T => a[Math.floor(rand() * a.length)]!;
  const r = rand();
  if (r < 0.3) {
    const n = 1 + Math.floor(rand() * 16);
    for (let k = 0; k < n; k++) b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
    return { bytes: b, how: `${n} byte flips` };
  }
  if (r < 0.5) {
    const len = Math.floor(rand() * b.length);
    return { bytes: b.subarray(0, len), how: `truncated at ${len}` };
  }
  if (kind === 'mp4') {
    const at = pick(mp4Boxes(b));
    const v = pick([0, 1, 7, 0xffffffff, 0x7fffffff, Math.floor(rand() * 2 ** 32), b.readUInt32BE(at) + Math.floor(rand() * 64) - 32]);
    b.writeUInt32BE(v >>> 0, at);
    if (rand() < 0.3) b.writeUInt32BE(Math.floor(rand() * 2 ** 32) >>> 0, at + 8 + 4 * Math.floor(rand() * 4)); // a count or entry inside
    return { bytes: b, how: `box size at ${at} = ${v >>> 0}` };
  }
  const at = pick(ebmlSizes(b));
  const v = pick([0x01, 0xff, 0x80, 0x08, 0x40, Math.floor(rand() * 256)]);
  b[at] = v;
  if (rand() < 0.5) for (let k = 1; k < 8; k++) b[at + k] = rand() < 0.5 ? 0xff : Math.floor(rand() * 256);
  return { bytes: b, how: `EBML size at ${at} = 0x${v.toString(16)}` };
}

t.test(`${CASES} mutated mp4 / mkv / webm files: frames or a coded error`, async (tt) => {
  const rand = mulberry32(20261127);
  const kinds = ['mp4', 'mkv', 'webm'] as const;
  const outcome: Record<string, number> = {};
  let frames = 0;
  let bad = 0;
  const gc = (globalThis as { gc?: () => void }).gc;
  let rssAt200 = 0;
  for (let i = 0; i < CASES; i++) {
    const kind = kinds[i % 3]!;
    const { bytes, how } = mutate(seeds[kind], kind, rand);
    try {
      const v = await openVideo(bytes, { maxPixels: 4096 * 4096 });
      try {
        void v.probe.video?.width;
        const got = await v.sample({ uniform: 3 }, { size: [32, 32] });
        frames += got.length;
        for (const f of got) if (f.rgb.length !== 32 * 32 * 3) throw new Error('a frame of the wrong size');
        outcome.frames = (outcome.frames ?? 0) + 1;
      } finally {
        await v.close();
      }
    } catch (e) {
      if (e instanceof VidlmError && CODES.has(e.code)) outcome[e.code] = (outcome[e.code] ?? 0) + 1;
      else { bad++; tt.fail(`${kind} ${how}: ${String(e)}`); }
    }
    if (i === 199) { gc?.(); rssAt200 = process.memoryUsage().rss; }
  }
  gc?.();
  const growth = (process.memoryUsage().rss - rssAt200) / 2 ** 20;
  tt.equal(bad, 0, 'every failure is a VidlmError with a video code');
  tt.comment(`outcomes: ${JSON.stringify(outcome)}; ${frames} frames decoded; RSS growth after case 200: ${growth.toFixed(1)} MiB`);
  tt.ok((outcome.frames ?? 0) > CASES / 20, 'many mutations still decode (the fuzzer reaches the decoder)');
  tt.ok(Object.keys(outcome).length >= 3, 'several error codes were hit (the fuzzer reaches the demuxers\' error paths)');
  // a leak of one 96x64 context per case would be ≥ 100 MiB here
  tt.ok(growth < 60, `memory bounded (${growth.toFixed(1)} MiB growth over ${CASES - 200} cases)`);
});

t.test('absurd headers get a coded error before a large allocation', async (tt) => {
  const y4mHeader = (w: number, h: number): Buffer => Buffer.concat([Buffer.from(`YUV4MPEG2 W${w} H${h} F30:1 Ip A1:1 C420jpeg\nFRAME\n`, 'latin1'), Buffer.alloc(4096)]);
  const rss = process.memoryUsage().rss;
  // 30000x30000 (1.35 GB per frame): FFmpeg's own image-size check refuses the header
  await tt.rejects(openVideo(y4mHeader(30000, 30000)), { code: 'ERR_VIDEO_OPEN' });
  // 10000x10000 passes FFmpeg's check; vidlm's maxPixels (default 8192²) refuses it from the header
  await tt.rejects(openVideo(y4mHeader(10000, 10000)), { code: 'ERR_VIDEO_TOO_LARGE', details: { reason: 'too-large' } });
  tt.ok(process.memoryUsage().rss - rss < 100 * 2 ** 20, 'nothing large was allocated');
  await tt.rejects(openVideo(y4mHeader(640, 480), { maxPixels: 1000 }), { code: 'ERR_VIDEO_TOO_LARGE' });
  const ok = Buffer.concat([Buffer.from('YUV4MPEG2 W64 H64 F30:1 Ip A1:1 C420jpeg\nFRAME\n', 'latin1'), Buffer.alloc(64 * 64 * 3 / 2)]);
  const v = await openVideo(ok, { maxPixels: 64 * 64 });
  tt.equal((await v.sample({ uniform: 1 })).length, 1, 'within maxPixels: decodes');
  await v.close();
  await tt.rejects(openVideo(ok, { maxPixels: 64 * 63 }), { code: 'ERR_VIDEO_TOO_LARGE' });
  await tt.rejects(openVideo(ok, { maxPixels: -1 }), { code: 'ERR_INVALID_ARG' });
  // an AVI whose header claims far more frames than its bytes could hold
  const avi = Buffer.from(make('seed.avi', ['-c:v', 'mjpeg', '-an']));
  const avih = avi.indexOf('avih');
  avi.writeUInt32LE(0x7fffffff, avih + 8 + 16); // dwTotalFrames
  const strh = avi.indexOf('strh');
  avi.writeUInt32LE(0x7fffffff, strh + 8 + 32); // dwLength
  // (a timeline of 2^31 frames would be built from it otherwise)
  await tt.rejects(openVideo(avi), { code: 'ERR_VIDEO_DECODE', details: { reason: 'implausible-header', frameCount: 0x7fffffff } });
});
