/**
 * The `subtitles` option: true (the default track), a language tag, a stream index or an external
 * file. A missing or broken track never fails a question: it comes back as a warning and no cues.
 *
 * An external file (`subtitles: 'movie.srt'`): SubRip, WebVTT or ASS, opened with the addon's
 * FFmpeg (its srt/webvtt/ass demuxers and decoders), so the cues are parsed exactly like a track
 * inside an mkv or mp4.
 */
import { isVidlmError, VidlmError } from '../errors.js';
import type { VideoSource } from '../video/video.js';
import { openInput } from '../video/open.js';
import { readSubtitles } from '../video/subtitles.js';
import type { SubtitleStreamInfo, SubtitleTrack } from '../video/types.js';

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
