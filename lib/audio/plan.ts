/**
 * The order of pictures and sound in a prompt with audio, from their timestamps:
 *  - 'interleave' (Qwen2.5-Omni's TMRoPE layout, video-SALMONN's alignment): the timeline is cut
 *    into windows of `window` seconds (Qwen2.5-Omni: 2 s); each window's frames come first, then
 *    that window's audio, so every chunk of sound sits next to the pictures taken while it played;
 *  - 'prefix': the whole audio, then the frames.
 * Pure: the evaluated sequence is built from this list, and the tests check its order.
 */
export type AudioMode = 'interleave' | 'prefix';

export type MediaStep =
  | { kind: 'frame'; index: number; t: number }
  | { kind: 'audio'; start: number; end: number };

/** Qwen2.5-Omni's chunk length in seconds (2 s of audio per TMRoPE time chunk). */
export const DEFAULT_AUDIO_WINDOW = 2;

/** The longest window libmtmd's Whisper preprocessing encodes as one 30-s chunk (a clip of 29.99 s already takes two). */
export const PADDED_AUDIO_WINDOW = 29.9;

export function mediaOrder(frameTimes: readonly number[], audioSpan: [number, number], mode: AudioMode, window = DEFAULT_AUDIO_WINDOW): MediaStep[] {
  const [from, to] = audioSpan;
  const frames: MediaStep[] = frameTimes.map((t, index) => ({ kind: 'frame', index, t }));
  if (!(to > from)) return frames;
  if (mode === 'prefix') return [{ kind: 'audio', start: from, end: to }, ...frames];
  const out: MediaStep[] = [];
  let f = 0;
  for (let start = from; start < to - 1e-9; start += window) {
    const end = Math.min(to, start + window);
    // frames before this window's end (and any before the audio starts) go first
    while (f < frameTimes.length && frameTimes[f]! < end - 1e-9) out.push(frames[f++]!);
    out.push({ kind: 'audio', start, end });
  }
  while (f < frameTimes.length) out.push(frames[f++]!);
  return out;
}
