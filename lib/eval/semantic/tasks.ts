/**
 * The semantic eval's questions and their scoring. The clips and the wording are those the tiny
 * model was trained on (python/semantic/tasks.py: Q_START, Q_END, Q_WHEN, Q_COUNT; the colour
 * names of lib/fixtures/semantic/states.ts in its order).
 */
import { parseStartEnd } from '../../time/parse.js';
import type { TimeTokenMode } from '../../time/encode.js';
import { temporalIoU } from '../iou.js';

export const COLOUR_NAMES = ['red', 'green', 'blue', 'yellow', 'purple', 'cyan'] as const;

export const QUESTIONS = {
  start: 'What colour is the background at the start?',
  end: 'What colour is the background at the end?',
  when: 'When does the white square appear?',
  count: 'How many times does the screen flash?',
} as const;

export type SemanticTask = keyof typeof QUESTIONS;

/** What the eval needs of a clip: python/semantic/tasks.py's spec. */
export interface SemanticClip {
  id: string;
  kind: 'scene' | 'flash';
  duration: number;
  segments: ReadonlyArray<readonly [number, number, number]>;
  object: readonly [number, number] | null;
  flashes: ReadonlyArray<readonly [number, number]>;
}

/** The tasks asked of a clip: colour at start and end and, with time markers, when; flash clips: how many. */
export function tasksFor(clip: SemanticClip, timeTokens: TimeTokenMode): SemanticTask[] {
  if (clip.kind === 'flash') return ['count'];
  return timeTokens === 'none' ? ['start', 'end'] : ['start', 'end', 'when'];
}

export function truthOf(clip: SemanticClip, task: SemanticTask): string | readonly [number, number] {
  switch (task) {
    case 'start': return COLOUR_NAMES[clip.segments[0]![2]]!;
    case 'end': return COLOUR_NAMES[clip.segments[clip.segments.length - 1]![2]]!;
    case 'count': return String(clip.flashes.length);
    case 'when': return clip.object!;
  }
}

/**
 * 1 or 0 for colour and count (the answer's first word, lower-cased, without punctuation);
 * temporal IoU for when, the answer read by vidlm's parseStartEnd (no two times: the whole clip,
 * as LITA scores it).
 */
export function scoreAnswer(clip: SemanticClip, task: SemanticTask, answer: string, timeTokens: TimeTokenMode): number {
  const truth = truthOf(clip, task);
  if (typeof truth !== 'string') {
    const span = parseStartEnd(answer, { duration: clip.duration, mode: timeTokens === 'lita' ? 'lita' : 'text' });
    return temporalIoU(span, truth);
  }
  const word = answer.trim().split(/\s+/)[0]?.toLowerCase().replace(/[^a-z0-9]/g, '') ?? '';
  return word === truth ? 1 : 0;
}
