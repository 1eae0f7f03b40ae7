/**
 * The `subtitles` option: true (the default track), a language tag, a stream index or an external
 * file. A missing or broken track never fails a question: it comes back as a warning and no cues.
 */
import { isVidlmError, VidlmError } from '../errors.js';
import type { VideoSource } from '../video/video.js';
import type { SubtitleTrack } from '../video/types.js';
import { isSubtitleFile, readSubtitleFile } from './external.js';

/** The `subtitles` option: true (the default track), a language tag, a stream index or a .srt/.vtt/.ass path. */
export type SubtitleSpec = boolean | string | number;

export interface LoadedSubtitles {
  track: SubtitleTrack | null;
  warnings: string[];
}

export function checkSubtitleSpec(spec: unknown): asserts spec is SubtitleSpec | undefined {
  if (spec === undefined || typeof spec === 'boolean' || (typeof spec === 'string' && spec.length > 0) || (Number.isInteger(spec) && (spec as number) >= 0)) return;
  throw new VidlmError('ERR_INVALID_ARG', `subtitles must be true, a language tag, a stream index or a .srt/.vtt/.ass path, got ${JSON.stringify(spec)}`);
}

export async function loadSubtitles(video: VideoSource, spec: SubtitleSpec | undefined, signal?: AbortSignal): Promise<LoadedSubtitles> {
  checkSubtitleSpec(spec);
  if (spec === undefined || spec === false) return { track: null, warnings: [] };
  try {
    let track: SubtitleTrack;
    if (typeof spec === 'string' && isSubtitleFile(spec)) track = await readSubtitleFile(spec, signal);
    else track = await video.subtitles({ track: spec === true ? undefined : spec, signal });
    const warnings = track.errors > 0 ? [`subtitles: ${track.errors} cue(s) of ${track.source} could not be decoded and were skipped`] : [];
    return { track, warnings };
  } catch (e) {
    if (isVidlmError(e) && (e.code === 'ERR_ABORTED' || e.code === 'ERR_DISPOSED' || e.code === 'ERR_INVALID_ARG')) throw e;
    if (!isVidlmError(e)) throw e;
    return { track: null, warnings: [`subtitles skipped: ${e.message}`] };
  }
}
