/** The budget check of the `audio` option, before anything is decoded. */
import { VidlmError } from '../errors.js';
import type { VideoProbe } from '../video/types.js';
import { audioPlanTokens } from './budget.js';
import type { CheckedAudio } from './media.js';
import { mediaOrder } from './plan.js';
import { audioFitHint } from './suggest.js';

/** The seconds of sound a question reads: the segment, else the whole track. */
export function audioSpan(probe: VideoProbe, segment?: [number, number]): [number, number] {
  const end = Math.max(probe.duration, probe.audio ? probe.audio.startTime + probe.audio.duration : 0);
  return [segment?.[0] ?? 0, Math.min(segment?.[1] ?? Infinity, end)];
}

/**
 * ERR_CONTEXT_FULL saying how much audio and how many frames were asked for and the largest
 * setting that fits, or null when it fits (or the encoder's count is unknown).
 */
export function audioBudgetError(a: CheckedAudio, probe: VideoProbe, _info: unknown, frames: number, budget: number, segment?: [number, number]): VidlmError | null {
  // (_info: the callers' model facts; the cost now travels in `a`)
  if (!probe.audio) return null;
  const span = audioSpan(probe, segment);
  const steps = mediaOrder([], span, a.mode, a.window);
  const tokens = audioPlanTokens(a, steps);
  if (tokens === null || tokens <= budget) return null;
  const seconds = span[1] - span[0];
  return new VidlmError('ERR_CONTEXT_FULL',
    `${seconds.toFixed(1)} s of audio in ${steps.length} chunk(s) (${a.mode}${a.mode === 'interleave' ? `, ${a.window} s windows` : ''}, ${a.length} length) need ${tokens} audio tokens before the ${frames} frame(s); the context has ${budget} for media: ${audioFitHint(a, span, budget)}or use a larger contextSize`,
    { option: 'audio', audioSeconds: seconds, audioChunks: steps.length, audioTokens: tokens, audioLength: a.length, audioWindow: a.window, frames, budget });
}
