/**
 * The watch's motion gate (reduce, lib/reduce): each frame is judged once, in time order, against
 * the last frame that showed something new (StillGate). A frame that repeats it is never encoded:
 * in every window it is the kept frame that stands for it, one block for a run of repeats at the
 * run's first time. A window whose new frames (those no earlier window judged) show nothing new
 * repeats the last answer without asking: the gate, visible in the window's `motion`.
 */
import { StillGate } from '../reduce/skip.js';
import type { ReduceSpec } from '../reduce/option.js';

/** A buffered frame with its judgement: `ref` is the entry whose picture stands for it (itself when new). */
export interface Judged<F extends { t: number; rgb: Uint8Array; width: number; height: number }> {
  frame: F;
  ref?: Judged<F>;
}

export class MotionGate {
  readonly #gate: StillGate;
  #last: Judged<never> | null = null;
  constructor(spec: ReduceSpec) { this.#gate = new StillGate(spec.still); }

  /** Judges the entries not judged yet (in time order); how many were judged and how many of them are new. */
  judge<F extends { t: number; rgb: Uint8Array; width: number; height: number }>(entries: readonly Judged<F>[]): { judged: number; changed: number } {
    let judged = 0, changed = 0;
    for (const e of entries) {
      if (e.ref) continue;
      judged++;
      // the gate's first frame is always new
      if (this.#gate.changed(e.frame) || !this.#last) { e.ref = e; changed++; this.#last = e as Judged<never>; } else e.ref = this.#last as unknown as Judged<F>;
    }
    return { judged, changed };
  }
}

/** The window's entries as runs of one picture: each run's picture (its ref) and the run's first entry (its time). */
export function runs<E extends { ref?: E }>(entries: readonly E[]): Array<{ ref: E; first: E }> {
  const out: Array<{ ref: E; first: E }> = [];
  for (const e of entries) {
    const ref = e.ref ?? e;
    if (out.length === 0 || out[out.length - 1]!.ref !== ref) out.push({ ref, first: e });
  }
  return out;
}
