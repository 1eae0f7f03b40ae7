/**
 * A media URL of a request as something openVideo() takes: data URLs as bytes, file:// URLs and
 * paths from inside the media folder only (realpath first, so `..` and symlinks cannot leave
 * it), http(s) only when remote media is allowed (remote.ts: every hop's address checked); a
 * request's subtitle file from inside the media folder too (resolveSubtitles).
 *
 * What FFmpeg may do with a client's media: only the demuxers of media files (no SDP, RTP, RTSP,
 * HLS, image2 sequences or concat lists, which open sockets or other files) and only the protocol
 * the input needs (`file` for a file of the media folder, none for bytes in memory), through
 * FFmpeg's own `format_whitelist` / `protocol_whitelist` options, which also bind every nested
 * open a demuxer makes. The format check runs after probing and before the demuxer reads its
 * header, so a refused format never gets to open anything.
 */
import { bytesIdentity } from '../pipeline/read.js';
import { realpath, stat } from 'node:fs/promises';
import { isAbsolute, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { badRequest, HttpError } from './errors.js';
import { isSubtitleFile, type SubtitleSpec } from '../subtitles/load.js';
import { fetchRemote, type RemoteClient } from './remote.js';
export { remoteClient, type RemoteClient } from './remote.js';
import type { CheckedServerOptions } from './options.js';

export interface ResolvedMedia {
  input: string | Uint8Array;
  /** FFmpeg open options that keep the input to media demuxers and the protocol it needs (mediaOpenOptions). */
  ffmpegOptions: Record<string, string>;
  /** Identity of the bytes for the embedding cache: path + size + mtime, or a hash of the bytes. */
  identity: string;
  /** A remote URL answered 304 Not Modified: its kept bytes were reused (false), or downloaded (true); absent for other media. */
  downloaded?: boolean;
}


function dataUrl(url: string, o: CheckedServerOptions, param: string): ResolvedMedia {
  const comma = url.indexOf(',');
  if (comma < 0) throw badRequest('invalid_media', 'a data URL needs a comma before its data', param);
  const meta = url.slice(5, comma);
  const body = url.slice(comma + 1);
  if (!meta.endsWith(';base64')) throw badRequest('invalid_media', 'data URLs must be base64 (data:<type>;base64,...)', param);
  const type = meta.split(';')[0]!;
  if (!isMediaMime(type)) throw badRequest('invalid_media', `a data URL must declare an image/, video/ or audio/ type (got ${JSON.stringify(type.slice(0, 100))})`, param);
  if (body.length > Math.ceil(o.maxMediaBytes / 3) * 4 + 4) {
    throw new HttpError(413, 'media_too_large', `the data URL holds more than ${o.maxMediaBytes} bytes (--max-media-mb)`, { param });
  }
  const bytes = Buffer.from(body, 'base64');
  if (bytes.length === 0) throw badRequest('invalid_media', 'the data URL is empty', param);
  return { input: bytes, identity: bytesIdentity(bytes), ffmpegOptions: mediaOpenOptions(bytes) };
}

/** A path or file: URL's file inside the media folder (realpath checked), as for media parts. */
export async function localFile(p: string, o: CheckedServerOptions, param: string): Promise<ResolvedMedia> {
  if (!o.mediaPath) throw new HttpError(403, 'local_media_disabled', 'file:// URLs and paths are served only when the server has a media folder (--media-path)', { param });
  const root = await realpath(o.mediaPath);
  let real: string;
  try {
    real = await realpath(isAbsolute(p) ? p : resolve(root, p));
  } catch {
    throw badRequest('invalid_media', `no such file in the media folder: ${p}`, param);
  }
  if (real !== root && !real.startsWith(root.endsWith(sep) ? root : root + sep)) {
    throw new HttpError(403, 'path_outside_media_path', `${p} is outside the media folder`, { param });
  }
  const st = await stat(real);
  if (!st.isFile()) throw badRequest('invalid_media', `${p} is not a file`, param);
  if (st.size > o.maxMediaBytes) throw new HttpError(413, 'media_too_large', `${p} is larger than ${o.maxMediaBytes} bytes (--max-media-mb)`, { param });
  return { input: real, identity: `${real}:${st.size}:${st.mtimeMs}`, ffmpegOptions: mediaOpenOptions(real) };
}

/** The media of one content part. `param` names it in errors (messages[1].content[0].video_url.url). */
export async function resolveMedia(url: string, o: CheckedServerOptions, remote: RemoteClient, signal: AbortSignal, param: string): Promise<ResolvedMedia> {
  if (url.startsWith('data:')) return dataUrl(url, o, param);
  if (/^[a-z][a-z0-9+.-]*:/i.test(url) && !/^[a-z]:[\\/]/i.test(url)) {
    let parsed: URL;
    try { parsed = new URL(url); } catch { throw badRequest('invalid_media', `not a valid URL: ${url.slice(0, 200)}`, param); }
    if (parsed.protocol === 'file:') {
      let path: string;
      // file://host/... and encoded separators (..%2f) are not paths of this machine
      try { path = fileURLToPath(parsed); } catch { throw badRequest('invalid_media', `not a file URL of this machine: ${url.slice(0, 200)}`, param); }
      return localFile(path, o, param);
    }
    if (parsed.protocol === 'http:' || parsed.protocol === 'https:') {
      const body = await fetchRemote(parsed, o, remote, signal, param);
      return { input: body.bytes, identity: body.identity, ffmpegOptions: mediaOpenOptions(body.bytes), downloaded: body.downloaded };
    }
    throw badRequest('invalid_media', `media URLs may be data:, file:, http: or https: (got ${parsed.protocol})`, param);
  }
  return localFile(url, o, param);
}


/** Demuxers (FFmpeg names) of the containers, streams and pictures clients send. */
export const MEDIA_DEMUXERS = [
  'mov', 'mp4', 'm4a', '3gp', '3g2', 'mj2', 'matroska', 'webm', 'avi', 'mpegts', 'mpeg', 'flv', 'ogg', 'ivf', 'yuv4mpegpipe',
  'h264', 'hevc', 'mjpeg', 'gif', 'png_pipe', 'jpeg_pipe', 'webp_pipe', 'gif_pipe',
  'wav', 'mp3', 'aac', 'flac',
] as const;

/**
 * FFmpeg open options for a client's input: a path of the media folder, or bytes (data URL,
 * download). FFmpeg reads a picture file by path with image2 (chosen by its extension): allowed
 * only for a name without image2's sequence and glob characters, so it opens that one file.
 */
export function mediaOpenOptions(input: string | Uint8Array): Record<string, string> {
  if (typeof input !== 'string') return { format_whitelist: MEDIA_DEMUXERS.join(','), protocol_whitelist: 'none' };
  const single = !/[%*?{[]/.test(input);
  return { format_whitelist: [...MEDIA_DEMUXERS, ...(single ? ['image2'] : [])].join(','), protocol_whitelist: 'file' };
}

/** The MIME types a data URL may declare: a picture, a video or a sound. */
export function isMediaMime(type: string): boolean {
  return /^(image|video|audio)\/[a-z0-9][a-z0-9.+-]*$/i.test(type.trim());
}

/** The request's `subtitles`: a file becomes its real path inside the media folder (403 outside it); tracks stay as they are. */
export async function resolveSubtitles(spec: SubtitleSpec | undefined, o: CheckedServerOptions): Promise<SubtitleSpec | undefined> {
  if (typeof spec !== 'string' || !isSubtitleFile(spec)) return spec;
  const param = 'vidlm.subtitles';
  let path = spec;
  if (/^[a-z][a-z0-9+.-]*:/i.test(spec) && !/^[a-z]:[\\/]/i.test(spec)) {
    if (!spec.startsWith('file:')) throw badRequest('invalid_value', 'a subtitle file is a path or file:// URL inside the media folder', param);
    try { path = fileURLToPath(spec); } catch { throw badRequest('invalid_value', `not a valid file URL: ${spec.slice(0, 200)}`, param); }
  }
  const file = await localFile(path, o, param);
  return file.input as string;
}
