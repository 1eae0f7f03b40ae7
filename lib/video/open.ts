/**
 * Opening a source: file path, bytes (read by FFmpeg from memory), URL or capture device, with
 * protocol timeouts and abort; failures come back from the addon as VidlmErrors with stable codes.
 * A stream protocol's open (and a live source's read, live.ts) runs under a deadline (below).
 * The probe (below the open): what an opened source contains, from the demuxer's streams (no
 * decoding); openVideo opens and probes in one go, so both live here.
 */
import { stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { VidlmError, abortError } from '../errors.js';
import { native, withAbort, type NativeMediaInfo, type NativeMediaSource, type NativeStreamInfo } from '../native.js';
import type { AudioStreamInfo, OpenOptions, SubtitleStreamInfo, VideoInput, VideoProbe, VideoStreamInfo } from './types.js';

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
      // a FIFO or socket reads once and never seeks (and a second decoding lane would wait on it for
      // ever); its size says 0, which read as 'empty file'. Devices are opened by /dev/ paths.
      if (!st.isFile()) {
        throw new VidlmError('ERR_VIDEO_OPEN', `cannot open ${display}: not a regular file (a pipe, socket or device): read it into a Buffer and pass that, or pass a device as /dev/… with format`, { source: display, stage: 'open', reason: 'not-media' });
      }
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

/**
 * Opens an input and reads what it holds: openVideo's one call for both (a failed probe closes
 * what was opened).
 */
export async function openProbed(input: VideoInput, options: OpenOptions = {}): Promise<OpenedInput & ProbeResult> {
  const opened = await openInput(input, options);
  try {
    return { ...opened, ...buildProbe(opened.info, opened.display, opened.kind) };
  } catch (e) {
    await opened.src.close().catch(() => undefined);
    throw e;
  }
}

// ── the probe ──

const IMAGE_FORMATS = /^(image2|image2pipe|[a-z0-9]+_pipe)$/;

function ratio(r: number[] | undefined | null): number {
  if (!r || r.length < 2 || !(r[0]! > 0) || !(r[1]! > 0)) return 0;
  return r[0]! / r[1]!;
}

/** av_display_rotation_get(): counter-clockwise degrees, or NaN. */
export function displayMatrixRotation(m: number[]): number {
  const conv = (x: number): number => x / 65536;
  const s0 = Math.hypot(conv(m[0]!), conv(m[3]!));
  const s1 = Math.hypot(conv(m[1]!), conv(m[4]!));
  if (s0 === 0 || s1 === 0) return NaN;
  return -(Math.atan2(conv(m[1]!) / s1, conv(m[0]!) / s0) * 180) / Math.PI;
}

/**
 * The filters the ffmpeg program inserts for a display matrix (fftools/ffmpeg_filter.c,
 * autorotate), and the rotation it implies (0/90/180/270, counter-clockwise, like ffprobe).
 */
export function rotationFilters(m: number[] | null): { filters: string[]; rotation: number; flipped: boolean } {
  if (!m) return { filters: [], rotation: 0, flipped: false };
  const r = displayMatrixRotation(m);
  let theta = Number.isNaN(r) ? 0 : -Math.round(r); // cmdutils.c get_rotation()
  theta -= 360 * Math.floor(theta / 360 + 0.9 / 360);
  const filters: string[] = [];
  if (Math.abs(theta - 90) < 1) filters.push(m[3]! > 0 ? 'transpose=cclock_flip' : 'transpose=clock');
  else if (Math.abs(theta - 180) < 1) {
    if (m[0]! < 0) filters.push('hflip');
    if (m[4]! < 0) filters.push('vflip');
  } else if (Math.abs(theta - 270) < 1) filters.push(m[3]! < 0 ? 'transpose=clock_flip' : 'transpose=cclock');
  else if (Math.abs(theta) > 1) filters.push(`rotate=${theta}*PI/180`);
  else if (m[4]! < 0) filters.push('vflip');
  const rotation = (((Math.round(Number.isNaN(r) ? 0 : r) % 360) + 360) % 360);
  const flipped = m[0]! * m[4]! - m[1]! * m[3]! < 0;
  return { filters, rotation, flipped };
}

export interface ProbeResult {
  probe: VideoProbe;
  video: NativeStreamInfo | null;
  audio: NativeStreamInfo | null;
  /** The video stream's display matrix (null: none, or a still's own EXIF orientation). */
  matrix: number[] | null;
  /** The source's t = 0 in seconds of the stream clock (the first video frame). */
  origin: number;
}

/** A stream that can be decoded: an audio stream needs channels and a sample rate (a WAV header may say 0). */
const usable = (s: NativeStreamInfo): boolean => s.type !== 'audio' || ((s.channels ?? 0) > 0 && (s.sampleRate ?? 0) > 0);

function pickStream(streams: NativeStreamInfo[], type: string): NativeStreamInfo | null {
  const cands = streams.filter((s) => s.type === type && !s.attachedPic && usable(s));
  return cands.find((s) => s.isDefault) ?? cands[0] ?? null;
}

export function buildProbe(info: NativeMediaInfo, display: string, kind: string): ProbeResult {
  const streams = info.streams;
  const fmt = info.format;
  const fmtStart = info.startTime ?? 0;
  const fmtDuration = info.duration !== null && info.duration > 0 ? info.duration : 0;
  const vs = pickStream(streams, 'video');
  const as = pickStream(streams, 'audio');
  // t = 0 is the first video frame (audio priming and leading audio get negative times)
  const originStream = vs ?? as;
  const origin = originStream && originStream.startTime !== null ? originStream.startTime * ratio(originStream.timeBase) : fmtStart;
  const isImage = !!vs && IMAGE_FORMATS.test(fmt);
  const proto = protocolOf(display);
  const isLive = kind === 'device' || (kind === 'url' && isNetworkProtocol(proto) && (!/^https?$/.test(proto) || fmtDuration === 0));
  const streamTimes = (s: NativeStreamInfo): { start: number; duration: number } => {
    const tb = ratio(s.timeBase);
    const start = s.startTime !== null ? s.startTime * tb - origin : 0;
    const duration = s.duration !== null && s.duration > 0 ? s.duration * tb : Math.max(0, fmtDuration - start);
    return { start, duration };
  };
  let video: VideoStreamInfo | null = null;
  let matrix: number[] | null = null;
  if (vs) {
    matrix = vs.displayMatrix ?? null;
    const rot = rotationFilters(matrix);
    const sarRaw = vs.sar ?? [1, 1];
    const sar: [number, number] = sarRaw[0] > 0 && sarRaw[1] > 0 ? [sarRaw[0], sarRaw[1]] : [1, 1];
    const avgFps = ratio(vs.avgFps);
    const realFps = ratio(vs.rFps);
    const { start, duration } = streamTimes(vs);
    const w = vs.width ?? 0;
    const h = vs.height ?? 0;
    const swap = rot.rotation === 90 || rot.rotation === 270;
    const dw = Math.max(1, Math.round(w * (sar[0] / sar[1])));  // as the addon sizes it: a picture keeps a column
    // the container's count, unless it counts more frames than the stream shows: an edit list (an
    // mp4 cut with -ss and -c copy, a phone's trim) hides the frames before the cut, which the
    // file keeps for decoding; the timeline then counts the shown ones (a packet scan)
    const shown = duration > 0 && avgFps > 0 ? duration * avgFps : Infinity;
    const nb = vs.nbFrames > 0 && vs.nbFrames <= shown + 1.5 ? vs.nbFrames : null;
    video = {
      streamIndex: vs.index,
      codec: vs.codec,
      ...(vs.profile ? { profile: vs.profile } : {}),
      pixelFormat: vs.pixFmt || 'unknown',
      bitDepth: vs.bitDepth ?? 8,
      width: w,
      height: h,
      displayWidth: swap ? h : dw,
      displayHeight: swap ? dw : h,
      rotation: rot.rotation,
      flipped: rot.flipped,
      pixelAspect: sar,
      avgFps: avgFps || realFps,
      realFps: realFps || avgFps,
      frameCount: isImage ? 1 : nb,
      vfr: !isImage && avgFps > 0 && realFps > 0 && Math.abs(avgFps - realFps) / realFps > 0.01,
      startTime: start,
      duration: isImage ? 0 : duration,
      timeBase: [vs.timeBase[0], vs.timeBase[1]],
    };
  }
  let audio: AudioStreamInfo | null = null;
  if (as) {
    const { start, duration } = streamTimes(as);
    const channels = as.channels ?? 0;
    audio = {
      streamIndex: as.index,
      codec: as.codec,
      sampleRate: as.sampleRate ?? 0,
      channels,
      channelLayout: as.channelLayout || (channels === 1 ? 'mono' : channels === 2 ? 'stereo' : `${channels}c`),
      sampleFormat: as.sampleFormat || 'unknown',
      startTime: start,
      duration,
    };
  }
  const probe: VideoProbe = {
    source: display,
    format: fmt,
    duration: isImage ? 0 : Math.max(0, fmtDuration + fmtStart - origin),
    startTime: origin,
    bitRate: info.bitRate > 0 ? info.bitRate : null,
    isImage,
    isLive,
    video,
    audio,
    subtitles: streams.filter((s) => s.type === 'subtitle').map((s): SubtitleStreamInfo => ({
      streamIndex: s.index, codec: s.codec, language: s.language ?? null, title: s.title ?? null, isDefault: s.isDefault,
    })),
  };
  return { probe, video: vs, audio: as, matrix, origin };
}
