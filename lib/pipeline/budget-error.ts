/**
 * The budget check's one error: ERR_CONTEXT_FULL saying what a question's media need (frames,
 * audio, subtitle cues) against what the context leaves for them. Every surface raises it
 * through here (ask's plan and media budget, the server, watch), so it reads the same everywhere.
 */
import { VidlmError } from '../errors.js';

export interface MediaBudget {
  frames: number;
  /** Image chunks libmtmd makes of them (frame pairs merged where they can be). */
  imageChunks: number;
  frameTokens: number;
  audioSeconds: number;
  audioChunks: number;
  /** null: the encoder family's count is not known here (libmtmd's count at prefill still stops an overflow). */
  audioTokens: number | null;
  cues: number;
  /** Tokens of the cue lines (and the text around them) in the prompt. */
  cueTokens: number;
  /** frameTokens + audioTokens + cueTokens. */
  total: number;
}

/** A budget with nothing in it, to spread the parts a check knows over. */
export const NO_MEDIA: MediaBudget = { frames: 0, imageChunks: 0, frameTokens: 0, audioSeconds: 0, audioChunks: 0, audioTokens: 0, cues: 0, cueTokens: 0, total: 0 };

/**
 * ERR_CONTEXT_FULL saying what the plan asked for, or null when it fits in `budget` tokens.
 * `audioHint` (lib/audio/suggest.ts audioFitHint): the largest audio settings that fit, with their
 * numbers; it replaces the generic audio hints.
 */
export function mediaBudgetError(b: MediaBudget, budget: number, contextSize: number, strategy: string, audioHint = ''): VidlmError | null {
  if (b.total <= budget) return null;
  const parts = [`${b.frames} frame(s) (${b.frameTokens} tokens${b.imageChunks !== b.frames ? ` in ${b.imageChunks} image chunk(s)` : ''})`];
  if (b.audioChunks > 0) parts.push(`${b.audioSeconds.toFixed(1)} s of audio in ${b.audioChunks} chunk(s) (${b.audioTokens ?? 'uncounted'} tokens)`);
  if (b.cues > 0) parts.push(`${b.cues} subtitle cue(s) (${b.cueTokens} tokens)`);
  const hints = [...(b.frames > 0 ? ['fewer frames', ...(strategy === 'concat' ? ['a pooling strategy'] : [])] : []),
    'a segment', ...(b.audioChunks > 0 && !audioHint ? ['a longer audioWindow', "audio: 'prefix'"] : []), 'a larger contextSize'];
  return new VidlmError('ERR_CONTEXT_FULL',
    `${parts.join(' + ')} need ${b.total} tokens; the context holds ${contextSize} and keeps ${contextSize - budget} for the text, leaving ${budget} for media: ${audioHint}use ${hints.slice(0, -1).join(', ')} or ${hints[hints.length - 1]}`,
    { ...b, strategy, visualTokens: b.frameTokens, needed: b.total, budget, contextSize });
}

