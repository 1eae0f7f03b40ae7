/**
 * Subtitle cues in a prompt, in two layouts:
 *  - the native path (native): each cue's line goes right after the marker of the last
 *    frame shown at or before it, so the words sit next to their picture in the evaluated sequence;
 *  - pooled strategies (whose tokens are no longer one block per frame): a timed transcript
 *    between the video and the question, every line stamped `[t s]` like the frames' time tokens.
 */
import type { SubtitleCue } from '../video/types.js';
import { cueLines, placeCues, renderCue } from './cues.js';

/** The user content for the native path: `marker` per frame with the cues after their frame
 *  (after the last frame of its group when libmtmd merges `group` frames into one). */
export function interleaveMarkers(marker: string, frameTimes: number[], cues: SubtitleCue[], segment?: [number, number], group = 1): string {
  const { before, after } = cueLines(cues, frameTimes, segment, group);
  let s = before.map((line) => `${line}\n`).join('');
  frameTimes.forEach((_, k) => {
    s += marker;
    const lines = after[k]!;
    if (lines.length > 0) s += `\n${lines.join('\n')}\n`;
  });
  return s;
}

/** The transcript block for pooled strategies ('' when no cue falls in the sampled span). */
export function subtitleTranscript(frameTimes: number[], cues: SubtitleCue[], segment?: [number, number]): string {
  const { before, after } = placeCues(cues, frameTimes, segment?.[0], segment?.[1]);
  const lines = [...before, ...after.flat()].map(renderCue);
  return lines.length === 0 ? '' : `Subtitles:\n${lines.join('\n')}\n`;
}

/** Wraps a user-turn builder so the transcript goes between the video and the question. */
export function withTranscript<A extends unknown[], R>(turnOf: (...args: A) => (q: string) => R, transcript: string): (...args: A) => (q: string) => R {
  if (!transcript) return turnOf;
  return (...args) => (q) => turnOf(...args)(`${transcript}${q}`);
}
