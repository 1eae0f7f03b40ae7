/**
 * LITA's relative time tokens (NVlabs/LITA): `num_time_tokens` = 100 tokens spread evenly over
 * the video, so a token names a fraction of the duration, not a frame index.
 */
import { pyRound, roundHalfEven } from './round.js';

export const LITA_NUM_TIME_TOKENS = 100;

/** `<t0>…<t99>` as in the released code (`TIME_TOKEN_TEMPLATE`), or `<1>…<T>` as in the paper. */
export type LitaSpelling = 'released' | 'paper';

/**
 * Seconds → token index: `int(np.round(99 · (t / duration)))` (round half to even), clamped to
 * the vocabulary so a frame stamped past the probed duration still gets a real token.
 */
export function secondsToLitaIndex(t: number, duration: number, numTimeTokens = LITA_NUM_TIME_TOKENS): number {
  const maxOffset = numTimeTokens - 1;
  const idx = roundHalfEven(maxOffset * (t / duration));
  return Math.min(Math.max(idx, 0), maxOffset);
}

/**
 * Token index → seconds as LITA's RTL evaluation does: `round(idx · duration / 99, 2)`, then the
 * parser clamps to [0, duration].
 */
export function litaIndexToSeconds(idx: number, duration: number, numTimeTokens = LITA_NUM_TIME_TOKENS): number {
  const t = pyRound((idx * duration) / (numTimeTokens - 1), 2);
  return Math.min(Math.max(t, 0), duration);
}

/** The token text for index `idx` (0-based) in either spelling; the paper counts from 1. */
export function litaToken(idx: number, spelling: LitaSpelling = 'released'): string {
  return spelling === 'paper' ? `<${idx + 1}>` : `<t${idx}>`;
}

/** Every token of the vocabulary, e.g. to add them to a tokenizer or to check a model has them. */
export function litaVocabulary(numTimeTokens = LITA_NUM_TIME_TOKENS, spelling: LitaSpelling = 'released'): string[] {
  return Array.from({ length: numTimeTokens }, (_, i) => litaToken(i, spelling));
}
