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

/** A spatial grid of tokens inside an embedding block (row-major, `nx` wide); a 1×1 grid is one token without layout. */
export interface GridBlock {
  nx: number;
  ny: number;
}

/**
 * `count` embeddings of the model's width, back to back. Strategies may hand out views of their
 * input grids (no copy).
 * - `grids`: the block's tokens as grids in order (nx · ny each, summing to `count`), set by the
 *   pooling methods: what M-RoPE positions are computed from (lib/assembly/mrope.ts).
 * - `positions`, `span`: M-RoPE positions of the block (4 sections of `count`: t, h, w, extra),
 *   relative to where it starts, and the positions it advances; computed from `grids` for an
 *   M-RoPE model when the plan reaches the context.
 */
export interface EmbeddingItem {
  embeddings: Float32Array;
  count: number;
  grids?: readonly GridBlock[];
  positions?: Int32Array;
  span?: number;
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
