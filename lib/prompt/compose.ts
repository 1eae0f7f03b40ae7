/**
 * The user turn around a video plan, in the placement each method was trained with, with
 * LLaVA-Video's time instruction. The chat template of the model wraps the result; that belongs
 * to the inference layer.
 */
import type { PlanItem, TextItem } from '../assembly/types.js';
import { VidlmError } from '../errors.js';
import { formatFixed } from '../time/round.js';

export interface UserTurnOptions {
  /** LLaVA-Video: state duration and frame times between the video and the question. */
  preamble?: { duration: number; times: readonly number[] } | null;
  /** Video-ChatGPT puts the question first: `question\n<video>`; the others `<video>\nquestion`. */
  questionFirst?: boolean;
}

export function composeUserTurn<I extends object = PlanItem>(video: readonly I[], question: string, opts: UserTurnOptions = {}): Array<I | TextItem> {
  if (typeof question !== 'string') throw new VidlmError('ERR_INVALID_ARG', 'question must be a string');
  const pre = opts.preamble ? `${videoTimeInstruction(opts.preamble.duration, opts.preamble.times)}\n` : '';
  if (opts.questionFirst) return [{ text: `${pre}${question}\n` }, ...video];
  // LLaVA-Video training layout: "<image>\n{time_instruction}\n{question}".
  return [...video, { text: `\n${pre}${question}` }];
}

/**
 * LLaVA-Video's time instruction (LLaVA-VL/LLaVA-NeXT `llava/train/train.py`), verbatim,
 * including the missing space after "located at …." that the model was trained with.
 */
export function videoTimeInstruction(duration: number, times: readonly number[]): string {
  if (!(Number.isFinite(duration) && duration > 0)) throw new VidlmError('ERR_INVALID_ARG', `duration must be a positive number of seconds, got ${String(duration)}`);
  if (!Array.isArray(times) || times.length === 0 || !times.every((t) => Number.isFinite(t))) {
    throw new VidlmError('ERR_INVALID_ARG', 'times must be a non-empty array of frame timestamps in seconds');
  }
  const frameTime = times.map((t) => `${formatFixed(t, 2)}s`).join(',');
  return `The video lasts for ${formatFixed(duration, 2)} seconds, and ${times.length} frames are uniformly sampled from it. These frames are located at ${frameTime}.Please answer the following questions related to this video.`;
}
