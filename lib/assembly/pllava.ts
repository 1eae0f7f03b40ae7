/**
 * PLLaVA (`models/pllava/modeling_pllava.py`): AdaptiveAvgPool3d((T, 12, 12)) on 16×24×24
 * projected tokens, i.e. adaptive average pooling over space only, frame-major then row-major.
 * On other grids the target is ⌊nx/2⌋ × ⌊ny/2⌋ (PLLaVA's 24 → 12), unless given.
 */
import { adaptiveAvgPool2d } from './ops/adaptive.js';
import { buildPlan, type PlanOptions, type Segment } from './plan.js';
import type { Strategy } from './strategy.js';
import type { FrameGrid, GridShape, SequencePlan } from './types.js';
import { checkGrids, checkInt, checkShape, invalid } from './validate.js';

export interface PllavaOptions {
  /** Output grid per frame; default ⌊nx/downscale⌋ × ⌊ny/downscale⌋ (at least 1). */
  target?: { nx: number; ny: number };
  /** Divisor for the default target; PLLaVA: 2 (24×24 → 12×12). */
  downscale?: number;
}

export const pllavaDefaults = { frames: 16, grid: { nx: 24, ny: 24 }, target: { nx: 12, ny: 12 }, downscale: 2 } as const;

export function pllavaTarget(shape: { nx: number; ny: number }, opts: PllavaOptions = {}): { nx: number; ny: number } {
  if (opts.target !== undefined) {
    if (opts.target === null || typeof opts.target !== 'object') throw invalid('pllava', 'target must be { nx, ny }');
    return { nx: checkInt('pllava', 'target.nx', opts.target.nx, 1), ny: checkInt('pllava', 'target.ny', opts.target.ny, 1) };
  }
  const k = checkInt('pllava', 'downscale', opts.downscale ?? pllavaDefaults.downscale, 1);
  return { nx: Math.max(1, Math.floor(shape.nx / k)), ny: Math.max(1, Math.floor(shape.ny / k)) };
}

/** T · target.nx · target.ny. */
export function countPllava(shape: GridShape, opts: PllavaOptions = {}): number {
  checkShape('pllava', shape);
  const t = pllavaTarget(shape, opts);
  return shape.frames * t.nx * t.ny;
}

export function assemblePllava(grids: readonly FrameGrid[], opts: PllavaOptions & PlanOptions = {}): SequencePlan {
  const frames = checkGrids('pllava', grids);
  const { nx, ny, dim } = frames[0]!;
  const target = pllavaTarget({ nx, ny }, opts);
  const per = target.nx * target.ny;
  const out = new Float32Array(frames.length * per * dim);
  const segments: Segment[] = frames.map((g, i) => {
    adaptiveAvgPool2d(g.data, nx, ny, dim, target.nx, target.ny, out, i * per);
    return { embeddings: out.subarray(i * per * dim, (i + 1) * per * dim), count: per, grids: [target], t: g.t };
  });
  return buildPlan(segments, dim, opts);
}

export const pllava: Strategy<PllavaOptions> = {
  name: 'pllava',
  source: 'PLLaVA (magic-research/PLLaVA), pooling_shape 16-12-12',
  defaults: pllavaDefaults,
  assemble: assemblePllava,
  countTokens: countPllava,
};
