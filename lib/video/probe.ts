/** Probe: what an opened source contains, from the demuxer's streams (no decoding). */
import type { NativeMediaInfo, NativeStreamInfo } from '../native.js';
import { isNetworkProtocol, protocolOf } from './open.js';
import type { AudioStreamInfo, SubtitleStreamInfo, VideoProbe, VideoStreamInfo } from './types.js';

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
    const dw = Math.round(w * (sar[0] / sar[1]));
    const nb = vs.nbFrames > 0 ? vs.nbFrames : null;
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
