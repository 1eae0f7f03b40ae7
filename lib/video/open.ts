/**
 * Opening a source: file path, bytes (read by FFmpeg from memory), URL or capture device, with
 * protocol timeouts and abort; failures come back from the addon as VidlmErrors with stable codes.
 * A stream protocol's open (and a live source's read, live.ts) runs under a deadline (below).
 */
import { stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { VidlmError, abortError } from '../errors.js';
import { native, withAbort, type NativeMediaInfo, type NativeMediaSource } from '../native.js';
import type { OpenOptions, VideoInput } from './types.js';

export interface OpenedInput {
  src: NativeMediaSource;
  info: NativeMediaInfo;
  /** What was opened, for messages. */
  display: string;
  kind: 'file' | 'buffer' | 'url' | 'device';
  /** Bytes of the file (files and buffers), for plausibility checks; null when unknown. */
  size: number | null;
}

const URL_RE = /^([a-z][a-z0-9+.-]*):\/\//i;
const DEFAULT_TIMEOUT_S = 10;
/** Largest picture decoded by default: 8192 x 8192 (a 30000 x 30000 header is refused up front). */
export const DEFAULT_MAX_PIXELS = 8192 * 8192;

export function describeInput(input: VideoInput): string {
  if (typeof input === 'string') return input;
  if (input instanceof URL) return input.href;
  return `<buffer ${input.byteLength} bytes>`;
}

/** Protocol of a URL source ('file' for paths). */
export function protocolOf(url: string): string {
  const m = URL_RE.exec(url);
  return m ? m[1]!.toLowerCase() : 'file';
}

export function isNetworkProtocol(p: string): boolean {
  return ['http', 'https', 'tcp', 'udp', 'rtp', 'rtsp', 'rtsps', 'rtmp', 'rtmps', 'srt', 'tls', 'hls', 'mms', 'mmsh', 'mmst', 'ftp', 'sftp'].includes(p);
}

/** Protocols whose sources never end on their own (no file behind them): their open has a deadline. */
export function isStreamProtocol(p: string): boolean {
  return ['udp', 'rtp', 'srt', 'tcp', 'rtsp', 'rtsps', 'rtmp', 'rtmps', 'mms', 'mmsh', 'mmst'].includes(p);
}

/**
 * A bound on one native call that FFmpeg's own per-read timeout does not give: that one moves on
 * while bytes arrive, so a live source sending garbage (or a stream no decoder can read) kept a
 * probe or a read going for ever. The call runs under the caller's signal and a timer; when the
 * timer fires first, the call is interrupted and `expired()` is true, so the caller can turn the
 * abort into a coded timeout and the caller's own abort stays an abort.
 */
export interface Deadline {
  readonly signal: AbortSignal;
  expired(): boolean;
  /** Stops the timer and unhooks the caller's signal (call it in a finally). */
  done(): void;
}

export function deadline(ms: number, outer?: AbortSignal): Deadline {
  const ac = new AbortController();
  let fired = false;
  const timer = setTimeout(() => { fired = true; ac.abort(new Error(`no result in ${ms / 1000} s`)); }, ms);
  const onOuter = () => ac.abort(outer!.reason);
  if (outer?.aborted) onOuter();
  else outer?.addEventListener('abort', onOuter, { once: true });
  return {
    signal: ac.signal,
    expired: () => fired && !outer?.aborted,
    done: () => { clearTimeout(timer); outer?.removeEventListener('abort', onOuter); },
  };
}

/**
 * AVDictionary options for a URL: every option must be consumed by FFmpeg (the addon reports
 * leftovers as ERR_INVALID_ARG), so protocol-specific ones are set only where the protocol has them.
 */
export function demuxerOptionsFor(url: string, timeoutS: number, live: boolean): Record<string, string> {
  const p = protocolOf(url);
  const us = String(Math.round(timeoutS * 1e6));
  const o: Record<string, string> = {};
  if (p === 'rtsp' || p === 'rtsps') o.timeout = us; // rtsp demuxer option (the URL is not opened through avio)
  else if (isNetworkProtocol(p)) {
    o.rw_timeout = us; // URLContext option: every avio protocol has it
    if (p === 'http' || p === 'https' || p === 'tcp' || p === 'udp') o.timeout = us;
  }
  if (live || isNetworkProtocol(p)) {
    o.analyzeduration = '1000000';
    o.probesize = '2000000';
  }
  return o;
}

export function checkOpenOptions(options: OpenOptions): void {
  const t = options.timeout;
  if (t !== undefined && !(typeof t === 'number' && t > 0 && Number.isFinite(t))) throw new VidlmError('ERR_INVALID_ARG', `timeout must be > 0 seconds, got ${String(t)}`);
  const th = options.threads;
  if (th !== undefined && !(Number.isInteger(th) && th >= 0 && th <= 64)) throw new VidlmError('ERR_INVALID_ARG', `threads must be an integer in [0, 64] (0 = FFmpeg's choice), got ${String(th)}`);
  const mp = options.maxPixels;
  if (mp !== undefined && !(Number.isInteger(mp) && mp > 0)) throw new VidlmError('ERR_INVALID_ARG', `maxPixels must be a positive integer, got ${String(mp)}`);
  if (options.format !== undefined && (typeof options.format !== 'string' || !options.format)) throw new VidlmError('ERR_INVALID_ARG', `format must be an FFmpeg demuxer name, got ${String(options.format)}`);
  if (options.ffmpegOptions !== undefined && (options.ffmpegOptions === null || typeof options.ffmpegOptions !== 'object')) throw new VidlmError('ERR_INVALID_ARG', 'ffmpegOptions must be an object of strings or numbers');
}

export async function openInput(input: VideoInput, options: OpenOptions = {}, live = false): Promise<OpenedInput> {
  if (options.signal?.aborted) throw abortError(options.signal);
  checkOpenOptions(options);
  const display = describeInput(input);
  const timeoutS = options.timeout ?? DEFAULT_TIMEOUT_S;
  let url: string | null = null;
  let kind: OpenedInput['kind'];
  let size: number | null = null;
  if (input instanceof Uint8Array) {
    if (input.byteLength === 0) throw new VidlmError('ERR_VIDEO_OPEN', 'cannot open an empty buffer', { source: display, reason: 'empty' });
    kind = 'buffer';
    size = input.byteLength;
  } else {
    url = input instanceof URL ? input.href : input;
    if (typeof url !== 'string' || url.length === 0) throw new VidlmError('ERR_INVALID_ARG', 'a video source must be a path, a URL or a Uint8Array');
    if (url.startsWith('file://')) url = fileURLToPath(url);
    const isUrl = URL_RE.test(url);
    kind = isUrl ? 'url' : /^\/dev\//.test(url) || options.format ? 'device' : 'file';
    if (!isUrl && kind === 'file') {
      const st = await stat(url).catch(() => null);
      if (!st) throw new VidlmError('ERR_VIDEO_OPEN', `cannot open ${display}: no such file`, { source: display, stage: 'open', reason: 'not-found' });
      if (st.isDirectory()) throw new VidlmError('ERR_VIDEO_OPEN', `cannot open ${display}: is a directory`, { source: display, stage: 'open', reason: 'not-media' });
      if (st.size === 0) throw new VidlmError('ERR_VIDEO_OPEN', `cannot open ${display}: empty file`, { source: display, stage: 'open', reason: 'not-media' });
      size = st.size;
    }
  }
  const dict: Record<string, string> = url ? demuxerOptionsFor(url, timeoutS, live) : {};
  for (const [k, v] of Object.entries(options.ffmpegOptions ?? {})) dict[k] = String(v);
  const network = kind === 'device' || (kind === 'url' && isNetworkProtocol(protocolOf(url!)));
  const src = new (native().MediaSource)();
  // a stream protocol (udp, rtsp…) gets a deadline on the whole open: garbage keeps FFmpeg's per-read timeout from firing
  const bound = url !== null && isStreamProtocol(protocolOf(url)) ? deadline(2 * timeoutS * 1000, options.signal) : null;
  try {
    const info = await withAbort(bound?.signal ?? options.signal, (token) => src.open(url ?? (input as Uint8Array), {
      format: options.format,
      options: Object.entries(dict),
      timeoutMs: timeoutS * 1000,
      network,
      maxPixels: options.maxPixels ?? DEFAULT_MAX_PIXELS,
      display,
    }, token));
    return { src, info, display, kind, size };
  } catch (e) {
    await src.close().catch(() => undefined);
    if (bound?.expired()) {
      throw new VidlmError('ERR_VIDEO_TIMEOUT', `cannot open ${display}: no stream could be read from it in ${2 * timeoutS} s (2 × timeout)`, { source: display, stage: 'open', reason: 'deadline' });
    }
    if (e instanceof VidlmError) {
      const details = { source: display, stage: 'open', ...(e.details ?? {}) };
      if (e.code === 'ERR_ABORTED') throw abortError(options.signal);
      throw new VidlmError(e.code, e.message, details, { cause: e.cause });
    }
    throw e;
  } finally {
    bound?.done();
  }
}
