/**
 * An encoder that encodes a returning picture once (skip.ts's `same`): the frames that reuse an
 * earlier kept frame's embedding are not handed to the encoder; their grids are the earlier
 * frame's at their own time. The stats count only what was encoded.
 */
import type { FrameGrid } from '../assembly/types.js';
import type { EncodableFrame, EncodeOptions, EncodeStats } from '../inference/encode.js';

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
