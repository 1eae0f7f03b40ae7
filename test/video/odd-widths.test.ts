/**
 * Frames at their own size, at every width a camera or an editor may write. swscale's SIMD
 * converters write whole blocks of pixels, past a row's end: into an RGB buffer of exactly
 * width × height × 3 that corrupted the heap at widths 200 and 202 (the process aborted in free()),
 * and its special unscaled converter left the last width % 8 columns unwritten (194, 196, 198 …).
 * Each width runs in a child process, so a corruption shows as its exit status, and its pixels are
 * compared with the ffmpeg program's conversion of the same frames, column by column.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import t from 'tap';
import { MEDIA_DIR } from '../fixtures/media.js';

const root = resolve(import.meta.dirname, '..', '..');
const dir = join(MEDIA_DIR, 'odd-widths');
mkdirSync(dir, { recursive: true });

function make(name: string, size: string, codec: string[]): string {
  const out = join(dir, name);
  if (existsSync(out)) return out;
  const r = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y', '-f', 'lavfi', '-i', `testsrc=size=${size}:rate=5:duration=1`, ...codec, out]);
  if (r.status !== 0) throw new Error(`ffmpeg failed: ${r.stderr}`);
  return out;
}

/** Every frame's RGB24 bytes at the file's own size, from `vidlm frames` in a child process. */
function vidlmFrames(path: string): { status: number | null; signal: string | null; stderr: string; rgb: Buffer } {
  const r = spawnSync(process.execPath, [join(root, 'dist', 'cli.js'), 'frames', path, '--frames', '5', '--format', 'rgb24', '--out', '-'], { cwd: root, maxBuffer: 1 << 26 });
  return { status: r.status, signal: r.signal, stderr: r.stderr.toString(), rgb: r.stdout };
}

/** The ffmpeg program's RGB24 bytes of every frame. */
function ffmpegFrames(path: string): Buffer {
  const r = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-i', path, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`ffmpeg failed: ${r.stderr}`);
  return r.stdout;
}

/** The largest mean absolute difference of one pixel column (all frames, rows and channels). */
function worstColumn(a: Buffer, b: Buffer, w: number): number {
  const sums = new Float64Array(w);
  for (let i = 0; i < a.length; i++) sums[Math.floor(i / 3) % w]! += Math.abs(a[i]! - b[i]!);
  return Math.max(...sums) / (a.length / w);
}

// every residue of the width modulo 32 (the widest SIMD block), heights even and odd
const sizes = Array.from({ length: 32 }, (_, k) => `${193 + k}x${k % 2 ? 112 : 113}`);

t.test('H.264 (yuv420p) at its own size: every width converts, pixels as ffmpeg', async (tt) => {
  for (const size of sizes) {
    const [w, h] = size.split('x').map(Number) as [number, number];
    // x264 needs even sizes for 4:2:0; yuv444p keeps the odd ones
    const file = make(`h264-${size}.mkv`, size, ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', w % 2 || h % 2 ? 'yuv444p' : 'yuv420p']);
    const r = vidlmFrames(file);
    tt.equal(r.status, 0, `${size}: exit 0 (signal ${r.signal}) ${r.stderr.slice(-200)}`);
    const ref = ffmpegFrames(file);
    tt.equal(r.rgb.length, ref.length, `${size}: 5 frames of ${w}×${h}×3 bytes`);
    if (r.rgb.length !== ref.length) continue;
    // the two convert chroma differently by a few levels; an unwritten column is off by ~200
    const worst = worstColumn(r.rgb, ref, w);
    tt.ok(worst < 16, `${size}: every column within 16 levels of ffmpeg's on average (worst ${worst.toFixed(1)})`);
  }
});

t.test('animated WebP (RGBA) at its own size: every width converts', async (tt) => {
  for (const size of ['200x112', '202x112', '203x111', '198x112']) {
    const [w, h] = size.split('x').map(Number) as [number, number];
    const file = make(`anim-${size}.webp`, size, ['-c:v', 'libwebp_anim', '-loop', '0', '-lossless', '1']);
    const r = vidlmFrames(file);
    tt.equal(r.status, 0, `${size}: exit 0 (signal ${r.signal}) ${r.stderr.slice(-200)}`);
    tt.equal(r.rgb.length, 5 * w * h * 3, `${size}: 5 frames of ${w}×${h}×3 bytes`);
    // lossless: the pictures the file was made from (ffmpeg's WebP decoder has no animation)
    if (r.rgb.length === 5 * w * h * 3) {
      const src = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-f', 'lavfi', '-i', `testsrc=size=${size}:rate=5:duration=1`, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { maxBuffer: 1 << 26 });
      const worst = worstColumn(r.rgb, src.stdout, w);
      tt.ok(worst < 16, `${size}: every column within 16 levels of ffmpeg's on average (worst ${worst.toFixed(1)})`);
    }
  }
});
