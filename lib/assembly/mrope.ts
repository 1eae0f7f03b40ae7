/**
 * M-RoPE positions of a pooled embedding block (Qwen2-VL and kin: every token has a temporal,
 * height, width and an extra position). The rule is libmtmd's for an image
 * (`mtmd_image_tokens_get_decoder_pos`), applied to each grid of the block in order: a grid of
 * nx × ny starting at p gives token (x, y) the positions (t = p, h = p + y, w = p + x, extra 0)
 * and the next grid or text starts at p + max(nx, ny). A 1×1 grid (a frame's mean, a padding row,
 * a newline) is thus one position like a text token. Text keeps 1-D positions (t = h = w).
 * So every pooled frame is placed as libmtmd places an image, and its place in time is its place
 * in the sequence: frames in time order, time tokens between them as text.
 */
import { VidlmError } from '../errors.js';
import { mropePositions } from '../mrope/index.js';
import type { EmbeddingItem, GridBlock } from './types.js';

export interface BlockPositions {
  /** 4 sections of `count`: t, h, w, extra; relative to where the block starts. */
  positions: Int32Array;
  /** Positions the block advances: where the next item starts, relative to the block's start. */
  span: number;
}

/** Positions of `count` tokens laid out as `grids` (nx · ny each, summing to `count`): one-step grids of lib/mrope. */
export function gridPositions(grids: readonly GridBlock[], count: number): BlockPositions {
  const total = grids.reduce((n, g) => n + g.nx * g.ny, 0);
  if (total !== count) throw new VidlmError('ERR_INVALID_ARG', `the block's grids hold ${total} tokens, not its ${count}`);
  const { positions, next } = mropePositions(grids.map((g) => ({ kind: 'grid' as const, t: [0], h: g.ny, w: g.nx })));
  return { positions, span: next };
}

/** The block with its M-RoPE positions (from its grids; one token per row without them). */
export function withMropePositions(item: EmbeddingItem): EmbeddingItem {
  if (item.positions) return item;
  const grids = item.grids ?? Array.from({ length: item.count }, () => ({ nx: 1, ny: 1 }));
  return { ...item, ...gridPositions(grids, item.count) };
}
