/**
 * Scale / rotate / convert decoded frames to tightly packed RGB24 inside FFmpeg (a libavfilter
 * graph: display-matrix transpose, swscale, pad or crop). The filter string is built by a pure
 * function so it can be tested without FFmpeg.
 */
import { VidlmError } from '../errors.js';
import type { Beamcoder, Filterer, Frame } from './ffmpeg.js';
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

export interface FilterPlanInput {
  /** Decoded picture size and sample aspect ratio. */
  width: number;
  height: number;
  sar: [number, number];
  /** Display-matrix filters (probe.ts rotationFilters). */
  rotate: string[];
  size: [number, number] | null;
  fit?: FitMode;
  padColor?: [number, number, number];
  scaler?: FrameOptions['scaler'];
}

export interface FilterPlan {
  spec: string;
  width: number;
  height: number;
}

const hex = (c: number[]): string => '0x' + c.map((v) => Math.max(0, Math.min(255, Math.round(v))).toString(16).padStart(2, '0')).join('');

/** The libavfilter graph that turns a decoded frame into the requested RGB24 picture. */
export function buildFilterPlan(p: FilterPlanInput): FilterPlan {
  const fit = p.fit ?? 'stretch';
  if (!['stretch', 'pad', 'crop'].includes(fit)) throw new VidlmError('ERR_INVALID_ARG', `fit must be stretch, pad or crop, got '${fit}'`);
  const flags = p.scaler ?? 'bicubic';
  const parts = [...p.rotate];
  let w = p.width;
  let h = p.height;
  let sar = p.sar[0] > 0 && p.sar[1] > 0 ? p.sar[0] / p.sar[1] : 1;
  if (p.rotate.some((f) => f.startsWith('transpose'))) {
    [w, h] = [h, w];
    sar = 1 / sar;
  }
  const dispW = w * sar;
  const dispH = h;
  const scale = (sw: number, sh: number): string => `scale=${sw}:${sh}:flags=${flags},format=rgb24`;
  let outW: number;
  let outH: number;
  if (!p.size) {
    outW = Math.max(1, Math.round(dispW));
    outH = dispH;
    parts.push(outW === w ? 'format=rgb24' : scale(outW, outH));
  } else {
    [outW, outH] = p.size;
    if (fit === 'stretch') parts.push(scale(outW, outH));
    else if (fit === 'pad') {
      const s = Math.min(outW / dispW, outH / dispH);
      const sw = Math.min(outW, Math.max(1, Math.round(dispW * s)));
      const sh = Math.min(outH, Math.max(1, Math.round(dispH * s)));
      parts.push(scale(sw, sh));
      if (sw !== outW || sh !== outH) parts.push(`pad=${outW}:${outH}:${Math.floor((outW - sw) / 2)}:${Math.floor((outH - sh) / 2)}:color=${hex(p.padColor ?? [0, 0, 0])}`);
    } else {
      const s = Math.max(outW / dispW, outH / dispH);
      const sw = Math.max(outW, Math.round(dispW * s));
      const sh = Math.max(outH, Math.round(dispH * s));
      parts.push(scale(sw, sh));
      if (sw !== outW || sh !== outH) parts.push(`crop=${outW}:${outH}:${Math.floor((sw - outW) / 2)}:${Math.floor((sh - outH) / 2)}`);
    }
  }
  parts.push('setsar=1');
  return { spec: parts.join(','), width: outW, height: outH };
}

export interface RgbPicture {
  width: number;
  height: number;
  rgb: Uint8Array;
}

/** Packs the first plane of an rgb24 frame; zero-copy when FFmpeg's rows are already tight. */
export function packRgb(data: Uint8Array, linesize: number, width: number, height: number): Uint8Array {
  const row = width * 3;
  if (linesize === row) return new Uint8Array(data.buffer, data.byteOffset, row * height);
  const out = new Uint8Array(row * height);
  for (let y = 0; y < height; y++) out.set(data.subarray(y * linesize, y * linesize + row), y * row);
  return out;
}

/** Converts frames of one stream; rebuilds its graph when the decoded size or format changes. */
export class FrameConverter {
  private filterer: Filterer | null = null;
  private key = '';
  private plan: FilterPlan | null = null;

  constructor(
    private readonly bc: Beamcoder,
    private readonly opts: { rotate: string[]; size: [number, number] | null; fit?: FitMode; padColor?: [number, number, number]; scaler?: FrameOptions['scaler']; timeBase: [number, number] },
  ) {}

  async convert(frame: Frame): Promise<RgbPicture> {
    const sarRaw = frame.sample_aspect_ratio;
    const sar: [number, number] = sarRaw && sarRaw[0]! > 0 && sarRaw[1]! > 0 ? [sarRaw[0]!, sarRaw[1]!] : [1, 1];
    const key = `${frame.width}x${frame.height}:${frame.format}:${sar.join('/')}`;
    if (key !== this.key || !this.filterer) {
      this.plan = buildFilterPlan({ width: frame.width, height: frame.height, sar, rotate: this.opts.rotate, size: this.opts.size, fit: this.opts.fit, padColor: this.opts.padColor, scaler: this.opts.scaler });
      try {
        this.filterer = await this.bc.filterer({
          filterType: 'video',
          inputParams: [{ width: frame.width, height: frame.height, pixelFormat: frame.format ?? 'yuv420p', timeBase: this.opts.timeBase, pixelAspect: sar }],
          outputParams: [{ pixelFormat: 'rgb24' }],
          filterSpec: this.plan.spec,
        });
      } catch (e) {
        throw new VidlmError('ERR_VIDEO_DECODE', `cannot build the scale graph '${this.plan.spec}': ${(e as Error).message}`, { spec: this.plan.spec }, { cause: e });
      }
      this.key = key;
    }
    let out: Frame | undefined;
    try {
      const res = await this.filterer!.filter([frame]);
      out = res[0]?.frames[0];
    } catch (e) {
      throw new VidlmError('ERR_VIDEO_DECODE', `scaling failed: ${(e as Error).message}`, { spec: this.plan!.spec }, { cause: e });
    }
    if (!out) throw new VidlmError('ERR_VIDEO_DECODE', `the scale graph '${this.plan!.spec}' returned no frame`);
    return { width: out.width, height: out.height, rgb: packRgb(out.data[0]!, out.linesize[0]!, out.width, out.height) };
  }
}
