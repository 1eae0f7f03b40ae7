/**
 * A media URL of a request as something openVideo() takes: data URLs as bytes, file:// URLs and
 * paths from inside the media folder only (realpath first, so `..` and symlinks cannot leave
 * it), http(s) only when remote media is allowed, downloaded with a size and time limit through
 * an undici Agent whose DNS lookup refuses loopback and private addresses (checked at connect,
 * so a name cannot resolve to a public address for the check and a private one for the fetch).
 */
import { createHash } from 'node:crypto';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { realpath, stat } from 'node:fs/promises';
import { isAbsolute, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ipaddr from 'ipaddr.js';
import { Agent, fetch } from 'undici';
import { badRequest, HttpError } from './errors.js';
import { isMediaMime, mediaOpenOptions } from './open-options.js';
import type { CheckedServerOptions } from './options.js';

export interface ResolvedMedia {
  input: string | Uint8Array;
  /** FFmpeg open options that keep the input to media demuxers and the protocol it needs (open-options.ts). */
  ffmpegOptions: Record<string, string>;
  /** Identity of the bytes for the embedding cache: path + size + mtime, or a hash of the bytes. */
  identity: string;
}

const bytesIdentity = (b: Uint8Array) => `sha1:${createHash('sha1').update(b).digest('hex')}`;

function isPublic(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  return ipaddr.process(address).range() === 'unicast';
}

/** An undici Agent that connects only to public addresses (unless private ones are allowed). */
export function remoteAgent(allowPrivate: boolean): Agent {
  const lookup = (hostname: string, options: object, cb: (err: Error | null, address: string | LookupAddress[], family?: number) => void) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return cb(err, []);
      const refused = addresses.filter((a) => !allowPrivate && !isPublic(a.address));
      if (refused.length > 0) {
        return cb(Object.assign(new Error(`${hostname} resolves to a private address (${refused[0]!.address})`), { code: 'VIDLM_PRIVATE_ADDRESS' }), []);
      }
      if ((options as { all?: boolean }).all) return cb(null, addresses);
      cb(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
  return new Agent({ connect: { lookup: lookup as never } });
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

async function remote(url: URL, o: CheckedServerOptions, agent: Agent, signal: AbortSignal, param: string): Promise<ResolvedMedia> {
  if (!o.allowRemote) throw new HttpError(403, 'remote_media_disabled', 'http(s) media is fetched only when the server allows it (--allow-remote)', { param });
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (ipaddr.isValid(host) && !o.allowPrivateAddresses && !isPublic(host)) {
    throw new HttpError(403, 'private_address', `${host} is a private or loopback address`, { param });
  }
  const timeout = AbortSignal.timeout(o.remoteTimeoutMs);
  const both = AbortSignal.any([signal, timeout]);
  try {
    const res = await fetch(url, { dispatcher: agent, signal: both, redirect: 'follow' });
    if (!res.ok || !res.body) throw badRequest('invalid_media', `fetching ${url.href} gave HTTP ${res.status}`, param);
    const declared = Number(res.headers.get('content-length') ?? NaN);
    if (declared > o.maxMediaBytes) throw new HttpError(413, 'media_too_large', `${url.href} is ${declared} bytes, more than ${o.maxMediaBytes} (--max-media-mb)`, { param });
    const chunks: Uint8Array[] = [];
    let n = 0;
    for await (const chunk of res.body) {
      n += chunk.length;
      if (n > o.maxMediaBytes) throw new HttpError(413, 'media_too_large', `${url.href} is more than ${o.maxMediaBytes} bytes (--max-media-mb)`, { param });
      chunks.push(chunk);
    }
    const bytes = Buffer.concat(chunks);
    return { input: bytes, identity: bytesIdentity(bytes), ffmpegOptions: mediaOpenOptions(bytes) };
  } catch (e) {
    if (e instanceof HttpError) throw e;
    if (signal.aborted) throw e;
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    if (cause?.code === 'VIDLM_PRIVATE_ADDRESS') throw new HttpError(403, 'private_address', cause.message ?? 'private address', { param });
    if (timeout.aborted) throw badRequest('media_timeout', `fetching ${url.href} took longer than ${o.remoteTimeoutMs / 1000} s`, param);
    throw badRequest('invalid_media', `fetching ${url.href} failed: ${cause?.message ?? (e as Error).message}`, param);
  }
}

/** The media of one content part. `param` names it in errors (messages[1].content[0].video_url.url). */
export async function resolveMedia(url: string, o: CheckedServerOptions, agent: Agent, signal: AbortSignal, param: string): Promise<ResolvedMedia> {
  if (url.startsWith('data:')) return dataUrl(url, o, param);
  if (/^[a-z][a-z0-9+.-]*:/i.test(url) && !/^[a-z]:[\\/]/i.test(url)) {
    let parsed: URL;
    try { parsed = new URL(url); } catch { throw badRequest('invalid_media', `not a valid URL: ${url.slice(0, 200)}`, param); }
    if (parsed.protocol === 'file:') return localFile(fileURLToPath(parsed), o, param);
    if (parsed.protocol === 'http:' || parsed.protocol === 'https:') return remote(parsed, o, agent, signal, param);
    throw badRequest('invalid_media', `media URLs may be data:, file:, http: or https: (got ${parsed.protocol})`, param);
  }
  return localFile(url, o, param);
}
