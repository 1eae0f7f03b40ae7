/**
 * Decoding beside encoding (issue 26, item 3): a bounded queue between sample and encode, so that
 * frames k+1… decode while the encoder works on frame k's chunk, and a video question costs about
 * max(decode, encode) instead of their sum where cores are free.
 *
 * Threads come from the one budget (lib/threads): the decoder is opened with one core kept back
 * for the encoder (threads/index.ts reserving), and each chunk's encode holds a compute lease,
 * which the budget splits with the decoding leases; so the two stages together run no more
 * threads than the cores the process may use, and no more compute threads than the budget. Only
 * under the policy (a model with a fixed `threads` asked for that many compute threads, and the
 * decoder beside them would add to them) and with at least two cores free of other work (on one,
 * the stages would only take turns, and the decoder would lose the second thread it has beside
 * other work: the contention bench's hog rows measured it slower); only for a read alone in the
 * process (concurrent asks and serve's slots already keep the cores busy with each other's stages,
 * and two overlapping reads would run two decoders beside two encoders); not with `reduce` (its still frames are dropped after
 * sampling) nor on the native path (libmtmd encodes inside the prefill).
 *
 * The result is the same as decoding everything and then encoding it: the frames in plan order,
 * one grid per frame (per pair) in that order, through the same encoder and cache keys; encode()
 * then finds the grids ready (EncodeLane.encodeWithStats), and falls back to encoding the frames
 * anew if it is handed anything but the frames the lane saw.
 */
import type { FrameGrid } from '../assembly/types.js';
import { throwIfAborted } from '../errors.js';
import type { EncodableFrame, EncodeOptions, EncodeStats } from '../inference/encode.js';
import type { ReduceSpec } from '../reduce/option.js';
import { computeBudget, reserving, type ComputeConfig } from '../threads/index.js';
import type { VideoFrame } from '../video/types.js';
import type { VideoPlan } from './plan.js';

/** Frames per encoder call while decoding goes on (even, so Qwen-VL pairs stay the pairs of the whole video). */
export const OVERLAP_CHUNK = 4;
/** Chunks decoded but not yet encoded before the decoder waits for the encoder (the bound of the queue). */
export const OVERLAP_DEPTH = 2;

interface GridEncoder {
  encodeWithStats(frames: readonly EncodableFrame[], opts: EncodeOptions): Promise<{ grids: FrameGrid[]; stats: EncodeStats }>;
}
type Encoded = { grids: FrameGrid[]; stats: EncodeStats };

export interface OverlapSetup {
  /** The model's thread settings: overlap only under the policy. */
  compute: ComputeConfig;
  plan: Pick<VideoPlan, 'path' | 'modelTime' | 'variant' | 'audioOnly'>;
  reduce?: ReduceSpec | null;
  /** encode()'s options, the same as after decoding: the cache identity and the batch size. */
  source: string | undefined;
  batchSize: number | undefined;
  signal: AbortSignal;
}

/**
 * VIDLM_OVERLAP=0 turns it off, =1 on (the bench compares both in the same runs); unset: the
 * default (on: docs/deploy.md, "Decoding beside encoding", has the measurements).
 */
export function overlapWanted(s: OverlapSetup): boolean {
  const env = process.env.VIDLM_OVERLAP;
  if (env === '0') return false;
  return s.compute.threads === null && !s.reduce && !s.plan.audioOnly && (s.plan.path !== 'native' || Boolean(s.plan.modelTime));
}

/**
 * Runs `sample` (given a per-frame callback) and, where the overlap applies, encodes its frames in
 * chunks as they come; returns the sampled video and the encoder encode() is to use (the lane,
 * which hands back the grids it made, or `encoder` itself). A failed or aborted sample waits for
 * the chunk being encoded before it rejects, so no native call outlives the read.
 */
export async function sampleEncoding<V extends { frames: VideoFrame[] }>(encoder: GridEncoder, s: OverlapSetup,
  sample: (onFrame?: (f: VideoFrame) => Promise<void>) => Promise<V>): Promise<{ video: V; encoder: GridEncoder }> {
  // alone in the process (no other read sampling, no lease held), checked before anything is awaited: two
  // overlapping reads would run two decoders and two encoders at once; the second decodes then encodes
  const alone = sampling === 0 && computeBudget.stats().leases === 0;
  sampling++;
  try {
    // cores free for both stages: beside other work (one free core) the encoder would take the decoder's second thread
    if (!alone || !overlapWanted(s) || (await computeBudget.computeFree()) < 2 || (await computeBudget.free()) < 2) return { video: await sample(), encoder };
    const lane = new EncodeLane(encoder, { source: s.source, variant: s.plan.variant, batchSize: s.batchSize, pairs: Boolean(s.plan.modelTime), signal: s.signal });
    try {
      const video = await reserving(1, () => sample((f) => lane.push(f)));
      return { video, encoder: lane };
    } catch (e) {
      await lane.settle();
      throw e;
    }
  } finally {
    sampling--;
  }
}

/** Reads of the process between the start and the end of their sampling (sampleEncoding). */
let sampling = 0;

interface ChunkOptions { source: string | undefined; variant: string; batchSize: number | undefined; pairs: boolean; signal: AbortSignal }

/** The queue: frames pushed in decoding order, encoded a chunk at a time, one chunk after the other. */
export class EncodeLane implements GridEncoder {
  readonly #inner: GridEncoder;
  readonly #o: ChunkOptions;
  readonly #frames: VideoFrame[] = [];
  readonly #chunks: { count: number; done: Promise<Encoded>; settled: boolean }[] = [];
  #queued = 0;
  #tail: Promise<unknown> = Promise.resolve();
  #error: { e: unknown } | undefined;

  constructor(inner: GridEncoder, o: ChunkOptions) {
    this.#inner = inner;
    this.#o = o;
  }

  /** A decoded frame; resolves when the decoder may go on (at most OVERLAP_DEPTH chunks wait), rejects with a chunk's error. */
  push = async (f: VideoFrame): Promise<void> => {
    this.#check();
    this.#frames.push(f);
    if (this.#frames.length - this.#queued >= OVERLAP_CHUNK) this.#flush();
    const waiting = this.#chunks.filter((c) => !c.settled);
    if (waiting.length > OVERLAP_DEPTH) await waiting[0]!.done.catch(() => undefined);
    this.#check();
  };

  /** A chunk that failed stops the decoding (its error, e.g. ERR_ABORTED, is the read's). */
  #check(): void {
    if (this.#error) throw this.#error.e;
  }

  /** Frames pushed since the last chunk: a chunk of their own, encoded after the one before. */
  #flush(): void {
    if (this.#queued === this.#frames.length) return;
    const frames = this.#frames.slice(this.#queued);
    this.#queued = this.#frames.length;
    const { source, variant, batchSize, pairs, signal } = this.#o;
    const done = this.#tail.then(() => this.#inner.encodeWithStats(frames, {
      ...(source === undefined ? {} : { source, variant }), ...(batchSize === undefined ? {} : { batchSize }), signal, ...(pairs ? { pairs } : {}),
    }));
    const chunk = { count: frames.length, done, settled: false };
    this.#chunks.push(chunk);
    this.#tail = done;
    done.then(() => { chunk.settled = true; }, (e: unknown) => { chunk.settled = true; this.#error ??= { e }; });
  }

  /** Waits for every chunk started to end (for a read that fails: no encode left running). */
  async settle(): Promise<void> {
    await Promise.allSettled(this.#chunks.map((c) => c.done));
  }

  /**
   * encode()'s call once decoding is done: the rest of the frames as a last chunk, then every
   * chunk's grids in order. Anything but the frames and options the lane encoded: encoded anew.
   */
  async encodeWithStats(frames: readonly EncodableFrame[], opts: EncodeOptions): Promise<Encoded> {
    const same = frames.length === this.#frames.length && frames.every((f, i) => f === this.#frames[i])
      && opts.source === this.#o.source && (opts.source === undefined || opts.variant === this.#o.variant)
      && opts.batchSize === this.#o.batchSize && Boolean(opts.pairs) === this.#o.pairs && !opts.missing && opts.cache !== false;
    if (!same) {
      await this.settle();
      return this.#inner.encodeWithStats(frames, opts);
    }
    this.#flush();
    let done = 0;
    const grids: FrameGrid[] = [];
    const stats: EncodeStats = { encoded: 0, cached: 0, batches: 0, ms: 0 };
    try {
      for (const c of this.#chunks) {
        const r = await c.done;
        grids.push(...r.grids);
        stats.encoded += r.stats.encoded;
        stats.cached += r.stats.cached;
        stats.batches += r.stats.batches;
        stats.ms += r.stats.ms;
        done += c.count;
        opts.onProgress?.(frames.length > 0 ? done / frames.length : 1);
        throwIfAborted(opts.signal); // chunks already done: an abort still ends the stage here
      }
    } catch (e) {
      await this.settle();
      throw e;
    }
    if (frames.length === 0) opts.onProgress?.(1);
    return { grids, stats };
  }
}
