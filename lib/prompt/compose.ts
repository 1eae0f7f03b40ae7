/**
 * The user turn around a video plan, in the placement each method was trained with. The chat
 * template of the model wraps the result; that belongs to the inference layer.
 */
import type { PlanItem, TextItem } from '../assembly/types.js';
import { VidlmError } from '../errors.js';
import { videoTimeInstruction } from './preamble.js';

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
