/**
 * The `reduce` option: how many of a video's visual tokens to keep, checked before any work.
 *   'off' (default)   every sampled frame encoded, every token kept
 *   'auto'            skip still frames before the encoder, merge repeated tokens after it, and
 *                     sample where the codec sees change (the count is known only after)
 *   { tokens: N }     as 'auto', then merged down to at most N visual tokens (known before work)
 *   { ratio: r }      as { tokens }, with N = ceil(r × the unreduced count); 0 < r <= 1
 * The object forms also name the parts of 'auto' to use, for measuring each alone (each
 * default true): { skip: false } encodes every sampled frame, { merge: false } keeps every token,
 * { codecPlan: false } keeps the strategy's own frame times.
 * The server also takes vLLM's `video_pruning_rate` p (the share pruned): { ratio: 1 - p }.
 */
import { VidlmError } from '../errors.js';

export interface ReduceParts {
  tokens?: number;
  ratio?: number;
  skip?: boolean;
  merge?: boolean;
  codecPlan?: boolean;
}

export type ReduceOption = 'off' | 'auto' | ReduceParts;

/** A checked `reduce`: null when off. */
export interface ReduceSpec {
  /** Change (0–255) of the most changed cell and channel mean below which a frame repeats the last kept one (0: no skip). */
  still: number;
  /** Cosine similarity above which a token repeats the same token of the block before it (DyCoke's TTM; Infinity: no merge). */
  similar: number;
  /** Spend the frame budget where the codec sees change (lib/reduce/codec-plan.ts). */
  codecPlan: boolean;
  /** At most this many visual tokens (tokens), or this share of the unreduced count (ratio). */
  tokens?: number;
  ratio?: number;
}

/** Defaults of 'auto', measured on bench/reduce.ts's clips (docs/methods.md, "Token reduction"). */
export const REDUCE_AUTO: Readonly<ReduceSpec> = { still: 3, similar: 0.98, codecPlan: true };

function bad(option: string, v: unknown, why = ''): VidlmError {
  let shown: string;
  try { shown = JSON.stringify(v) ?? String(v); } catch { shown = String(v); }
  return new VidlmError('ERR_INVALID_ARG', `${option} must be 'off', 'auto' or an object { tokens: N } (an integer >= 1) | { ratio: r } (0 < r <= 1), with skip, merge, codecPlan booleans${why}; got ${shown}`, { option });
}

const KEYS = new Set(['tokens', 'ratio', 'skip', 'merge', 'codecPlan']);

export function checkReduce(v: unknown, option = 'reduce'): ReduceSpec | null {
  if (v === undefined || v === 'off') return null;
  if (v === 'auto') return { ...REDUCE_AUTO };
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw bad(option, v);
  const o = v as ReduceParts;
  for (const k of Object.keys(o)) if (!KEYS.has(k)) throw bad(option, v, ` (unknown key '${k}')`);
  if (o.tokens !== undefined && o.ratio !== undefined) throw bad(option, v, ' (tokens or ratio, not both)');
  if (o.tokens !== undefined && !(typeof o.tokens === 'number' && Number.isSafeInteger(o.tokens) && o.tokens >= 1)) throw bad(option, v);
  if (o.ratio !== undefined && !(typeof o.ratio === 'number' && o.ratio > 0 && o.ratio <= 1)) throw bad(option, v);
  for (const k of ['skip', 'merge', 'codecPlan'] as const) if (o[k] !== undefined && typeof o[k] !== 'boolean') throw bad(option, v, ` (${k} is a boolean)`);
  return {
    still: o.skip === false ? 0 : REDUCE_AUTO.still,
    similar: o.merge === false ? Infinity : REDUCE_AUTO.similar,
    codecPlan: o.codecPlan ?? REDUCE_AUTO.codecPlan,
    ...(o.tokens !== undefined ? { tokens: o.tokens } : {}),
    ...(o.ratio !== undefined ? { ratio: o.ratio } : {}),
  };
}

/** vLLM's `video_pruning_rate` (share of the video's tokens pruned, 0 <= p < 1) as a `reduce` value. */
export function fromPruningRate(p: unknown): ReduceOption | undefined {
  if (p === undefined || p === null) return undefined;
  if (typeof p !== 'number' || !(p >= 0 && p < 1)) {
    throw new VidlmError('ERR_INVALID_ARG', `video_pruning_rate must be a number with 0 <= p < 1, got ${JSON.stringify(p)}`, { option: 'video_pruning_rate' });
  }
  return p === 0 ? 'off' : { ratio: 1 - p };
}
