/**
 * Stills as people have them: photo-sized baseline and progressive JPEGs, a phone JPEG with EXIF
 * orientation 6, a grayscale JPEG, a PNG with alpha, a 16-bit PNG, a BMP and an animated GIF, each
 * pixel-checked against the ffmpeg program's own decode (and the transforms the test does itself).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { openVideo } from '../../lib/video/index.js';
import { MEDIA_DIR, meanAbsDiff, type Picture } from '../fixtures/media.js';

const dir = join(MEDIA_DIR, 'stills');
mkdirSync(dir, { recursive: true });

function make(name: string, args: string[]): string {
  const out = join(dir, name);
  if (!existsSync(out)) execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y', ...args, out]);
  return out;
}

/** The ffmpeg program's decode of a still, as raw pixels of `pixFmt` (rgb24 or rgba). */
function ffmpegDecode(path: string, pixFmt: 'rgb24' | 'rgba' = 'rgb24', frame = 0): Picture & { channels: number } {
  const args = ['-hide_banner', '-loglevel', 'error', '-nostdin', '-i', path, '-vf', `select=eq(n\\,${frame})`, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', pixFmt, '-'];
  const r = spawnSync('ffmpeg', args, { maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(r.stderr.toString());
  const probe = spawnSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height', '-of', 'csv=p=0', path], { encoding: 'utf8' });
  const [width, height] = probe.stdout.trim().split(',').map(Number) as [number, number];
  return { width, height, rgb: new Uint8Array(r.stdout), channels: pixFmt === 'rgba' ? 4 : 3 };
}

async function decode(path: string, frames = 1): Promise<Picture[]> {
  const v = await openVideo(path);
  try {
    return await v.sample(frames === 1 ? { uniform: 1 } : { all: true });
  } finally {
    await v.close();
  }
}

function maxDiff(a: Picture, b: Picture): number {
  if (a.width !== b.width || a.height !== b.height) return Infinity;
  let m = 0;
  for (let i = 0; i < a.rgb.length; i++) m = Math.max(m, Math.abs(a.rgb[i]! - b.rgb[i]!));
  return m;
}

/** A detailed 1600x1200 photo-like picture: gradients, noise and edges (JPEG keeps it large). */
const PHOTO_SRC = ['-f', 'lavfi', '-i', 'mandelbrot=s=1600x1200:end_pts=1,noise=alls=40:allf=t', '-frames:v', '1'];

t.test('photo-sized JPEG, baseline', async (tt) => {
  const path = make('photo-baseline.jpg', [...PHOTO_SRC, '-q:v', '2', '-pix_fmt', 'yuvj420p']);
  tt.ok(readFileSync(path).length >= 100_000, `≥ 100 KB (${readFileSync(path).length} bytes)`);
  const [f] = await decode(path);
  const ref = ffmpegDecode(path);
  tt.same([f!.width, f!.height], [1600, 1200]);
  tt.ok(meanAbsDiff(f!, ref) < 0.05 && maxDiff(f!, ref) <= 2, `same pixels as ffmpeg (mean ${meanAbsDiff(f!, ref).toFixed(4)}, max ${maxDiff(f!, ref)})`);
});

t.test('photo-sized JPEG, progressive', async (tt) => {
  const base = make('photo-baseline.jpg', [...PHOTO_SRC, '-q:v', '2', '-pix_fmt', 'yuvj420p']);
  const path = join(dir, 'photo-progressive.jpg');
  if (!existsSync(path)) execFileSync('jpegtran', ['-progressive', '-copy', 'all', '-outfile', path, base]);
  const bytes = readFileSync(path);
  tt.ok(bytes.length >= 100_000, `≥ 100 KB (${bytes.length} bytes)`);
  tt.ok(bytes.includes(Buffer.from([0xff, 0xc2])), 'has a progressive SOF2 marker');
  const [f] = await decode(path);
  const ref = ffmpegDecode(path);
  tt.ok(maxDiff(f!, ref) <= 2, `same pixels as ffmpeg (max diff ${maxDiff(f!, ref)})`);
  const [b] = await decode(base);
  tt.ok(meanAbsDiff(f!, b!) < 0.05, 'the same picture as the baseline file it was made from');
  // and from a Buffer, as an upload handler has it
  const v = await openVideo(bytes);
  const [fb] = await v.sample({ uniform: 1 });
  await v.close();
  tt.equal(meanAbsDiff(fb!, f!), 0, 'from a Buffer: identical');
});

/** An EXIF APP1 segment with only the Orientation tag, as phones write it (little-endian TIFF). */
function exifOrientation(o: number): Buffer {
  const tiff = Buffer.alloc(26);
  tiff.write('II', 0, 'latin1');
  tiff.writeUInt16LE(42, 2);
  tiff.writeUInt32LE(8, 4); // IFD0 at 8
  tiff.writeUInt16LE(1, 8); // one entry
  tiff.writeUInt16LE(0x0112, 10); // Orientation
  tiff.writeUInt16LE(3, 12); // SHORT
  tiff.writeUInt32LE(1, 14);
  tiff.writeUInt16LE(o, 18);
  tiff.writeUInt32LE(0, 22); // no next IFD
  const body = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
  const head = Buffer.from([0xff, 0xe1, 0, 0]);
  head.writeUInt16BE(body.length + 2, 2);
  return Buffer.concat([head, body]);
}

t.test('JPEG with EXIF orientation 6 comes out upright', async (tt) => {
  const plain = make('phone-plain.jpg', ['-f', 'lavfi', '-i', 'testsrc2=s=640x480', '-frames:v', '1', '-q:v', '2', '-pix_fmt', 'yuvj420p']);
  const jpeg = readFileSync(plain);
  const path = join(dir, 'phone-exif6.jpg');
  writeFileSync(path, Buffer.concat([jpeg.subarray(0, 2), exifOrientation(6), jpeg.subarray(2)]));
  const stored = ffmpegDecode(plain);
  // orientation 6: the stored picture is shown turned 90° clockwise (out[y][x] = in[H-1-x][y])
  const up: Picture = { width: stored.height, height: stored.width, rgb: new Uint8Array(stored.rgb.length) };
  for (let y = 0; y < up.height; y++) for (let x = 0; x < up.width; x++) {
    const s = ((stored.height - 1 - x) * stored.width + y) * 3;
    up.rgb.set(stored.rgb.subarray(s, s + 3), (y * up.width + x) * 3);
  }
  const [f] = await decode(path);
  tt.same([f!.width, f!.height], [480, 640], 'portrait, as a viewer shows it');
  tt.ok(maxDiff(f!, up) <= 2, `pixels = the stored picture turned clockwise (max diff ${maxDiff(f!, up)})`);
  const v = await openVideo(path);
  const [small] = await v.sample({ uniform: 1 }, { size: [60, 80] });
  await v.close();
  tt.same([small!.width, small!.height], [60, 80]);
});

t.test('grayscale JPEG', async (tt) => {
  // a one-component JPEG, as a scanner or a camera's B&W mode writes it
  const colour = make('phone-plain.jpg', ['-f', 'lavfi', '-i', 'testsrc2=s=640x480', '-frames:v', '1', '-q:v', '2', '-pix_fmt', 'yuvj420p']);
  const path = join(dir, 'gray.jpg');
  if (!existsSync(path)) execFileSync('jpegtran', ['-grayscale', '-outfile', path, colour]);
  tt.match(spawnSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=pix_fmt', '-of', 'csv=p=0', path], { encoding: 'utf8' }).stdout, /gray/);
  const [f] = await decode(path);
  const ref = ffmpegDecode(path);
  tt.equal(maxDiff(f!, ref), 0, 'identical to ffmpeg');
  let grey = true;
  for (let i = 0; i < f!.rgb.length; i += 3) if (f!.rgb[i] !== f!.rgb[i + 1] || f!.rgb[i] !== f!.rgb[i + 2]) grey = false;
  tt.ok(grey, 'r = g = b everywhere');
});

t.test('PNG with alpha is composited on white', async (tt) => {
  const path = make('alpha.png', ['-f', 'lavfi', '-i', "testsrc2=s=128x96,format=rgba,geq=r='r(X,Y)':g='g(X,Y)':b='b(X,Y)':a='2*X'", '-frames:v', '1']);
  const rgba = ffmpegDecode(path, 'rgba');
  const expect: Picture = { width: rgba.width, height: rgba.height, rgb: new Uint8Array(rgba.width * rgba.height * 3) };
  for (let i = 0, j = 0; i < rgba.rgb.length; i += 4, j += 3) {
    const a = rgba.rgb[i + 3]!;
    for (let k = 0; k < 3; k++) expect.rgb[j + k] = Math.floor((rgba.rgb[i + k]! * a + 255 * (255 - a) + 127) / 255);
  }
  const [f] = await decode(path);
  tt.equal(maxDiff(f!, expect), 0, 'c·a + 255·(1 − a), from ffmpeg\'s RGBA decode');
  tt.same([...f!.rgb.subarray(0, 3)], [255, 255, 255], 'a fully transparent pixel is white');
});

t.test('16-bit PNG', async (tt) => {
  const path = make('deep.png', ['-f', 'lavfi', '-i', 'testsrc2=s=160x120,format=rgb48be', '-frames:v', '1', '-pix_fmt', 'rgb48be']);
  tt.match(spawnSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=pix_fmt', '-of', 'csv=p=0', path], { encoding: 'utf8' }).stdout, /rgb48/);
  const [f] = await decode(path);
  const ref = ffmpegDecode(path);
  tt.ok(maxDiff(f!, ref) <= 1, `the top 8 bits, as ffmpeg gives them (max diff ${maxDiff(f!, ref)})`);
});

t.test('BMP (a Windows screenshot), by path and as bytes', async (tt) => {
  // the build had no BMP decoder: ERR_VIDEO_DECODE 'no decoder for bmp video'
  const path = make('screen.bmp', ['-f', 'lavfi', '-i', 'testsrc2=s=203x117', '-frames:v', '1', '-c:v', 'bmp', '-pix_fmt', 'bgr24']);
  const ref = ffmpegDecode(path);
  for (const input of [path, readFileSync(path)]) {
    const v = await openVideo(input);
    try {
      tt.equal(v.probe.isImage, true, 'a still');
      const [f] = await v.sample({ uniform: 1 });
      tt.equal(maxDiff(f!, ref), 0, `identical to ffmpeg (${typeof input === 'string' ? 'path' : 'bytes'})`);
    } finally {
      await v.close();
    }
  }
});

t.test('animated GIF: every frame', async (tt) => {
  const path = make('anim.gif', ['-f', 'lavfi', '-i', 'testsrc2=s=96x64:r=10:d=1']);
  const frames = await decode(path, 0);
  tt.equal(frames.length, 10);
  for (const k of [0, 4, 9]) {
    const ref = ffmpegDecode(path, 'rgb24', k);
    tt.equal(maxDiff(frames[k]!, ref), 0, `frame ${k} identical to ffmpeg's`);
  }
  tt.not(meanAbsDiff(frames[0]!, frames[9]!), 0, 'the frames differ');
});

t.test('animated WebP: every frame, composited as the container says', async (tt) => {
  // frames made by the ffmpeg program, packed losslessly by libwebp's img2webp (which stores
  // sub-rectangles and blending where frames repeat): the canvas must equal each source frame
  const src = join(dir, 'webp-frames');
  mkdirSync(src, { recursive: true });
  const pngs = Array.from({ length: 6 }, (_, i) => join(src, `f${i}.png`));
  if (!existsSync(pngs[5]!)) execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y', '-f', 'lavfi', '-i', 'testsrc2=s=96x64:r=5:d=1.2', '-start_number', '0', join(src, 'f%d.png')]);
  const path = join(dir, 'anim.webp');
  if (!existsSync(path)) execFileSync('img2webp', ['-lossless', '-loop', '0', '-d', '200', ...pngs, '-o', path]);
  const bytes = readFileSync(path);
  tt.ok(bytes.includes(Buffer.from('ANMF')), 'an ANMF (animation frame) file');
  const v = await openVideo(path);
  tt.equal(v.probe.video!.frameCount, 6);
  tt.equal(v.probe.video!.avgFps, 5);
  tt.equal(v.probe.duration, 1.2);
  const frames = await v.sample({ all: true });
  await v.close();
  tt.same(frames.map((f) => f.t), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  frames.forEach((f, k) => tt.equal(maxDiff(f, ffmpegDecode(pngs[k]!)), 0, `frame ${k} = the PNG it was made from, as ffmpeg decodes it`));
  tt.not(meanAbsDiff(frames[0]!, frames[5]!), 0, 'the frames differ');
  // from a Buffer too, scaled
  const b = await openVideo(bytes);
  const [mid] = await b.sample({ times: [0.5] }, { size: [48, 32] });
  await b.close();
  tt.same([mid!.width, mid!.height, mid!.t], [48, 32, 0.6], 'the first frame at or after 0.5 s');
});
