/**
 * A cheap change measure between decoded frames: each frame's R, G and B averaged into a
 * CELLS × CELLS grid of cells; two frames differ by the largest absolute difference of a cell's
 * channel mean (0–255). The most changed cell, not the whole picture: a person walking through a
 * corner of a static camera moves one cell a lot and the picture's mean hardly at all, while
 * compression noise moves every cell a little. The colour channels, not luma alone: a red and a
 * green of the same brightness (ffmpeg's `red` and `green` differ by 1 in BT.601 luma) are a change.
 */
import type { VideoFrame } from '../video/types.js';

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
