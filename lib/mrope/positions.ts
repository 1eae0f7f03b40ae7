/**
 * M-RoPE positions (Qwen2-VL family) for a layout of text runs and vision grids, in the form
 * llama.cpp's batch takes them when n_pos_per_embd = 4: for n tokens, 4·n values
 * [t₀…tₙ₋₁, h₀…hₙ₋₁, w₀…wₙ₋₁, e₀…eₙ₋₁] (section-major, as `decode_embd_batch` fills `llama_batch.pos`).
 *
 * - A text token at position p gets p in every section (llama-batch broadcasts a token batch's one
 *   position the same way; Hugging Face's `get_rope_index` gives text the same value in t, h, w).
 * - A grid starting at position s: the token of temporal step k, row r, column c gets
 *   (s + t[k], s + r, s + c, 0) — token order t-major, then rows, then columns, which is how the
 *   merger emits them and how `get_rope_index` lays out `t_index`, `h_index`, `w_index`. The fourth
 *   section is 0, as libmtmd's `mtmd_image_tokens_get_decoder_pos` writes it (`pos.z`).
 * - The next free position after a grid is 1 + the largest value it used (`llm_pos_ids_list[-1].max() + 1`);
 *   for a one-step grid with t = [0] that is s + max(h, w): libmtmd's `mtmd_image_tokens_get_n_pos`.
 *
 * Evaluating: an embedding batch takes all 4·n values of its tokens (section s of token i at s·n + i of
 * that batch, as `decode_embd_batch` fills it); a token batch takes one position per token (llama-batch
 * copies it to every section), i.e. the first section of the text run's span.
 *
 * Pure: no I/O, no native code.
 */
import { VidlmError } from '../errors.js';

/** A run of n text tokens at consecutive positions. */
export interface MropeText { kind: 'text'; n: number }

/**
 * A vision grid in merged units (tokens per row = w, rows = h): one temporal step per entry of `t`,
 * each `t[k]` the temporal offset (from the grid's start) of step k. Plain libmtmd image or frame pair:
 * `t: [0]`. Qwen2-VL video: `t: [0, 1, 2, …]`; Qwen2.5-VL: the processor's time-scaled indices.
 */
export interface MropeGrid { kind: 'grid'; t: readonly number[]; h: number; w: number }

export type MropeItem = MropeText | MropeGrid;

export interface MropeSpan {
  /** Index of the item's first token among all tokens of the layout. */
  token: number;
  /** Number of tokens of the item. */
  n: number;
  /** The item's start position (s above). */
  pos: number;
}

export interface MropeLayout {
  /** 4·nTokens positions, section-major: [t…, h…, w…, extra…]. */
  positions: Int32Array;
  nTokens: number;
  /** Where each item starts, in tokens and in positions (one entry per item). */
  spans: MropeSpan[];
  /** The first free position after the layout (where following text starts). */
  next: number;
}

/** Number of tokens an item contributes. */
export function mropeItemTokens(item: MropeItem): number {
  return item.kind === 'text' ? item.n : item.t.length * item.h * item.w;
}

/** The next free position after `item` placed at `start`. */
export function mropeItemNext(item: MropeItem, start: number): number {
  if (item.kind === 'text') return start + item.n;
  return start + Math.max(...item.t, item.h - 1, item.w - 1) + 1;
}

function check(item: MropeItem, i: number): void {
  const nat = (x: unknown): boolean => Number.isInteger(x) && (x as number) >= 0;
  const bad = (why: string): never => {
    throw new VidlmError('ERR_INVALID_ARG', `M-RoPE layout item ${i}: ${why}`, { item: i });
  };
  if (item.kind === 'text') {
    if (!nat(item.n)) bad(`text run length must be an integer ≥ 0 (got ${String(item.n)})`);
    return;
  }
  if (item.kind !== 'grid') bad(`unknown kind ${JSON.stringify((item as { kind: unknown }).kind)}`);
  if (!(nat(item.h) && item.h > 0 && nat(item.w) && item.w > 0)) bad(`grid h and w must be integers ≥ 1 (got ${String(item.h)}×${String(item.w)})`);
  if (item.t.length === 0) bad('grid needs at least one temporal step');
  for (let k = 0; k < item.t.length; k++) {
    if (!nat(item.t[k])) bad(`temporal index ${k} must be an integer ≥ 0 (got ${String(item.t[k])})`);
    if (k > 0 && item.t[k]! < item.t[k - 1]!) bad('temporal indices must not decrease');
  }
}

/**
 * Writes the positions of `item` placed at `start` into `out` (a 4·nTotal section-major array)
 * from token index `at`; returns the next free position.
 */
function place(item: MropeItem, start: number, out: Int32Array, nTotal: number, at: number): number {
  if (item.kind === 'text') {
    for (let i = 0; i < item.n; i++) for (let s = 0; s < 4; s++) out[s * nTotal + at + i] = start + i;
    return start + item.n;
  }
  let i = at;
  for (const tk of item.t) {
    for (let r = 0; r < item.h; r++) {
      for (let c = 0; c < item.w; c++, i++) {
        out[i] = start + tk;
        out[nTotal + i] = start + r;
        out[2 * nTotal + i] = start + c;
        out[3 * nTotal + i] = 0;
      }
    }
  }
  return mropeItemNext(item, start);
}

/**
 * Positions for `items` laid out one after another from position `start` (the KV cache's next free
 * position; 0 for a fresh sequence). Throws ERR_INVALID_ARG on a malformed item.
 */
export function mropePositions(items: readonly MropeItem[], start = 0): MropeLayout {
  if (!Number.isInteger(start) || start < 0) throw new VidlmError('ERR_INVALID_ARG', `M-RoPE start position must be an integer ≥ 0 (got ${start})`);
  items.forEach(check);
  const nTokens = items.reduce((a, it) => a + mropeItemTokens(it), 0);
  const positions = new Int32Array(4 * nTokens);
  const spans: MropeSpan[] = [];
  let pos = start;
  let token = 0;
  for (const item of items) {
    const n = mropeItemTokens(item);
    spans.push({ token, n, pos });
    pos = place(item, pos, positions, nTokens, token);
    token += n;
  }
  return { positions, nTokens, spans, next: pos };
}

/** The positions of one token of a layout as [t, h, w, extra] (for tests and debugging). */
export function mropeTokenPosition(layout: MropeLayout, i: number): [number, number, number, number] {
  const n = layout.nTokens;
  const p = layout.positions;
  return [p[i]!, p[n + i]!, p[2 * n + i]!, p[3 * n + i]!];
}
