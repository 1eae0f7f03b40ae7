/**
 * A media URL of a request as something openVideo() takes: data URLs as bytes, file:// URLs and
 * paths from inside the media folder only (realpath first, so `..` and symlinks cannot leave
 * it), http(s) only when remote media is allowed (remote.ts: every hop's address checked).
 */
import { bytesIdentity } from '../pipeline/media-memo.js';
import { realpath, stat } from 'node:fs/promises';
import { isAbsolute, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { badRequest, HttpError } from './errors.js';
import { isMediaMime, mediaOpenOptions } from './open-options.js';
import { fetchRemote, type RemoteClient } from './remote.js';
export { remoteClient, type RemoteClient } from './remote.js';
import type { CheckedServerOptions } from './options.js';

export interface ResolvedMedia {
  input: string | Uint8Array;
  /** FFmpeg open options that keep the input to media demuxers and the protocol it needs (open-options.ts). */
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
