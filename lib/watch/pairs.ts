/**
 * A watch window on the Qwen-VL family's own time (timeTokens 'model'): the window's frames in
 * pairs (2k, 2k+1; a lone last frame alone), each pair encoded once with model.encode's `pairs` and
 * kept with its first frame, so a later window that pairs the same two frames (windows sliding by an
 * even number of frames) reuses it; a pair the window forms anew is encoded.
 */
import type { FrameGrid } from '../assembly/types.js';
import type { EncodableFrame, EncodeOptions, EncodeStats } from '../inference/encode.js';

/** A window's frame with the pair it started, if one was encoded: `with` is the second frame (the frame itself when alone). */
export interface PairEntry<F extends EncodableFrame> { frame: F; pair?: { with: F; grid: FrameGrid } }

interface PairEncoder { encodeWithStats(frames: readonly EncodableFrame[], opts: EncodeOptions): Promise<{ grids: FrameGrid[]; stats: EncodeStats }> }

/** The window's pair grids in order, and how many frames were encoded now (two a pair, one a lone frame). */
export async function windowPairs<F extends EncodableFrame>(model: PairEncoder, entries: readonly PairEntry<F>[], signal?: AbortSignal): Promise<{ grids: FrameGrid[]; encoded: number }> {
  const firsts: PairEntry<F>[] = [];
  for (let i = 0; i < entries.length; i += 2) firsts.push(entries[i]!);
  const partner = (k: number): F => entries[Math.min(2 * k + 1, entries.length - 1)]!.frame;
  let frames: F[] = [];
  const todo = firsts.flatMap((e, k) => (e.pair?.with === partner(k) ? [] : [k]));
  if (todo.length > 0) {
    // pairs of the todo list: (first, partner) each; a lone last frame goes alone (model.encode pairs its list in order)
    frames = todo.flatMap((k) => (partner(k) === firsts[k]!.frame ? [firsts[k]!.frame] : [firsts[k]!.frame, partner(k)]));
    const lone = todo.filter((k) => partner(k) === firsts[k]!.frame);
    // a lone frame can only be the window's last: it is the last of the todo list too, so the native pairing matches
    const { grids } = await model.encodeWithStats(frames, { pairs: true, cache: false, ...(signal ? { signal } : {}) });
    if (grids.length !== todo.length || (lone.length > 0 && lone[0] !== todo[todo.length - 1])) throw new Error('watch: pair encode out of step');
    todo.forEach((k, i) => { firsts[k]!.pair = { with: partner(k), grid: grids[i]! }; });
  }
  return { grids: firsts.map((e) => e.pair!.grid), encoded: frames.length };
}
