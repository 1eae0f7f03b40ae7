/**
 * Skip before encoding: a sampled frame whose picture repeats the last kept frame (its most
 * changed colour cell moved less than `still`, lib/reduce/change.ts) is not encoded. The kept frame
 * stands for the span up to the next kept frame: its time marker says when that picture was
 * taken, and `until` when it last held (the time of the last frame it stands for).
 * A picture that comes back (a static camera's empty room after someone walked through) is kept
 * at its new time, but is not encoded again: `same` names the earlier kept frame whose embedding
 * it reuses (among the last BANK kept pictures).
 */
import type { VideoFrame } from '../video/types.js';
import { cellChange, colourCells } from './change.js';

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
