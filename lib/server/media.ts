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
 *
 * prepareMedia (below) reads a resolved part through the pipeline: one module for a request's
 * media part, from its URL to its assembled video.
 */
import { createHash } from 'node:crypto';
import { realpath, stat } from 'node:fs/promises';
import { isAbsolute, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StrategyName } from '../assembly/types.js';
import { VidlmError } from '../errors.js';
import type { Model } from '../model.js';
import { bytesIdentity, readVideo, type FrameEncoder, type ReadVideo } from '../pipeline/read.js';
import { badRequest, HttpError } from './errors.js';
import type { Metrics } from './metrics.js';
import type { VideoOptions } from './request.js';
import { textCap } from './text.js';
import { isSubtitleFile, type SubtitleSpec } from '../video/subtitles.js';
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

/** The media folder's real path; 503 when it is gone (removed or unmounted while the server runs), without naming it. */
export async function mediaRoot(o: Pick<CheckedServerOptions, 'mediaPath'>): Promise<string> {
  try {
    return await realpath(o.mediaPath!);
  } catch {
    throw new HttpError(503, 'media_path_unavailable', "the server's media folder is not available", { type: 'server_error' });
  }
}

/** A path or file: URL's file inside the media folder (realpath checked), as for media parts. */
export async function localFile(p: string, o: CheckedServerOptions, param: string): Promise<ResolvedMedia> {
  if (!o.mediaPath) throw new HttpError(403, 'local_media_disabled', 'file:// URLs and paths are served only when the server has a media folder (--media-path)', { param });
  const root = await mediaRoot(o);
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
  'h264', 'hevc', 'mjpeg', 'gif', 'apng', 'png_pipe', 'jpeg_pipe', 'webp_pipe', 'gif_pipe', 'bmp_pipe',
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

/**
 * The part read. One media part of a request through the pipeline (lib/pipeline/read.ts), as ask() reads a
 * video: the server adds only what is its own — the URL resolved (media.ts), its limits checked
 * on the probe before decoding (duration, frames), the bytes' identity, the media budget shared
 * by the request's parts, and an encoder that lets requests asking for the same frames at once
 * encode them once.
 */
export interface PreparedMedia {
  read: ReadVideo;
  strategy: StrategyName;
  duration: number;
  frames: { index: number; t: number }[];
  /** Identity of what the part puts in the KV (source, frame times, method, sound): the slot's key. */
  key: string;
  /** Pooled: the method's visual tokens; the native path's are libmtmd's, known after the prefill. */
  visual: number;
  encoded: number;
  cached: number;
  audioChunks: number;
  cues: number;
  /** http(s) media: downloaded, or its kept bytes reused after 304 Not Modified. */
  remote?: 'downloaded' | 'not_modified';
  warnings: string[];
}

export interface MediaContext {
  model: Model;
  options: CheckedServerOptions;
  remote: RemoteClient;
  metrics: Metrics;
  signal: AbortSignal;
  /** A slot's tokens, and how many media parts of the request share them. */
  contextSize: number;
  parts: number;
  hasToken: (tok: string) => boolean;
  /** Encodes running now, by source and frames (shared by the server's requests). */
  encoding: Map<string, Promise<unknown>>;
}

/** The model's encoder, with the same frames asked for at once by several requests encoded by the first (the others then read the cache). */
function sharedEncoder(model: Model, identity: string, encoding: Map<string, Promise<unknown>>, signal: AbortSignal): FrameEncoder {
  return {
    async encodeWithStats(frames, opts) {
      const key = `${identity}|${frames.map((f) => `${f.t}:${f.width}x${f.height}`).join(',')}`;
      const running = encoding.get(key);
      if (running) await Promise.race([running.catch(() => {}), new Promise((_, reject) => { signal.throwIfAborted(); signal.addEventListener('abort', () => reject(signal.reason), { once: true }); })]);
      const encode = model.encodeWithStats(frames, opts);
      if (!running) {
        encoding.set(key, encode);
        void encode.catch(() => {}).finally(() => encoding.delete(key));
      }
      return encode;
    },
  };
}

/** The request's name of an option the pipeline names (`vidlm.segment` for `segment`); a budget error names the part. */
const REQUEST_OPTIONS = new Set(['strategy', 'frames', 'fps', 'fpsRule', 'segment', 'timeTokens', 'preamble', 'audio', 'audioWindow', 'audioLength', 'subtitles']);
function asRequestError(e: unknown, param: string): unknown {
  if (!(e instanceof VidlmError)) return e;
  const option = e.details?.option;
  if (typeof option === 'string' && REQUEST_OPTIONS.has(option)) Object.assign(e, { details: { ...e.details, option: `vidlm.${option}` } });
  // what the part itself caused (it does not fit, it cannot be had, its bytes do not decode): the part is named
  else if (option === undefined && (e.code === 'ERR_CONTEXT_FULL' || e.code === 'ERR_UNSUPPORTED' || e.code.startsWith('ERR_VIDEO_'))) Object.assign(e, { details: { ...e.details, option: param } });
  return e;
}

/** `audioPart`: an input_audio part, whose sound alone is used; `strategy`: the request's choice ('native' when it carries sound). */
export async function prepareMedia(url: string, param: string, strategy: StrategyName | 'auto', v: VideoOptions, c: MediaContext, audioPart = false): Promise<PreparedMedia> {
  const { model, options: o, signal } = c;
  const info = model.info;
  const media = await resolveMedia(url, o, c.remote, signal, param);
  const read = await readVideo(media.input, {
    model, strategy, frames: v.frames, fps: v.fps, fpsRule: v.fpsRule, segment: v.segment, timeTokens: v.timeTokens, preamble: v.preamble,
    contextSize: c.contextSize, parts: c.parts, fit: 'pad',
    ...(v.subtitles !== undefined && !audioPart ? { subtitles: v.subtitles } : {}),
    ...(v.audio !== undefined ? { audio: v.audio } : {}), ...(v.audioWindow !== undefined ? { audioWindow: v.audioWindow } : {}),
    ...(v.audioLength !== undefined ? { audioLength: v.audioLength } : {}),
    reduce: v.reduce ?? null,
    soundOnly: audioPart, signal, sourceId: media.identity, hasToken: c.hasToken, ffmpegOptions: media.ffmpegOptions,
    countText: boundedCount(model, c.contextSize), lazyPixels: true,
    encoder: sharedEncoder(model, media.identity, c.encoding, signal),
    check: (probe, plan) => {
      const { isImage, duration } = probe;
      if (!info.vision && isImage) throw new HttpError(400, 'unsupported_value', 'the model has no vision encoder: it takes sound, not pictures', { param });
      if (audioPart && !probe.audio) throw badRequest('invalid_media', 'the input_audio part holds no audio stream', param);
      if (!isImage && duration > o.maxDuration) {
        throw new HttpError(400, 'media_too_long', `the video lasts ${duration.toFixed(1)} s; this server takes at most ${o.maxDuration} s (--max-duration)`, { param });
      }
      // the least frames the plan gives, known before decoding: by count, or fps × the segment's length
      const span = Math.min(v.segment?.[1] ?? duration, duration) - (v.segment?.[0] ?? 0);
      const expected = plan.audioOnly ? 0 : plan.byCount || isImage ? plan.count : Math.max(1, Math.floor(span * (v.fps ?? 1)));
      if (expected > o.maxFrames) throw new HttpError(400, 'too_many_frames', `the request samples ${expected} frames; this server takes at most ${o.maxFrames}`, { param });
    },
  }).catch((e: unknown) => { throw asRequestError(e, param); });
  c.metrics.stage.observe({ stage: 'decode' }, read.decodeMs / 1000);
  const { plan, video, encoded } = read;
  if (video.frames.length > o.maxFrames) throw new HttpError(400, 'too_many_frames', `the request samples more than ${o.maxFrames} frames`, { param });
  let enc = video.frames.length, cached = 0;
  if (encoded.kind === 'grids') {
    c.metrics.stage.observe({ stage: 'encode' }, encoded.ms / 1000);
    enc = encoded.stats?.encoded ?? enc;
    cached = encoded.stats?.cached ?? 0;
    c.metrics.cacheHits.inc(cached);
    c.metrics.cacheMisses.inc(enc);
    for (const f of video.frames) f.rgb = new Uint8Array(0); // the pixels are not needed past encoding
  }
  const key = createHash('sha1').update(JSON.stringify([media.identity, plan.strategy, v.timeTokens, video.frames.map((f) => f.t), plan.audio ?? null, audioPart, v.segment ?? null, v.reduce ?? null])).digest('hex');
  const warnings = video.warning ? video.warning.split('; ') : [];
  return {
    read, strategy: plan.strategy, duration: video.duration, frames: video.frames.map((f) => ({ index: f.index, t: f.t })), key,
    visual: read.assembled.kind === 'items' ? read.assembled.visual : 0, encoded: enc, cached,
    audioChunks: video.audio?.chunks.length ?? 0, cues: video.cues?.length ?? 0, warnings,
    ...(media.downloaded === undefined ? {} : { remote: media.downloaded ? 'downloaded' as const : 'not_modified' as const }),
  };
}

/**
 * Subtitle text counted on the event loop only up to what a slot can hold: past the cap (the
 * characters of a full context, text.ts) the request is refused before anything tokenizes it.
 */
function boundedCount(model: Model, contextSize: number): (text: string) => number {
  const cap = textCap(model, contextSize);
  let chars = 0;
  return (text) => {
    chars += text.length;
    if (chars > cap) throw new HttpError(400, 'context_length_exceeded', `the subtitles hold more than ${cap} characters of text, more than a slot of this server can hold`, { param: 'vidlm.subtitles' });
    return model.handle.countTokens(text);
  };
}
