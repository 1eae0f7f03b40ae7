/** The data values around token assembly (see DESIGN.md, "The pipeline"). */

/**
 * One frame's visual tokens: an `ny` × `nx` grid of `dim`-float vectors in the LLM's embedding
 * space, row-major (token (x, y) starts at `(y * nx + x) * dim`), taken at `t` seconds.
 */
export interface FrameGrid {
  t: number;
  nx: number;
  ny: number;
  dim: number;
  data: Float32Array;
}

/** The shape of a whole video's grids, enough to count tokens before any encoding. */
export interface GridShape {
  frames: number;
  nx: number;
  ny: number;
}

import type { TextItem } from '../time/encode.js';

export type { TextItem } from '../time/encode.js';

/**
 * `count` embeddings of the model's width, back to back. Strategies may hand out views of their
 * input grids (no copy). M-RoPE positions are libmtmd's (the native strategy), never a plan's.
 */
export interface EmbeddingItem {
  embeddings: Float32Array;
  count: number;
}

export type PlanItem = TextItem | EmbeddingItem;
export type SequencePlan = PlanItem[];

/** The pooling methods of the papers: pure functions of the grids (lib/assembly). */
export type PooledStrategyName = 'concat' | 'slowfast' | 'pllava' | 'bilinear' | 'vcgpt';
/** Every `strategy` a query takes: a pooled method, or `native` (the native path (libmtmd's own media handling), lib/pipeline/strategy.ts). */
export type StrategyName = PooledStrategyName | 'native';

export function isEmbeddingItem(item: PlanItem): item is EmbeddingItem {
  return (item as EmbeddingItem).embeddings !== undefined;
}
