/**
 * How the Qwen-VL processors lay out a video (and an image) for the model: the text around and between
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
import { VidlmError } from '../errors.js';
import { formatFixed } from '../time/round.js';
import type { MropeGrid, MropeItem } from './positions.js';

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

/**
 * The family whose time rule applies to a pair, from its mmproj's projector type (the LLM architecture of a
 * Qwen2.5-VL is `qwen2vl` like Qwen2-VL's, so the projector decides). null for other projectors, including
 * Qwen2.5-Omni (`qwen2.5o`), whose thinker interleaves audio and uses 25 positions per second.
 */
export function qwenFamilyOf(projectorType: string | null): QwenFamily | null {
  switch (projectorType) {
    case 'qwen2vl_merger': return 'qwen2vl';
    case 'qwen2.5vl_merger': return 'qwen25vl';
    case 'qwen3vl_merger': return 'qwen3vl';
    default: return null;
  }
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
