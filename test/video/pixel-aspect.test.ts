/**
 * Pixel aspect from a file's header, at its extremes. Frames without a `size` come at the display
 * size (the stored one stretched by the pixel aspect): a 16 KB PNG whose pHYs says 3000:1 made a
 * 4096 x 4096 picture 12288000 x 4096 (std::bad_alloc, or tens of GB where the allocation
 * succeeds), a 1000 x 1000 H.264 with a VUI aspect of 999:1 a 3 GB frame (9 GB of RSS). The
 * display size is held to maxPixels like the stored one, before decoding; and an aspect that
 * narrows a picture below a pixel reports the column the picture keeps.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import t from 'tap';
import { openVideo } from '../../lib/video/index.js';
import { MEDIA_DIR } from '../fixtures/media.js';

const dir = join(MEDIA_DIR, 'pixel-aspect');
mkdirSync(dir, { recursive: true });

const crcTable = Array.from({ length: 256 }, (_, n) => { let c = n; for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; return c >>> 0; });
const crc32 = (b: Buffer): number => { let c = 0xffffffff; for (const x of b) c = crcTable[(c ^ x) & 0xff]! ^ (c >>> 8); return (c ^ 0xffffffff) >>> 0; };
function chunk(type: string, data: Buffer): Buffer {
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4); crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}
/** A grey w x h PNG whose pHYs chunk says x and y pixels per metre (FFmpeg's aspect x:y). */
function png(name: string, w: number, h: number, x: number, y: number): string {
  const out = join(dir, name);
  if (existsSync(out)) return out;
  const ihdr = Buffer.alloc(13); ihdr.writeUInt32BE(w, 0); ihdr.writeUInt32BE(h, 4); ihdr[8] = 8; ihdr[9] = 0;
  const phys = Buffer.alloc(9); phys.writeUInt32BE(x, 0); phys.writeUInt32BE(y, 4); phys[8] = 1;
  const row = Buffer.concat([Buffer.from([0]), Buffer.alloc(w, 128)]);
  const idat = deflateSync(Buffer.concat(Array.from({ length: h }, () => row)));
  writeFileSync(out, Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('pHYs', phys), chunk('IDAT', idat), chunk('IEND', Buffer.alloc(0))]));
  return out;
}

t.test('a display size over maxPixels is refused before decoding; an explicit size decodes', async (t) => {
  const wide = png('wide-3000.png', 64, 64, 3000, 1); // 64 x 64 stored, 192000 x 64 displayed
  const v = await openVideo(wide, { maxPixels: 1_000_000 });
  try {
    t.same([v.probe.video!.displayWidth, v.probe.video!.displayHeight], [192000, 64], 'the probe says what the header says');
    await t.rejects(v.sample({ uniform: 1 }), { code: 'ERR_VIDEO_TOO_LARGE', details: { reason: 'too-large', displayWidth: 192000, displayHeight: 64 } }, 'no size: refused');
    t.equal(v.stats.framesDecoded, 0, 'nothing was decoded');
    const [f] = await v.sample({ uniform: 1 }, { size: [96, 32] });
    t.same([f!.width, f!.height, f!.rgb.length], [96, 32, 96 * 32 * 3], 'with a size: the frame');
    t.ok(f!.rgb.every((c) => Math.abs(c - 128) <= 2), 'grey, as stored');
  } finally {
    await v.close();
  }
  // the default maxPixels (8192 x 8192) holds a 4096 x 4096 picture, not its 12288000 x 4096 display
  const bomb = png('bomb-3000.png', 4096, 4096, 3000, 1);
  const b = await openVideo(bomb);
  try {
    await t.rejects(b.sample({ uniform: 1 }), { code: 'ERR_VIDEO_TOO_LARGE' }, 'a 16 KB PNG does not ask for 150 GB');
  } finally {
    await b.close();
  }
});

t.test('an H.264 stream whose aspect (200:1) displays past maxPixels: refused, and decoded at a size', async (t) => {
  const out = join(dir, 'h264-sar-200.mp4');
  if (!existsSync(out)) {
    const r = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y', '-f', 'lavfi', '-i', 'testsrc2=s=320x240:r=5:d=0.4,setsar=sar=200/1:max=1000',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', out]);
    if (r.status !== 0) throw new Error(`ffmpeg failed: ${r.stderr}`);
  }
  const v = await openVideo(out, { maxPixels: 320 * 240 * 100 });
  try {
    t.same([v.probe.video!.displayWidth, v.probe.video!.pixelAspect], [64000, [200, 1]], 'the stream says 200:1');
    await t.rejects(v.sample({ uniform: 2 }), { code: 'ERR_VIDEO_TOO_LARGE' });
    const fr = await v.sample({ uniform: 2 }, { size: 64 });
    t.equal(fr.length, 2, 'with a size: decoded');
  } finally {
    await v.close();
  }
});

t.test('an aspect that narrows a picture below one pixel: the probe reports the column kept', async (t) => {
  const narrow = png('narrow-3000.png', 64, 64, 1, 3000); // 64 / 3000 of a pixel wide
  const v = await openVideo(narrow);
  try {
    t.same([v.probe.video!.displayWidth, v.probe.video!.displayHeight], [1, 64], 'displayed 1 x 64');
    const [f] = await v.sample({ uniform: 1 });
    t.same([f!.width, f!.height], [v.probe.video!.displayWidth, v.probe.video!.displayHeight], 'the frame has the size the probe said');
  } finally {
    await v.close();
  }
});
