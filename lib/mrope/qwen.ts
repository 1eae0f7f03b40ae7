/**
 * M-RoPE (the Qwen-VL family's positions), pure: the positions of a layout of text runs and vision
 * grids in llama.cpp's batch form (first part), and how each Qwen-VL family's processor lays out a
 * video and an image (second part), with qwenVideoLayout joining the two for the evaluation of a
 * video from cached pair embeddings (lib/pipeline/assemble.ts). One module: every layout of a
 * family is read together with its positions.
 */
import { VidlmError } from '../errors.js';
import { formatFixed } from '../time/round.js';

/**
 * Positions. M-RoPE positions (Qwen2-VL family) for a layout of text runs and vision grids, in the form
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

/**
 * Layouts. How the Qwen-VL processors lay out a video (and an image) for the model: the text around and between
 * the vision grids and each grid's temporal indices, per family, as Hugging Face transformers' own
 * processors and `get_rope_index` do it (checked against their output: test/goldens/qwen-rope.json,
 * made by python/goldens/qwen_rope.py from the verbatim source).
 *
 * - Qwen2-VL: `<|vision_start|>` + one grid of T = ⌈frames/2⌉ temporal steps at t = 0, 1, …, T-1 + `<|vision_end|>`.
 *   Time is not in the positions (uneven sampling is invisible to the model).
 * - Qwen2.5-VL: the same text; step k (frames 2k, 2k+1) at t = ⌊(time(2k) − time(0)) · tokens_per_second⌋
 *   (transformers: k · second_per_grid_t · tokens_per_second with second_per_grid_t = 2 / fps; real frame
 *   times generalise it to uneven sampling). tokens_per_second is 2 for every released Qwen2.5-VL.
 * - Qwen3-VL: per frame pair k, the text `<{ts:.1f} seconds><|vision_start|>`, a one-step grid (t = 0),
 *   `<|vision_end|>`; ts = the mean of the pair's first and last frame time (an odd last frame is paired
 *   with itself), formatted like Python's `format(ts, '.1f')` (ties to even on the binary value).
 *
 * Frames are grouped in pairs (temporal_patch_size 2) in every family; an odd count repeats the last frame.
 * Grids are in merged units (tokens per row w, rows h), as libmtmd reports an image chunk's nx, ny; a
 * multi-step grid's tokens are the frame pairs' embeddings one pair after another (t-major), so libmtmd's
 * per-pair chunks, encoded in order, fill it.
 * Pure: no I/O, no tokenizer (the caller counts text tokens; see qwenItems).
 */
export type QwenFamily = 'qwen2vl' | 'qwen25vl' | 'qwen3vl';

export const QWEN_VISION_START = '<|vision_start|>';
export const QWEN_VISION_END = '<|vision_end|>';
/** Qwen2.5-VL's vision_config.tokens_per_second (every released size). */
export const QWEN25_TOKENS_PER_SECOND = 2;
/** Frames merged into one temporal step by the Qwen-VL towers (and libmtmd's frame pairs). */
export const QWEN_TEMPORAL_PATCH = 2;

/** Text between or around grids, or a grid. */
export type QwenPart = { kind: 'text'; text: string } | MropeGrid;

export interface QwenVideo {
  /** Presentation time in seconds of each sampled frame, in order (absolute, as in the source video). */
  times: readonly number[];
  /** Rows of one frame pair's grid after the merge. */
  h: number;
  /** Tokens per row after the merge. */
  w: number;
}

export interface QwenVideoOptions {
  /** Qwen2.5-VL only: temporal positions per second (default 2, the models' config). */
  tokensPerSecond?: number;
}

/** Qwen3-VL's timestamp text for a frame pair at `seconds`: `<12.3 seconds>`. */
export function qwen3Timestamp(seconds: number): string {
  return `<${formatFixed(seconds, 1)} seconds>`;
}

/** Start times of the frame pairs, and their mean times (Qwen3-VL), an odd last frame paired with itself. */
export function qwenFramePairs(times: readonly number[]): { first: number; mean: number }[] {
  const pairs: { first: number; mean: number }[] = [];
  for (let i = 0; i < times.length; i += QWEN_TEMPORAL_PATCH) {
    const a = times[i]!;
    const b = times[Math.min(i + QWEN_TEMPORAL_PATCH - 1, times.length - 1)]!;
    pairs.push({ first: a, mean: (a + b) / 2 });
  }
  return pairs;
}

/**
 * Temporal index of each frame pair for Qwen2.5-VL: ⌊(start of pair − start of first pair) · tokensPerSecond⌋.
 * The 1e-9 keeps a product that is an integer in exact arithmetic (0.1 s steps, 1/30 s frame times) from
 * truncating one below it; it cannot move a product that is not within 1e-9 of an integer.
 */
export function qwen25TemporalIndices(times: readonly number[], tokensPerSecond = QWEN25_TOKENS_PER_SECOND): number[] {
  const pairs = qwenFramePairs(times);
  const t0 = pairs[0]?.first ?? 0;
  return pairs.map((p) => Math.max(0, Math.floor((p.first - t0) * tokensPerSecond + 1e-9)));
}

function checkVideo(v: QwenVideo): void {
  const bad = (why: string): never => { throw new VidlmError('ERR_INVALID_ARG', `Qwen video layout: ${why}`); };
  if (v.times.length === 0) bad('at least one frame is needed');
  if (v.times.some((t) => !Number.isFinite(t) || t < 0)) bad('frame times must be finite seconds ≥ 0');
  for (let i = 1; i < v.times.length; i++) if (v.times[i]! < v.times[i - 1]!) bad('frame times must not decrease');
  if (!(Number.isInteger(v.h) && v.h > 0 && Number.isInteger(v.w) && v.w > 0)) bad(`grid must be integers ≥ 1 (got ${v.h}×${v.w})`);
}

/** One video as the family's processor lays it out (text parts and grids, in order). */
export function qwenVideoParts(family: QwenFamily, video: QwenVideo, opts: QwenVideoOptions = {}): QwenPart[] {
  checkVideo(video);
  const { h, w } = video;
  const steps = Math.ceil(video.times.length / QWEN_TEMPORAL_PATCH);
  switch (family) {
    case 'qwen2vl':
      return [{ kind: 'text', text: QWEN_VISION_START }, { kind: 'grid', t: Array.from({ length: steps }, (_, k) => k), h, w }, { kind: 'text', text: QWEN_VISION_END }];
    case 'qwen25vl': {
      const tps = opts.tokensPerSecond ?? QWEN25_TOKENS_PER_SECOND;
      if (!(tps > 0 && Number.isFinite(tps))) throw new VidlmError('ERR_INVALID_ARG', `tokensPerSecond must be > 0 (got ${tps})`);
      return [{ kind: 'text', text: QWEN_VISION_START }, { kind: 'grid', t: qwen25TemporalIndices(video.times, tps), h, w }, { kind: 'text', text: QWEN_VISION_END }];
    }
    case 'qwen3vl':
      return mergeText(qwenFramePairs(video.times).flatMap((p): QwenPart[] => [
        { kind: 'text', text: qwen3Timestamp(p.mean) + QWEN_VISION_START }, { kind: 'grid', t: [0], h, w }, { kind: 'text', text: QWEN_VISION_END },
      ]));
    default:
      throw new VidlmError('ERR_INVALID_ARG', `unknown Qwen family ${JSON.stringify(family)}`);
  }
}

/** One image (or one frame pair sent as an image, libmtmd's native layout): the same in every family. */
export function qwenImageParts(h: number, w: number): QwenPart[] {
  return [{ kind: 'text', text: QWEN_VISION_START }, { kind: 'grid', t: [0], h, w }, { kind: 'text', text: QWEN_VISION_END }];
}

/** Joins adjacent text parts (the timestamp after one pair's end and before the next pair's start). */
export function mergeText(parts: readonly QwenPart[]): QwenPart[] {
  const out: QwenPart[] = [];
  for (const p of parts) {
    const last = out[out.length - 1];
    if (p.kind === 'text' && last?.kind === 'text') out[out.length - 1] = { kind: 'text', text: last.text + p.text };
    else if (p.kind !== 'text' || p.text !== '') out.push(p);
  }
  return out;
}

/** Layout items for mropePositions, counting each text part's tokens with the model's tokenizer. */
export function qwenItems(parts: readonly QwenPart[], countTokens: (text: string) => number): MropeItem[] {
  return parts.map((p) => (p.kind === 'text' ? { kind: 'text', n: countTokens(p.text) } : p));
}

/** A grid of qwenVideoLayout: the grid, its M-RoPE positions as a block of its own (from 0), and the positions it spans. */
export type QwenLayoutGrid = MropeGrid & { positions: Int32Array; span: number };

/**
 * One video as the family lays it out, each grid with its own positions (mropePositions of the grid
 * alone): what vidlm evaluates from cached pair embeddings (lib/pipeline/assemble.ts modelTimeItems).
 */
export function qwenVideoLayout(family: QwenFamily, video: QwenVideo, opts: QwenVideoOptions = {}): Array<{ kind: 'text'; text: string } | QwenLayoutGrid> {
  return qwenVideoParts(family, video, opts).map((p) => {
    if (p.kind === 'text') return p;
    const { positions, next } = mropePositions([p]);
    return { ...p, positions, span: next };
  });
}
