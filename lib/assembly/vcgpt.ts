/**
 * Video-ChatGPT (`video_chatgpt/inference.py:get_spatio_temporal_features_torch`):
 * [temporal: mean over space per frame, zero-padded to 100 rows ; spatial: mean over time at
 * each of the nx·ny positions] → 100 + 256 = 356 for 16×16.
 */
import { spatialMean, temporalMean } from './ops/mean.js';
import { buildPlan, type PlanOptions, type Segment } from './plan.js';
import type { Strategy } from './strategy.js';
import type { FrameGrid, GridShape, SequencePlan } from './types.js';
import { checkGrids, checkInt, checkShape, checkVector } from './validate.js';

export interface VcgptOptions {
  /** Temporal rows are padded up to this many (Video-ChatGPT: 100); 0 disables padding. */
  padTo?: number;
  /**
   * The padding row. Video-ChatGPT pads with zeros BEFORE its linear projector, which turns them
   * into the projector's bias; pass that vector if you have it. Default: zeros.
   */
  padVector?: Float32Array;
}

export const vcgptDefaults = { frames: 100, padTo: 100 } as const;

function padOf(opts: VcgptOptions): number {
  return checkInt('vcgpt', 'padTo', opts.padTo ?? vcgptDefaults.padTo, 0);
}

/** max(T, padTo) + nx · ny. */
export function countVcgpt(shape: GridShape, opts: VcgptOptions = {}): number {
  checkShape('vcgpt', shape);
  return Math.max(shape.frames, padOf(opts)) + shape.nx * shape.ny;
}

export function assembleVcgpt(grids: readonly FrameGrid[], opts: VcgptOptions & PlanOptions = {}): SequencePlan {
  const frames = checkGrids('vcgpt', grids);
  const { nx, ny, dim } = frames[0]!;
  const padVector = opts.padVector === undefined ? null : checkVector('vcgpt', 'padVector', opts.padVector, dim);
  const T = frames.length;
  const rows = Math.max(T, padOf(opts));
  const n = nx * ny;
  const out = new Float32Array((rows + n) * dim);
  const segments: Segment[] = frames.map((g, i) => {
    spatialMean(g.data, n, dim, out, i);
    return { embeddings: out.subarray(i * dim, (i + 1) * dim), count: 1, t: g.t };
  });
  if (padVector) for (let r = T; r < rows; r++) out.set(padVector, r * dim);
  if (rows > T) segments.push({ embeddings: out.subarray(T * dim, rows * dim), count: rows - T });
  temporalMean(frames.map((g) => g.data), n, dim, out, rows);
  segments.push({ embeddings: out.subarray(rows * dim), count: n, grids: [{ nx, ny }] });
  return buildPlan(segments, dim, opts);
}

export const vcgpt: Strategy<VcgptOptions> = {
  name: 'vcgpt',
  source: 'Video-ChatGPT (mbzuai-oryx/Video-ChatGPT)',
  defaults: vcgptDefaults,
  assemble: assembleVcgpt,
  countTokens: countVcgpt,
};
