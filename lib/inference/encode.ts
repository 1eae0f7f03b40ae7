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
  return guard.run(() => encode(enc, frames, cache, opts.batchSize ?? 16, source, guard.signal, report, opts.missing));
}

async function encode(enc: EncoderIdentity, frames: readonly EncodableFrame[], cache: EmbeddingCache | null, batchSize: number,
  source: { id: string; variant: string } | undefined, signal: AbortSignal, report: ((f: number) => void) | undefined,
  missing?: (indices: number[]) => Promise<readonly EncodableFrame[]>): Promise<{ grids: FrameGrid[]; stats: EncodeStats }> {
  const started = performance.now();
  throwIfAborted(signal);
  frames.forEach((f, i) => {
    if (!f || !(f.rgb instanceof Uint8Array) || !Number.isFinite(f.t)) {
      throw new VidlmError('ERR_INVALID_ARG', `frame ${i} must be { t, width, height, rgb: Uint8Array }`);
    }
  });
  const grids: (FrameGrid | undefined)[] = new Array(frames.length);
  const keys = frames.map((f) => EmbeddingCache.key({
    mmproj: enc.id, source: source?.id ?? pixelKey(f), variant: source?.variant ?? '', t: source ? f.t : 0, width: f.width, height: f.height,
  }));
  const todo: number[] = [];
  for (let i = 0; i < frames.length; i++) {
    const hit = cache ? await cache.get(keys[i]!) : undefined;
    if (hit) grids[i] = { ...hit, t: frames[i]!.t };
    else todo.push(i);
  }
  let batches = 0;
  const needPixels = missing ? todo.filter((i) => frames[i]!.rgb.length === 0) : [];
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
  if (todo.length > 0) {
    const base = frames.length - todo.length;
    const onProgress = report ? (f: number) => report((base + f * todo.length) / frames.length) : undefined;
    const out = await enc.queue.run(() => {
      throwIfAborted(signal);
      return withThreads(enc.compute, [enc.handle], () => withAbort(signal, (token) => enc.handle.encode(todo.map((i) => frames[i]!), batchSize, token, onProgress)), signal);
    });
    batches = out.batches;
    for (let k = 0; k < todo.length; k++) {
      const i = todo[k]!;
      const e = out.frames[k]!;
      const grid: FrameGrid = { t: frames[i]!.t, nx: e.nx, ny: e.ny, dim: e.dim, data: e.data }; // the native side gives the grid's shape
      grids[i] = grid;
      if (cache) await cache.set(keys[i]!, grid);
    }
  }
  report?.(1);
  return {
    grids: grids as FrameGrid[],
    stats: { encoded: todo.length, cached: frames.length - todo.length, batches, ms: performance.now() - started },
  };
}
