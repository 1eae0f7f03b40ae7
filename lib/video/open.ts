/**
 * Opening a source: file path, bytes (written to a private temporary file so FFmpeg can seek),
 * URL or capture device; protocol timeouts; FFmpeg errors mapped to stable VidlmError codes.
 */
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VidlmError, abortError, type VidlmErrorCode } from '../errors.js';
import { loadBeamcoder, type Beamcoder, type Demuxer } from './ffmpeg.js';
import type { OpenOptions, VideoInput } from './types.js';

export interface OpenedInput {
  bc: Beamcoder;
  demuxer: Demuxer;
  /** What was opened, for messages. */
  display: string;
  kind: 'file' | 'buffer' | 'url' | 'device';
  /** Removes the temporary file of a buffer source. */
  cleanup(): Promise<void>;
}

const URL_RE = /^([a-z][a-z0-9+.-]*):\/\//i;
const DEFAULT_TIMEOUT_S = 10;

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

/**
 * AVDictionary options for a URL: every option must be consumed by FFmpeg (beamcoder reports
 * leftovers), so protocol-specific ones are set only where the protocol has them.
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

/** Maps a beamcoder/FFmpeg failure to a stable code. */
export function mapFfmpegError(err: unknown, stage: 'open' | 'read' | 'seek' | 'decode' | 'filter', display: string): VidlmError {
  if (err instanceof VidlmError) return err;
  const raw = err instanceof Error ? err.message : String(err);
  const msg = raw.replace(/^In file .*? on line \d+, found error: /, '');
  const lower = msg.toLowerCase();
  let code: VidlmErrorCode;
  let reason: string;
  if (/timed out|timeout|etimedout/.test(lower) || (/input\/output error/.test(lower) && isNetworkProtocol(protocolOf(display)))) {
    code = 'ERR_VIDEO_TIMEOUT';
    reason = 'timeout';
  } else if (stage === 'open') {
    code = 'ERR_VIDEO_OPEN';
    reason = /no such file/.test(lower) ? 'not-found'
      : /invalid data/.test(lower) ? 'not-media'
      : /connection refused|unreachable|resolve|name or service/.test(lower) ? 'unreachable'
      : /permission/.test(lower) ? 'permission'
      : 'open-failed';
  } else {
    code = 'ERR_VIDEO_DECODE';
    reason = stage;
  }
  const what = stage === 'open' ? 'cannot open' : `${stage} failed for`;
  return new VidlmError(code, `${what} ${display}: ${msg}`, { source: display, stage, reason, ffmpeg: msg }, { cause: err });
}

function withTimeout<T>(p: Promise<T>, ms: number, signal: AbortSignal | undefined, onLate: (v: T) => void, timeoutError: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      fn();
    };
    const timer = setTimeout(() => finish(() => reject(timeoutError())), ms);
    const onAbort = (): void => finish(() => reject(abortError(signal)));
    signal?.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => { if (settled) onLate(v); else finish(() => resolve(v)); },
      (e) => finish(() => reject(e)),
    );
  });
}

export async function openInput(input: VideoInput, options: OpenOptions = {}, live = false): Promise<OpenedInput> {
  if (options.signal?.aborted) throw abortError(options.signal);
  const display = describeInput(input);
  const timeoutS = options.timeout ?? DEFAULT_TIMEOUT_S;
  if (!(timeoutS > 0)) throw new VidlmError('ERR_INVALID_ARG', `timeout must be > 0 seconds, got ${timeoutS}`);
  let url: string;
  let kind: OpenedInput['kind'];
  let tmp: string | undefined;
  if (input instanceof Uint8Array) {
    if (input.byteLength === 0) throw new VidlmError('ERR_VIDEO_OPEN', 'cannot open an empty buffer', { source: display, reason: 'empty' });
    tmp = await mkdtemp(join(tmpdir(), 'vidlm-'));
    url = join(tmp, 'input');
    await writeFile(url, input);
    kind = 'buffer';
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
    }
  }
  const cleanup = async (): Promise<void> => {
    if (tmp) { const d = tmp; tmp = undefined; await rm(d, { recursive: true, force: true }); }
  };
  try {
    const bc = await loadBeamcoder();
    const dict: Record<string, string> = { ...demuxerOptionsFor(url, timeoutS, live) };
    for (const [k, v] of Object.entries(options.ffmpegOptions ?? {})) dict[k] = String(v);
    const create: { url: string; options?: Record<string, string>; iformat?: unknown } = { url };
    if (Object.keys(dict).length) create.options = dict;
    if (options.format) {
      const all = bc.demuxers();
      const key = Object.keys(all).find((k) => k.split(',').includes(options.format!));
      if (!key) throw new VidlmError('ERR_VIDEO_OPEN', `unknown input format '${options.format}'`, { source: display, reason: 'format' });
      create.iformat = all[key];
    }
    const opening = bc.demuxer(create as Parameters<Beamcoder['demuxer']>[0] & object);
    const network = kind === 'url' && isNetworkProtocol(protocolOf(url));
    // FFmpeg bounds the wait by the protocol timeouts; this guard also covers protocols without one.
    const demuxer = await withTimeout(
      opening,
      (network || kind === 'device' ? timeoutS : Math.max(timeoutS, 60)) * 1000 + 2000,
      options.signal,
      (late) => late.forceClose(),
      () => new VidlmError('ERR_VIDEO_TIMEOUT', `${display} did not open within ${timeoutS} s`, { source: display, stage: 'open', reason: 'timeout' }),
    ).catch((e: unknown) => { throw mapFfmpegError(e, 'open', display); });
    // FFmpeg holds the temporary file open; on POSIX it can go now, so nothing leaks even if the
    // process dies before close().
    if (kind === 'buffer' && process.platform !== 'win32') await cleanup();
    return { bc, demuxer, display, kind, cleanup };
  } catch (e) {
    await cleanup();
    throw e;
  }
}
