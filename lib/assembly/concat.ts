/**
 * Video-LLaVA: every token of every frame, frames in time order, each frame its own `<image>`
 * joined by " " (`' '.join(['<image>'] * 8)`), so a separator text sits between frames.
 */
import { buildPlan, type PlanOptions, type Segment } from './plan.js';
import type { Strategy } from './strategy.js';
import type { FrameGrid, GridShape, SequencePlan } from './types.js';
import { checkGrids, checkShape, invalid } from './validate.js';

export interface ConcatOptions {
  /** Text between frames; Video-LLaVA: " ". */
  separator?: string;
}

export const concatDefaults = { frames: 8, separator: ' ' } as const;

function separatorOf(opts: ConcatOptions): string {
  const sep = opts.separator ?? concatDefaults.separator;
  if (typeof sep !== 'string') throw invalid('concat', 'separator must be a string');
  return sep;
}

/** T · nx · ny. */
export function countConcat(shape: GridShape, opts: ConcatOptions = {}): number {
  checkShape('concat', shape);
  separatorOf(opts);
  return shape.frames * shape.nx * shape.ny;
}

export function assembleConcat(grids: readonly FrameGrid[], opts: ConcatOptions & PlanOptions = {}): SequencePlan {
  const frames = checkGrids('concat', grids);
  const sep = separatorOf(opts);
  const segments: Segment[] = [];
  frames.forEach((g, i) => {
    if (i > 0) segments.push({ text: sep });
    segments.push({ embeddings: g.data, count: g.nx * g.ny, grids: [{ nx: g.nx, ny: g.ny }], t: g.t });
  });
  return buildPlan(segments, frames[0]!.dim, opts);
}

export const concat: Strategy<ConcatOptions> = {
  name: 'concat',
  source: 'Video-LLaVA (PKU-YuanGroup/Video-LLaVA)',
  defaults: concatDefaults,
  assemble: assembleConcat,
  countTokens: countConcat,
};
