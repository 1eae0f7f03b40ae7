/** PNG encoding of RGB24 frames with FFmpeg's png encoder (no extra dependency). */
import { VidlmError } from '../errors.js';
import { native } from '../native.js';

export async function encodePng(frame: { width: number; height: number; rgb: Uint8Array }): Promise<Buffer> {
  const { width, height, rgb } = frame;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) throw new VidlmError('ERR_INVALID_ARG', `width and height must be positive integers, got ${width}x${height}`);
  if (!(rgb instanceof Uint8Array) || rgb.length < width * height * 3) throw new VidlmError('ERR_INVALID_ARG', `rgb has ${rgb?.length} bytes, ${width}x${height} needs ${width * height * 3}`);
  return native().encodePng(width, height, rgb);
}
