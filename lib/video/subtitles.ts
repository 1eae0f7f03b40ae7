/**
 * Text subtitle tracks (mov_text, SubRip, WebVTT, ASS/SSA) decoded by FFmpeg's subtitle decoders in
 * the addon (native/video/subtitles.cpp) into cues on the source's timeline.
 */
import { VidlmError } from '../errors.js';
import { withAbort, type NativeMediaSource } from '../native.js';
import type { SubtitleStreamInfo, SubtitleTrack, VideoProbe } from './types.js';

/** The track `choice` names: a stream index, a language tag (case-insensitive; 'en' matches
 *  'eng'), or the default track, else the first. */
export function pickSubtitleStream(tracks: SubtitleStreamInfo[], choice: number | string | undefined, source: string): SubtitleStreamInfo {
  if (tracks.length === 0) throw new VidlmError('ERR_VIDEO_NO_STREAM', `${source} has no subtitle track`, { source });
  if (choice === undefined) return tracks.find((t) => t.isDefault) ?? tracks[0]!;
  if (typeof choice === 'number') {
    const t = tracks.find((s) => s.streamIndex === choice);
    if (!t) throw new VidlmError('ERR_INVALID_ARG', `stream ${choice} of ${source} is not a subtitle track (tracks: ${tracks.map((s) => s.streamIndex).join(', ')})`, { source });
    return t;
  }
  const want = choice.toLowerCase();
  if (!/^[a-z]{2,3}(-[a-z0-9]+)?$/.test(want)) throw new VidlmError('ERR_INVALID_ARG', `subtitle language must be a language tag such as 'en' or 'eng', got ${JSON.stringify(choice)}`);
  const base = want.split('-')[0]!;
  const t = tracks.find((s) => s.language?.toLowerCase() === base) ?? tracks.find((s) => s.language?.toLowerCase().startsWith(base));
  if (!t) throw new VidlmError('ERR_VIDEO_NO_STREAM', `${source} has no '${choice}' subtitle track (languages: ${tracks.map((s) => s.language ?? 'untagged').join(', ')})`, { source, language: choice });
  return t;
}

/** The cues of the track `choice` names among `tracks` (pickSubtitleStream), on the source's timeline. */
export async function readSubtitles(src: NativeMediaSource, tracks: SubtitleStreamInfo[], choice: number | string | undefined, origin: number, source: string, signal?: AbortSignal): Promise<SubtitleTrack> {
  const track = pickSubtitleStream(tracks, choice, source);
  const r = await withAbort(signal, (t) => src.subtitles(track.streamIndex, origin, t));
  // a cue without an end lasts until the next one starts
  const cues = r.cues.slice().sort((a, b) => a.start - b.start);
  return {
    streamIndex: track.streamIndex,
    source: `${source}#${track.streamIndex}`,
    codec: track.codec,
    language: track.language,
    cues,
    errors: r.errors,
  };
}


