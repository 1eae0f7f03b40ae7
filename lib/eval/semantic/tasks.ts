/**
 * The semantic eval's questions and their scoring. The clips and the wording are those the tiny
 * model was trained on (python/semantic/tasks.py: Q_START, Q_END, Q_WHEN, Q_COUNT; the colour
 * names of lib/fixtures/semantic/states.ts in its order).
 */
import { resolveTimeEncoding, timeMarker as markerOf } from '../../time/encode.js';
import { formatTime } from '../../time/format.js';
import { parseStartEnd } from '../../time/parse.js';
import { temporalIoU } from '../iou.js';

export const COLOUR_NAMES = ['red', 'green', 'blue', 'yellow', 'purple', 'cyan'] as const;

export const QUESTIONS = {
  start: 'What colour is the background at the start?',
  end: 'What colour is the background at the end?',
  when: 'When does the white square appear?',
  count: 'How many times does the screen flash?',
  /** `%s`: the time, written as the prompt's own time markers (questionFor). */
  at: 'What colour is the background at %s?',
} as const;

export type SemanticTask = keyof typeof QUESTIONS;

/**
 * Time styles of the eval: vidlm's `none`, `text` (`[12.5s]`) and `lita` (`<t40>`), and `qwen`:
 * Qwen3-VL's textual timestamp `<12.5 seconds>` before every frame (its processor's `f"<{t:.1f} seconds>"`;
 * one per frame, as this llama-family model has no temporal patch to pair frames), which vidlm renders
 * as `timeTokens: 'text'` with `timeFormat: QWEN_TIME_FORMAT`.
 */
export type SemanticTimeStyle = 'none' | 'text' | 'lita' | 'qwen';
export const QWEN_TIME_FORMAT = '<{t:1} seconds>';

/** vidlm's options for a time style. */
export function timeOptions(style: SemanticTimeStyle): { timeTokens: 'none' | 'text' | 'lita'; timeFormat?: string } {
  return style === 'qwen' ? { timeTokens: 'text', timeFormat: QWEN_TIME_FORMAT } : { timeTokens: style };
}

/** A time as the style's own marker (what the prompt puts before a frame at t): `<t40>`, `[12.5s]`, `<12.5 seconds>`. */
export function timeMarker(t: number, duration: number, style: SemanticTimeStyle): string {
  // vidlm's own marker for the style's options (time/encode.ts); `none` marks no frame: the default text form
  return markerOf(t, resolveTimeEncoding({ ...timeOptions(style), duration }))?.text ?? formatTime(t);
}

/** What the eval needs of a clip: python/semantic/tasks.py's spec. */
export interface SemanticClip {
  id: string;
  kind: 'scene' | 'flash';
  duration: number;
  segments: ReadonlyArray<readonly [number, number, number]>;
  object: readonly [number, number] | null;
  flashes: ReadonlyArray<readonly [number, number]>;
  /** Scene clips: the time of the 'at' question (the middle of a colour segment). */
  at?: number;
}

/** The tasks asked of a clip: colour at start and end and, with time markers, at second t and when; flash clips: how many. */
export function tasksFor(clip: SemanticClip, style: SemanticTimeStyle): SemanticTask[] {
  if (clip.kind === 'flash') return ['count'];
  return style === 'none' ? ['start', 'end'] : clip.at === undefined ? ['start', 'end', 'when'] : ['start', 'end', 'at', 'when'];
}

/** The question's text: 'at' names its time in the style's markers, as the training script writes it. */
export function questionFor(clip: SemanticClip, task: SemanticTask, style: SemanticTimeStyle): string {
  return task === 'at' ? QUESTIONS.at.replace('%s', timeMarker(clip.at!, clip.duration, style)) : QUESTIONS[task];
}

function colourAt(clip: SemanticClip, t: number): string {
  const seg = clip.segments.find(([s, e]) => s <= t && t < e) ?? clip.segments[clip.segments.length - 1]!;
  return COLOUR_NAMES[seg[2]]!;
}

export function truthOf(clip: SemanticClip, task: SemanticTask): string | readonly [number, number] {
  switch (task) {
    case 'start': return COLOUR_NAMES[clip.segments[0]![2]]!;
    case 'end': return COLOUR_NAMES[clip.segments[clip.segments.length - 1]![2]]!;
    case 'count': return String(clip.flashes.length);
    case 'at': return colourAt(clip, clip.at!);
    case 'when': return clip.object!;
  }
}

/**
 * 1 or 0 for colour (start, end, at) and count (the answer's first word, lower-cased, without punctuation);
 * temporal IoU for when, the answer read by vidlm's parseStartEnd (no two times: the whole clip,
 * as LITA scores it).
 */
export function scoreAnswer(clip: SemanticClip, task: SemanticTask, answer: string, style: SemanticTimeStyle): number {
  const truth = truthOf(clip, task);
  if (typeof truth !== 'string') {
    const span = parseStartEnd(answer, { duration: clip.duration, mode: style === 'lita' ? 'lita' : 'text' });
    return temporalIoU(span, truth);
  }
  const word = answer.trim().split(/\s+/)[0]?.toLowerCase().replace(/[^a-z0-9]/g, '') ?? '';
  return word === truth ? 1 : 0;
}
