/**
 * Subtitles, from the option to the cues: the `subtitles` option (true: the default track, a
 * language tag, a stream index or an external file), the track it picks, and its cues read by
 * FFmpeg's subtitle decoders in the addon (native/video/subtitles.cpp) on the source's timeline —
 * from a track of the video (VideoSource.subtitles) or from a file of their own (SubRip, WebVTT or
 * ASS, opened with the addon's srt/webvtt/ass demuxers, so its cues are parsed exactly like a
 * track inside an mkv or mp4). A missing or broken track never fails a question: loadSubtitles
 * gives a warning and no cues.
 */
import { isVidlmError, VidlmError } from '../errors.js';
import { withAbort, type NativeMediaSource } from '../native.js';
import { openInput } from './open.js';
import type { SubtitleOptions, SubtitleStreamInfo, SubtitleTrack } from './types.js';

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

/** The source's subtitles as `spec` asks (VideoSource.subtitles for a track: the source as it reads them). */
export async function loadSubtitles(video: { subtitles(options: SubtitleOptions): Promise<SubtitleTrack> }, spec: SubtitleSpec | undefined, signal?: AbortSignal): Promise<LoadedSubtitles> {
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

/** A `subtitles` value that names a file rather than a language. */
export function isSubtitleFile(spec: string): boolean {
  return /\.(srt|vtt|webvtt|ass|ssa)$/i.test(spec) || spec.includes('/') || spec.includes('\\');
}

export async function readSubtitleFile(path: string, signal?: AbortSignal): Promise<SubtitleTrack> {
  // a subtitle file is only ever read as one: no other demuxer (an SDP or HLS text would open sockets and files)
  const opened = await openInput(path, { signal, ffmpegOptions: { format_whitelist: 'srt,webvtt,ass' } });
  try {
    const s = opened.info.streams.find((x) => x.type === 'subtitle');
    if (!s) throw new VidlmError('ERR_VIDEO_NO_STREAM', `${opened.display} is not a subtitle file (FFmpeg read it as ${opened.info.format})`, { source: opened.display });
    const info: SubtitleStreamInfo = { streamIndex: s.index, codec: s.codec, language: s.language ?? null, title: s.title ?? null, isDefault: true };
    const track = await readSubtitles(opened.src, [info], undefined, 0, opened.display, signal);
    return { ...track, streamIndex: null, source: opened.display };
  } finally {
    await opened.src.close().catch(() => undefined);
  }
}
