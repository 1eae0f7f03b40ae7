/**
 * An external subtitle file (`subtitles: 'movie.srt'`): SubRip, WebVTT or ASS, opened with the
 * addon's FFmpeg (its srt/webvtt/ass demuxers and decoders), so the cues are parsed exactly like a
 * track inside an mkv or mp4.
 */
import { VidlmError } from '../errors.js';
import { openInput } from '../video/open.js';
import { readSubtitles } from '../video/subtitles.js';
import type { SubtitleStreamInfo, SubtitleTrack } from '../video/types.js';

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
    const track = await readSubtitles(opened.src, info, 0, opened.display, signal);
    return { ...track, streamIndex: null, source: opened.display };
  } finally {
    await opened.src.close().catch(() => undefined);
  }
}
