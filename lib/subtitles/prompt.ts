/**
 * Subtitle cues in a prompt, in two layouts:
 *  - the native path: each cue's line goes right after the marker of the last frame shown at or
 *    before it, so the words sit next to their picture in the evaluated sequence (cueLines in
 *    lib/pipeline/assemble.ts places them; lib/audio/media.ts lays the markers out, with or without sound);
 *  - pooled strategies (whose tokens are no longer one block per frame): a timed transcript
 *    between the video and the question, every line stamped `[t s]` like the frames' time tokens
 *    (subtitleTranscript, in lib/pipeline/assemble.ts: the assemble stage places it).
 */

/** Wraps a user-turn builder so the transcript goes between the video and the question. */
export function withTranscript<A extends unknown[], R>(turnOf: (...args: A) => (q: string) => R, transcript: string): (...args: A) => (q: string) => R {
  if (!transcript) return turnOf;
  return (...args) => (q) => turnOf(...args)(`${transcript}${q}`);
}
