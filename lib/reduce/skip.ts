/**
 * Skip before encoding: a sampled frame whose picture repeats the last kept frame (its most
 * changed colour cell moved less than `still`, lib/reduce/change.ts) is not encoded. The kept frame
 * stands for the span up to the next kept frame: its time marker says when that picture was
 * taken, and `until` when it last held (the time of the last frame it stands for).
 */
import type { VideoFrame } from '../video/types.js';
import { cellChange, colourCells } from './change.js';

export interface KeptFrame<F extends VideoFrame = VideoFrame> {
  frame: F;
  /** The time of the last sampled frame this one stands for (its own t when it stands for itself). */
  until: number;
}

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
  const gate = new StillGate(still);
  const kept: KeptFrame<F>[] = [];
  for (const f of frames) {
    if (gate.changed(f) || kept.length === 0) kept.push({ frame: f, until: f.t });
    else kept[kept.length - 1]!.until = f.t;
  }
  return kept;
}
