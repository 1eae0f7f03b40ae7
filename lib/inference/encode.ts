/**
 * Frames → visual tokens with the mmproj's encoder, through the embedding cache. Only frames
 * the cache does not hold go to the native encoder, in batches.
 */
import { createHash } from 'node:crypto';
import type { FrameGrid } from '../assembly/types.js';
import { VidlmError, throwIfAborted } from '../errors.js';
import { withAbort, type NativeModel } from '../native.js';
import { CallbackGuard } from '../callbacks.js';
import type { SerialQueue } from '../serial.js';
import { EmbeddingCache } from './cache.js';
import { withThreads, type ComputeConfig } from '../threads/index.js';

/** A decoded frame: RGB24, row-major, `width * height * 3` bytes, taken at `t` seconds. */
export interface EncodableFrame {
  t: number;
  width: number;
  height: number;
  rgb: Uint8Array;
}

import type { MediaAudio } from '../audio/clip.js';

export type { MediaAudio } from '../audio/clip.js';

/** What the native path takes, one marker each: a picture or an audio clip. */
export type MediaInput = EncodableFrame | MediaAudio;

export interface EncodeOptions {
  /** Frames per encoder graph (libmtmd may take fewer). Default 16. */
  batchSize?: number;
  signal?: AbortSignal;
  /** Fraction of the frames encoded, 0 to 1. */
  onProgress?: (fraction: number) => void;
  /** Identity of the frames' source (e.g. path + size + mtime); without it frames are keyed by their pixels. */
  source?: string;
  /** Look up and keep the frames in the model's embedding cache (default true). false: frames seen once (a live stream). */
  cache?: boolean;
  /**
   * With `source`: how its frames were made (size, fit, pad colour, scaler; see frameVariant in
   * lib/pipeline/sample.ts). Part of the cache key, so the same frame padded or cropped is not confused.
   */
  variant?: string;
  /**
   * With `source`: frames may come without pixels (`rgb` empty, a follow-up that knows the frame
   * times but decoded nothing); those the cache does not hold are asked for here, by index, and
   * only they are decoded. The callback returns them, with pixels, in the same order.
   */
  missing?: (indices: number[]) => Promise<readonly EncodableFrame[]>;
  /**
   * Models whose tower merges two frames into one temporal step (the Qwen-VL family): frames 2k and
   * 2k+1 are encoded together as libmtmd merges a video's frames (an odd last frame alone, which the
   * tower repeats over the temporal patch, as the processors pair it with itself). One grid per pair,
   * `t` the pair's first frame time, cached under both frames. Default false.
   */
  pairs?: boolean;
}

export interface EncodeStats { encoded: number; cached: number; batches: number; ms: number }

export interface EncoderIdentity {
  handle: NativeModel;
  /** The model's encoder queue: libmtmd encodes one call at a time. */
  queue: SerialQueue;
  /** mmproj identity for cache keys: path, size and mtime. */
  id: string;
  /** The model's thread settings. */
  compute: ComputeConfig;
}

function pixelKey(f: EncodableFrame): string {
  return createHash('sha1').update(f.rgb).digest('hex');
}

export async function encodeFrames(enc: EncoderIdentity, frames: readonly EncodableFrame[], cache: EmbeddingCache | null,
  opts: EncodeOptions = {}): Promise<{ grids: FrameGrid[]; stats: EncodeStats }> {
  const guard = new CallbackGuard(opts.signal);
  const report = guard.wrap('onProgress', opts.onProgress);
  const source = opts.source === undefined ? undefined : { id: opts.source, variant: opts.variant ?? '' };
  if (opts.missing && !source) throw new VidlmError('ERR_INVALID_ARG', 'encode option missing needs a source: frames without pixels are known by their source and time');
  return guard.run(() => encode(enc, frames, cache, opts.batchSize ?? 16, source, guard.signal, report, opts.missing, opts.pairs === true));
}

/** The frames of each encoded unit: one frame, or (pairs) frames 2k and 2k+1, an odd last frame alone. */
export function encodeUnits(n: number, pairs: boolean): number[][] {
  const step = pairs ? 2 : 1;
  const units: number[][] = [];
  for (let i = 0; i < n; i += step) units.push(pairs && i + 1 < n ? [i, i + 1] : [i]);
  return units;
}

async function encode(enc: EncoderIdentity, frames: readonly EncodableFrame[], cache: EmbeddingCache | null, batchSize: number,
  source: { id: string; variant: string } | undefined, signal: AbortSignal, report: ((f: number) => void) | undefined,
  missing?: (indices: number[]) => Promise<readonly EncodableFrame[]>, pairs = false): Promise<{ grids: FrameGrid[]; stats: EncodeStats }> {
  const started = performance.now();
  throwIfAborted(signal);
  frames.forEach((f, i) => {
    if (!f || !(f.rgb instanceof Uint8Array) || !Number.isFinite(f.t)) {
      throw new VidlmError('ERR_INVALID_ARG', `frame ${i} must be { t, width, height, rgb: Uint8Array }`);
    }
  });
  const units = encodeUnits(frames.length, pairs);
  const grids: (FrameGrid | undefined)[] = new Array(units.length);
  const keys = units.map((u) => {
    const [a, b] = [frames[u[0]!]!, u.length > 1 ? frames[u[1]!]! : undefined];
    return EmbeddingCache.key({
      mmproj: enc.id, source: source?.id ?? (pixelKey(a) + (b ? pixelKey(b) : '')), variant: source?.variant ?? '', t: source ? a.t : 0, width: a.width, height: a.height,
      // a pair is known by both frames (a lone last frame of a pair encode is the frame itself, as libmtmd encodes it)
      ...(b ? { t2: source ? b.t : 1 } : {}),
    });
  });
  const todo: number[] = [];
  for (let i = 0; i < units.length; i++) {
    const hit = cache ? await cache.get(keys[i]!) : undefined;
    if (hit) grids[i] = { ...hit, t: frames[units[i]![0]!]!.t };
    else todo.push(i);
  }
  let batches = 0;
  const todoFrames = todo.flatMap((i) => units[i]!);
  const needPixels = missing ? todoFrames.filter((i) => frames[i]!.rgb.length === 0) : [];
  if (needPixels.length > 0) {
    const got = await missing!(needPixels);
    throwIfAborted(signal);
    const filled = [...frames];
    needPixels.forEach((i, k) => {
      const f = got[k];
      if (!f || !(f.rgb instanceof Uint8Array) || f.rgb.length !== frames[i]!.width * frames[i]!.height * 3) {
        throw new VidlmError('ERR_VIDEO_DECODE', `frame ${i} (t=${frames[i]!.t}) could not be decoded again at the size it was cached at`);
      }
      filled[i] = { ...frames[i]!, rgb: f.rgb };
    });
    frames = filled;
  }
  if (pairs) {
    for (const u of units) {
      const [a, b] = [frames[u[0]!]!, frames[u[u.length - 1]!]!];
      if (a.width !== b.width || a.height !== b.height) throw new VidlmError('ERR_INVALID_ARG', `frames ${u[0]} and ${u[1]} of a pair must have the same size`);
    }
  }
  if (todo.length > 0) {
    const base = units.length - todo.length;
    const onProgress = report ? (f: number) => report((base + f * todo.length) / units.length) : undefined;
    // only the last unit can be a lone frame, so the native side's pairing of todoFrames is the units' own
    const out = await enc.queue.run(() => {
      throwIfAborted(signal);
      return withThreads(enc.compute, [enc.handle], () => withAbort(signal, (token) => enc.handle.encode(todoFrames.map((i) => frames[i]!), batchSize, token, onProgress, pairs)), signal);
    });
    batches = out.batches;
    for (let k = 0; k < todo.length; k++) {
      const i = todo[k]!;
      const e = out.frames[k]!;
      const grid: FrameGrid = { t: frames[units[i]![0]!]!.t, nx: e.nx, ny: e.ny, dim: e.dim, data: e.data }; // the native side gives the grid's shape
      grids[i] = grid;
      if (cache) await cache.set(keys[i]!, grid);
    }
  }
  report?.(1);
  return {
    grids: grids as FrameGrid[],
    // frames, as without pairs: a pair is two frames through the encoder (the encoder counters count its one chunk)
    stats: { encoded: todoFrames.length, cached: frames.length - todoFrames.length, batches, ms: performance.now() - started },
  };
}
