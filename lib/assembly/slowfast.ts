/**
 * LITA's SlowFast tokens (`lita/model/lita_arch.py:videos_to_tokens`, `temporal_spatial_pool`):
 * [fast: one spatial mean per frame, all T frames ; slow: frames round(linspace(0, T-1, 4)),
 * each 2×2 avg_pool2d], slow frame-major then row-major. T=100, 16×16 → 100 + 4·64 = 356.
 */
import { roundHalfEven } from '../time/round.js';
import { avgPool2d } from './ops/avgpool.js';
import { spatialMean } from './ops/mean.js';
import { buildPlan, type PlanOptions, type Segment } from './plan.js';
import type { Strategy } from './strategy.js';
import type { FrameGrid, GridShape, SequencePlan } from './types.js';
import { checkGrids, checkInt, checkShape, invalid } from './validate.js';

export interface SlowFastOptions {
  /** Frames kept in full (pooled) detail; LITA: 4. */
  slowFrames?: number;
  /** avg_pool2d kernel and stride of the slow frames; LITA: 2. */
  pool?: number;
}

export const slowfastDefaults = { frames: 100, slowFrames: 4, pool: 2, numTimeTokens: 100 } as const;

/** `np.round(np.linspace(0, T-1, n)).astype(int)`, duplicates kept as numpy would. */
export function slowFrameIndices(frames: number, n: number): number[] {
  if (n === 1) return [0];
  const step = (frames - 1) / (n - 1);
  return Array.from({ length: n }, (_, i) => (i === n - 1 ? frames - 1 : roundHalfEven(i * step)));
}

function resolve(shape: { nx: number; ny: number }, opts: SlowFastOptions) {
  const slowFrames = checkInt('slowfast', 'slowFrames', opts.slowFrames ?? slowfastDefaults.slowFrames, 1);
  const pool = checkInt('slowfast', 'pool', opts.pool ?? slowfastDefaults.pool, 1);
  const px = Math.floor(shape.nx / pool), py = Math.floor(shape.ny / pool);
  if (px === 0 || py === 0) throw invalid('slowfast', `a ${shape.nx}x${shape.ny} grid is smaller than the ${pool}x${pool} pooling window`);
  return { slowFrames, pool, px, py };
}

/** T + slowFrames · ⌊nx/pool⌋ · ⌊ny/pool⌋. */
export function countSlowFast(shape: GridShape, opts: SlowFastOptions = {}): number {
  checkShape('slowfast', shape);
  const r = resolve(shape, opts);
  return shape.frames + r.slowFrames * r.px * r.py;
}

export function assembleSlowFast(grids: readonly FrameGrid[], opts: SlowFastOptions & PlanOptions = {}): SequencePlan {
  const frames = checkGrids('slowfast', grids);
  const { nx, ny, dim } = frames[0]!;
  const { slowFrames, pool, px, py } = resolve({ nx, ny }, opts);
  const T = frames.length;
  const perSlow = px * py;
  // One buffer for all tokens: per-frame segments are views, merged back without copies.
  const out = new Float32Array((T + slowFrames * perSlow) * dim);
  const segments: Segment[] = [];
  frames.forEach((g, i) => {
    spatialMean(g.data, nx * ny, dim, out, i);
    segments.push({ embeddings: out.subarray(i * dim, (i + 1) * dim), count: 1, t: g.t });
  });
  slowFrameIndices(T, slowFrames).forEach((f, k) => {
    const at = T + k * perSlow;
    avgPool2d(frames[f]!.data, nx, ny, dim, pool, out, at);
    segments.push({ embeddings: out.subarray(at * dim, (at + perSlow) * dim), count: perSlow, grids: [{ nx: px, ny: py }], t: frames[f]!.t });
  });
  return buildPlan(segments, dim, opts);
}

export const slowfast: Strategy<SlowFastOptions> = {
  name: 'slowfast',
  source: 'LITA (NVlabs/LITA), SlowFast tokens',
  defaults: slowfastDefaults,
  assemble: assembleSlowFast,
  countTokens: countSlowFast,
};
