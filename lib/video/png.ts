/** PNG encoding of RGB24 frames with FFmpeg's png encoder (no extra dependency). */
import { VidlmError } from '../errors.js';
import { loadBeamcoder } from './ffmpeg.js';

export async function encodePng(frame: { width: number; height: number; rgb: Uint8Array }): Promise<Buffer> {
  const { width, height, rgb } = frame;
  if (rgb.length < width * height * 3) throw new VidlmError('ERR_INVALID_ARG', `rgb has ${rgb.length} bytes, ${width}x${height} needs ${width * height * 3}`);
  const bc = await loadBeamcoder();
  const enc = bc.encoder({ name: 'png', width, height, pix_fmt: 'rgb24', time_base: [1, 25] });
  const f = bc.frame({ width, height, format: 'rgb24' }).alloc();
  const ls = f.linesize[0]!;
  const plane = f.data[0]!;
  const row = width * 3;
  if (ls === row) plane.set(rgb.subarray(0, row * height));
  else for (let y = 0; y < height; y++) plane.set(rgb.subarray(y * row, (y + 1) * row), y * ls);
  f.pts = 0;
  const a = await enc.encode(f);
  const b = await enc.flush();
  // packet buffers carry AV_INPUT_BUFFER_PADDING_SIZE zero bytes after `size`
  return Buffer.concat([...a.packets, ...b.packets].map((p) => p.data.subarray(0, p.size)));
}
