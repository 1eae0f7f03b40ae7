// Test plumbing shared by the assembly tests: a seeded PRNG, nested arrays ↔ grids, and a
// tolerant comparison. The reference implementations stay in each test file, independent.
import type { Test } from 'tap';
import type { FrameGrid, PlanItem } from '../../lib/assembly/index.js';

/** mulberry32: deterministic floats in [0, 1). */
export function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** Every embedding float of a plan, in order. */
export function embeddingsOf(plan: PlanItem[]): number[] {
  return plan.flatMap((it) => ('embeddings' in it ? Array.from(it.embeddings) : []));
}

/** nested[frame][y][x][d] → grids, frame i at times[i] (default: i seconds). */
export function toGrids(nested: number[][][][], times?: number[]): FrameGrid[] {
  return nested.map((f, i) => ({ t: times ? times[i]! : i, ny: f.length, nx: f[0]!.length, dim: f[0]![0]!.length, data: Float32Array.from(f.flat(2)) }));
}

/** Reference: each frame's mean over all its positions (LITA's fast tokens, Video-ChatGPT's temporal rows), frame by frame. */
export function frameMeans(g: number[][][][]): number[] {
  const ny = g[0]!.length, nx = g[0]![0]!.length, dim = g[0]![0]![0]!.length;
  const out: number[] = [];
  for (const frame of g) {
    for (let d = 0; d < dim; d++) {
      let s = 0;
      for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) s += frame[y]![x]![d]!;
      out.push(s / (nx * ny));
    }
  }
  return out;
}

export function randomNested(rand: () => number, T: number, nx: number, ny: number, dim: number): number[][][][] {
  return Array.from({ length: T }, () => Array.from({ length: ny }, () => Array.from({ length: nx }, () => Array.from({ length: dim }, () => rand() * 2 - 1))));
}

export function close(t: Test, got: number[], want: number[], msg: string): void {
  t.equal(got.length, want.length, `${msg}: length`);
  let worst = 0;
  want.forEach((w, i) => { worst = Math.max(worst, Math.abs(w - got[i]!)); });
  t.ok(worst < 1e-5, `${msg}: max abs diff ${worst}`);
}
