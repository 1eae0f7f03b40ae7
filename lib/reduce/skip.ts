/**
 * Skip before encoding: a sampled frame whose picture repeats the last kept frame (its most
 * changed colour cell moved less than `still`, colourCells below) is not encoded. The kept frame
 * stands for the span up to the next kept frame: its time marker says when that picture was
 * taken, and `until` when it last held (the time of the last frame it stands for).
 * A picture that comes back (a static camera's empty room after someone walked through) is kept
 * at its new time, but is not encoded again: `same` names the earlier kept frame whose embedding
 * it reuses (among the last BANK kept pictures).
 *
 * The change measure (colourCells, cellChange): each frame's R, G and B averaged into a
 * CELLS × CELLS grid of cells; two frames differ by the largest absolute difference of a cell's
 * channel mean (0–255). The most changed cell, not the whole picture: a person walking through a
 * corner of a static camera moves one cell a lot and the picture's mean hardly at all, while
 * compression noise moves every cell a little. The colour channels, not luma alone: a red and a
 * green of the same brightness (ffmpeg's `red` and `green` differ by 1 in BT.601 luma) are a change.
 *
 * skipFrames is the pipeline's hook (lib/pipeline/read.ts): the frames to encode, the report, and
 * an encoder that encodes a returning picture once (the frames that reuse an earlier kept frame's
 * embedding are not handed to the encoder; their grids are the earlier frame's at their own time;
 * the stats count only what was encoded).
 */
import type { FrameGrid } from '../assembly/types.js';
import type { EncodableFrame, EncodeOptions, EncodeStats } from '../inference/encode.js';
import type { VideoFrame } from '../video/types.js';
import type { ReduceSpec } from './option.js';


export interface KeptFrame<F extends VideoFrame = VideoFrame> {
  frame: F;
  /** The time of the last sampled frame this one stands for (its own t when it stands for itself). */
  until: number;
  /** Index (in the kept list) of an earlier kept frame showing the same picture: its embedding is reused. */
  same?: number;
}

/** How many earlier kept pictures a returning picture is compared with. */
export const BANK = 8;

/** A stateful gate: frames in time order, true for those that show something new. */
export class StillGate {
  #last: Float32Array | null = null;
  constructor(readonly still: number) {}

  /** Does `f` differ from the last kept frame? A kept frame becomes the reference. */
  changed(f: Pick<VideoFrame, 'width' | 'height' | 'rgb'>): boolean {
    if (f.rgb.length === 0) return true; // no pixels (a tick, a frame read back without them): cannot judge
    const cells = colourCells(f);
    if (this.#last && cellChange(cells, this.#last) < this.still) return false; // still 0: nothing is below it, every frame kept
    this.#last = cells;
    return true;
  }
}

/** The frames to encode, each with the span it stands for. The first frame is always kept. */
export function skipStill<F extends VideoFrame>(frames: readonly F[], still: number): KeptFrame<F>[] {
  const kept: KeptFrame<F>[] = [];
  const cells: Array<Float32Array | null> = [];
  for (const f of frames) {
    const c = f.rgb.length > 0 ? colourCells(f) : null;
    const last = cells[cells.length - 1];
    if (kept.length > 0 && c && last && cellChange(c, last) < still) { kept[kept.length - 1]!.until = f.t; continue; }
    const k: KeptFrame<F> = { frame: f, until: f.t };
    if (c) {
      // a picture seen before (not the last one): kept at its time, its embedding reused
      for (let i = cells.length - 2; i >= Math.max(0, cells.length - 1 - BANK); i--) {
        const o = cells[i];
        if (o && cellChange(c, o) < still) { k.same = kept[i]!.same ?? i; break; }
      }
    }
    kept.push(k);
    cells.push(c);
  }
  return kept;
}

/** What reduction did to one read, for the caller's report. */
export interface ReduceReport {
  /** Frames sampled (decoded) and kept (encoded). */
  sampled: number;
  kept: number;
  /** For each kept frame, the time of the last sampled frame it stands for. */
  until: number[];
  /** For each kept frame, the earlier kept frame whose picture (and embedding) it repeats, if any. */
  same: Array<number | undefined>;
  /** Frame times came from the codec's packets (codecPlan) rather than the strategy's rule. */
  codecPlan: boolean;
}

/** The frames to encode, the report and the encoder for them (one that reuses a returning picture's embedding); the frames and encoder unchanged when off. */
export function skipFrames<F extends VideoFrame, E extends GridEncoder>(frames: F[], spec: ReduceSpec | null | undefined, codec: boolean, encoder: E): { frames: F[]; report?: ReduceReport; encoder: E | GridEncoder } {
  if (!spec) return { frames, encoder };
  const kept = skipStill(frames, spec.still);
  const same = kept.map((k) => k.same);
  return { frames: kept.map((k) => k.frame), report: { sampled: frames.length, kept: kept.length, until: kept.map((k) => k.until), same, codecPlan: codec }, encoder: reusingEncoder(encoder, same) };
}

export interface GridEncoder {
  encodeWithStats(frames: readonly EncodableFrame[], opts: EncodeOptions): Promise<{ grids: FrameGrid[]; stats: EncodeStats }>;
}

/** `same[i]`: the index of the frame whose picture frame i repeats (undefined: its own). */
export function reusingEncoder(inner: GridEncoder, same: ReadonlyArray<number | undefined>): GridEncoder {
  return {
    async encodeWithStats(frames, opts) {
      // frame pairs (the Qwen-VL family's own time) are encoded as pairs: a repeated picture is still one of its pair
      if (opts.pairs || !same.some((s) => s !== undefined) || same.length !== frames.length) return inner.encodeWithStats(frames, opts);
      const own = frames.flatMap((f, i) => (same[i] === undefined ? [{ f, i }] : []));
      const r = await inner.encodeWithStats(own.map((x) => x.f), opts);
      const byIndex = new Map(own.map((x, k) => [x.i, r.grids[k]!]));
      const grids = frames.map((f, i) => ({ ...byIndex.get(same[i] ?? i)!, t: f.t }));
      return { grids, stats: r.stats };
    },
  };
}

export const CELLS = 8;

/** The frame's cell means (0–255): CELLS × CELLS cells, row-major, 3 channels each. */
export function colourCells(f: Pick<VideoFrame, 'width' | 'height' | 'rgb'>): Float32Array {
  const { width: w, height: h, rgb } = f;
  const sum = new Float64Array(CELLS * CELLS * 3);
  const cnt = new Uint32Array(CELLS * CELLS);
  // every second pixel of every second row: enough for a cell mean, a quarter of the reads
  for (let y = 0; y < h; y += 2) {
    const cy = Math.min(CELLS - 1, Math.floor((y * CELLS) / h));
    let p = y * w * 3;
    for (let x = 0; x < w; x += 2, p += 6) {
      const c = cy * CELLS + Math.min(CELLS - 1, Math.floor((x * CELLS) / w));
      sum[3 * c] = sum[3 * c]! + rgb[p]!;
      sum[3 * c + 1] = sum[3 * c + 1]! + rgb[p + 1]!;
      sum[3 * c + 2] = sum[3 * c + 2]! + rgb[p + 2]!;
      cnt[c] = cnt[c]! + 1;
    }
  }
  const out = new Float32Array(CELLS * CELLS * 3);
  for (let i = 0; i < out.length; i++) { const n = cnt[Math.floor(i / 3)]!; out[i] = n ? sum[i]! / n : 0; }
  return out;
}

/** The change between two frames' cells: the largest absolute difference of a cell's channel mean. */
export function cellChange(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
