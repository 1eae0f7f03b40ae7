/**
 * Where subtitle cues enter a prompt: each cue goes right after the last frame shown at or before
 * its start (before the first frame when it starts earlier), rendered `[12.5s] "line"`, so the
 * model reads the words next to the picture they were on.
 */
import type { SubtitleCue } from '../video/types.js';

/** `[12.5s] "text"`: time in seconds with one decimal (the notation of the time tokens), lines joined by ' / '. */
export function renderCue(cue: SubtitleCue): string {
  const text = cue.text.replace(/\s*\n\s*/g, ' / ').replace(/"/g, '\u201d');
  return `[${(Math.round(cue.start * 10) / 10).toFixed(1)}s] "${text}"`;
}

/**
 * The cues that go after each frame: out[k] for frame k (frames sorted by time), and `before`
 * for cues that start before frame 0. Cues outside [from, to] (the sampled segment) are left out.
 */
export function placeCues(cues: SubtitleCue[], frameTimes: number[], from = -Infinity, to = Infinity): { before: SubtitleCue[]; after: SubtitleCue[][] } {
  const before: SubtitleCue[] = [];
  const after: SubtitleCue[][] = frameTimes.map(() => []);
  for (const c of [...cues].sort((a, b) => a.start - b.start)) {
    const end = c.end ?? c.start;
    if (end < from || c.start > to) continue;
    // the last frame at or before the cue's start
    let k = -1;
    for (let i = 0; i < frameTimes.length; i++) if (frameTimes[i]! <= c.start + 1e-6) k = i;
    if (k < 0) before.push(c);
    else after[k]!.push(c);
  }
  return { before, after };
}

/**
 * Moves each frame's cues to the last frame of its group of `group` (Qwen2-VL's libmtmd merges
 * consecutive frames in pairs, and text between two markers would break the pair, doubling its
 * tokens): the cues of frame k go after frame min(n - 1, ceil((k + 1) / group) * group - 1).
 */
export function groupCues<T>(after: T[][], group: number): T[][] {
  if (group <= 1) return after;
  const out: T[][] = after.map(() => []);
  after.forEach((list, k) => out[Math.min(after.length - 1, Math.ceil((k + 1) / group) * group - 1)]!.push(...list));
  return out;
}

/** Frames per temporal merge group of a projector (libmtmd's clip_model_n_temporal_merge): 2 for the Qwen-VL family. */
export function temporalMerge(projectorType: string | null): number {
  return projectorType !== null && /^qwen(2vl|2\.5vl|3vl)_merger$|^qwen2\.5o$|^qwen3vl/.test(projectorType) ? 2 : 1;
}

/**
 * The rendered cue lines of a native layout: `before` the first frame, and `after[k]` frame k's
 * (moved to the last frame of its group when libmtmd merges `group` frames), cues outside the
 * segment left out.
 */
export function cueLines(cues: SubtitleCue[], frameTimes: number[], segment?: [number, number], group = 1): { before: string[]; after: string[][] } {
  const placed = placeCues(cues, frameTimes, segment?.[0], segment?.[1]);
  return { before: placed.before.map(renderCue), after: groupCues(placed.after, group).map((k) => k.map(renderCue)) };
}
