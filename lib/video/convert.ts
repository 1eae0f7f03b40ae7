/**
 * How decoded pictures become RGB24: output size, fit, pad colour and scaler, checked here and
 * carried out by the addon (native/video/convert.cpp: display-matrix rotation, pixel aspect,
 * swscale, pad or crop, alpha composited on white).
 */
import { VidlmError } from '../errors.js';
import type { NativeConvertSpec } from '../native.js';
import type { FitMode, FrameOptions } from './types.js';

export function parseSize(size: FrameOptions['size']): [number, number] | null {
  if (size === undefined || size === null) return null;
  let w: number;
  let h: number;
  if (typeof size === 'number') w = h = size;
  else if (typeof size === 'string') {
    const m = /^\s*(\d+)\s*[xX:]\s*(\d+)\s*$/.exec(size);
    if (!m) throw new VidlmError('ERR_INVALID_ARG', `size must look like 336x336, got '${size}'`);
    w = Number(m[1]);
    h = Number(m[2]);
  } else if (Array.isArray(size) && size.length === 2) [w, h] = size;
  else throw new VidlmError('ERR_INVALID_ARG', `size must be [w, h], 'WxH' or a number, got ${JSON.stringify(size)}`);
  if (!Number.isInteger(w) || !Number.isInteger(h) || w < 1 || h < 1 || w > 16384 || h > 16384) {
    throw new VidlmError('ERR_INVALID_ARG', `size must be whole pixels between 1 and 16384, got ${w}x${h}`);
  }
  return [w, h];
}

const FITS: readonly FitMode[] = ['stretch', 'pad', 'crop'];
const SCALERS: readonly NonNullable<FrameOptions['scaler']>[] = ['bicubic', 'bilinear', 'area', 'lanczos', 'neighbor', 'fast_bilinear', 'spline'];

/** Checks the frame options and turns them into the addon's conversion spec. */
export function convertSpec(o: FrameOptions, matrix: number[] | null): NativeConvertSpec {
  const size = parseSize(o.size);
  const fit = o.fit ?? 'stretch';
  if (!FITS.includes(fit)) throw new VidlmError('ERR_INVALID_ARG', `fit must be stretch, pad or crop, got '${String(fit)}'`);
  const scaler = o.scaler ?? 'bicubic';
  if (!SCALERS.includes(scaler)) throw new VidlmError('ERR_INVALID_ARG', `scaler must be one of ${SCALERS.join(', ')}, got '${String(scaler)}'`);
  const pad = o.padColor ?? [0, 0, 0];
  if (!Array.isArray(pad) || pad.length !== 3 || !pad.every((c) => Number.isInteger(c) && c >= 0 && c <= 255)) {
    throw new VidlmError('ERR_INVALID_ARG', `padColor must be [r, g, b] with integers 0..255, got ${JSON.stringify(pad)}`);
  }
  const spec: NativeConvertSpec = { fit, scaler, padColor: [pad[0], pad[1], pad[2]] };
  if (size) [spec.width, spec.height] = size;
  if (matrix) spec.matrix = matrix;
  return spec;
}

/**
 * Frames without a `size` come at the display size, the stored one stretched by the pixel aspect:
 * a header's aspect (an H.264 VUI up to 65535:1, a PNG's pHYs, a JPEG's density) could make a
 * 1000 x 1000 video a 999000 x 1000 picture (3 GB a frame). Such a size is held to `maxPixels`
 * like a stored one, before anything is decoded.
 */
export function checkDisplaySize(spec: NativeConvertSpec, video: { width: number; height: number; displayWidth: number; displayHeight: number; pixelAspect: [number, number] }, maxPixels: number, source: string): void {
  if (spec.width !== undefined) return;
  const { displayWidth: dw, displayHeight: dh } = video;
  if (dw * dh <= maxPixels) return;
  throw new VidlmError('ERR_VIDEO_TOO_LARGE', `${source}: its ${video.width}x${video.height} pictures with pixel aspect ${video.pixelAspect.join(':')} display at ${dw}x${dh}, over maxPixels (${maxPixels}); pass a size`,
    { source, stage: 'convert', reason: 'too-large', displayWidth: dw, displayHeight: dh, maxPixels });
}
