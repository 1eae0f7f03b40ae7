/**
 * LLaVA-Video's time instruction (LLaVA-VL/LLaVA-NeXT `llava/train/train.py`), verbatim,
 * including the missing space after "located at …." that the model was trained with.
 */
import { VidlmError } from '../errors.js';
import { formatFixed } from '../time/round.js';

export function videoTimeInstruction(duration: number, times: readonly number[]): string {
  if (!(Number.isFinite(duration) && duration > 0)) throw new VidlmError('ERR_INVALID_ARG', `duration must be a positive number of seconds, got ${String(duration)}`);
  if (!Array.isArray(times) || times.length === 0 || !times.every((t) => Number.isFinite(t))) {
    throw new VidlmError('ERR_INVALID_ARG', 'times must be a non-empty array of frame timestamps in seconds');
  }
  const frameTime = times.map((t) => `${formatFixed(t, 2)}s`).join(',');
  return `The video lasts for ${formatFixed(duration, 2)} seconds, and ${times.length} frames are uniformly sampled from it. These frames are located at ${frameTime}.Please answer the following questions related to this video.`;
}
