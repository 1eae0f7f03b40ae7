/** Probe: what an opened source contains, from the demuxer's streams (no decoding). */
import { isNoPts, type Beamcoder, type Demuxer, type Stream } from './ffmpeg.js';
import { isNetworkProtocol, protocolOf } from './open.js';
import type { AudioStreamInfo, VideoProbe, VideoStreamInfo } from './types.js';

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

export function readDisplayMatrix(buf: Buffer | undefined): number[] | null {
  if (!buf || buf.length < 36) return null;
  return Array.from({ length: 9 }, (_, i) => buf.readInt32LE(i * 4));
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
  video: Stream | null;
  audio: Stream | null;
  /** Display-matrix filters to apply before scaling. */
  rotateFilters: string[];
  /** Container start time in stream ticks is derived from this (seconds). */
  origin: number;
}

function pickStream(streams: Stream[], type: string): Stream | null {
  const cands = streams.filter((s) => s.codecpar.codec_type === type && !s.disposition?.ATTACHED_PIC);
  return cands.find((s) => s.disposition?.DEFAULT) ?? cands[0] ?? null;
}

export function buildProbe(bc: Beamcoder, dm: Demuxer, display: string, kind: string): ProbeResult {
  const streams = dm.streams as Stream[];
  const fmt = dm.iformat?.name ?? 'unknown';
  const fmtStart = isNoPts(dm.start_time) ? 0 : dm.start_time / 1e6;
  const fmtDuration = isNoPts(dm.duration) || dm.duration < 0 ? 0 : dm.duration / 1e6;
  const vs = pickStream(streams, 'video');
  const as = pickStream(streams, 'audio');
  // t = 0 is the first video frame (audio priming and leading audio get negative times)
  const originStream = vs ?? as;
  const origin = originStream && originStream.start_time !== null && !isNoPts(originStream.start_time)
    ? originStream.start_time * ratio(originStream.time_base)
    : fmtStart;
  const isImage = !!vs && IMAGE_FORMATS.test(fmt);
  const proto = protocolOf(display);
  const isLive = kind === 'device' || (kind === 'url' && isNetworkProtocol(proto) && (!/^https?$/.test(proto) || fmtDuration === 0));
  const streamTimes = (s: Stream): { start: number; duration: number } => {
    const tb = ratio(s.time_base);
    const start = s.start_time !== null && !isNoPts(s.start_time) ? s.start_time * tb - origin : 0;
    const duration = s.duration !== null && !isNoPts(s.duration) && s.duration > 0 ? s.duration * tb : Math.max(0, fmtDuration - start);
    return { start, duration };
  };
  let video: VideoStreamInfo | null = null;
  let rotateFilters: string[] = [];
  if (vs) {
    const cp = vs.codecpar;
    const sideData = vs.side_data as unknown as Record<string, Buffer | string> | null;
    const dmx = readDisplayMatrix(sideData?.displaymatrix as Buffer | undefined);
    const rot = rotationFilters(dmx);
    rotateFilters = rot.filters;
    const sarRaw = (vs.sample_aspect_ratio?.[0] ? vs.sample_aspect_ratio : cp.sample_aspect_ratio) ?? [1, 1];
    const sar: [number, number] = sarRaw[0]! > 0 && sarRaw[1]! > 0 ? [sarRaw[0]!, sarRaw[1]!] : [1, 1];
    const pix = cp.format || 'unknown';
    let bitDepth = cp.bits_per_raw_sample > 0 ? cp.bits_per_raw_sample : 8;
    try {
      const d = bc.pix_fmts()[pix];
      if (d?.comp?.[0]?.depth) bitDepth = d.comp[0].depth;
    } catch { /* keep */ }
    const avgFps = ratio(vs.avg_frame_rate);
    const realFps = ratio(vs.r_frame_rate);
    const { start, duration } = streamTimes(vs);
    const w = cp.width;
    const h = cp.height;
    const swap = rot.rotation === 90 || rot.rotation === 270;
    const dw = Math.round(w * (sar[0] / sar[1]));
    const nb = Number(vs.nb_frames) > 0 ? Number(vs.nb_frames) : null;
    video = {
      streamIndex: vs.index,
      codec: cp.name,
      ...(typeof cp.profile === 'string' && cp.profile ? { profile: cp.profile } : {}),
      pixelFormat: pix,
      bitDepth,
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
      timeBase: [vs.time_base[0]!, vs.time_base[1]!],
    };
  }
  let audio: AudioStreamInfo | null = null;
  if (as) {
    const cp = as.codecpar;
    const { start, duration } = streamTimes(as);
    audio = {
      streamIndex: as.index,
      codec: cp.name,
      sampleRate: cp.sample_rate,
      channels: cp.channels,
      channelLayout: cp.channel_layout || (cp.channels === 1 ? 'mono' : cp.channels === 2 ? 'stereo' : `${cp.channels}c`),
      sampleFormat: cp.format || 'unknown',
      startTime: start,
      duration,
    };
  }
  const bitRate = (dm as unknown as { bit_rate?: number }).bit_rate;
  const probe: VideoProbe = {
    source: display,
    format: fmt,
    duration: isImage ? 0 : Math.max(0, fmtDuration + fmtStart - origin),
    startTime: origin,
    bitRate: bitRate && bitRate > 0 ? bitRate : null,
    isImage,
    isLive,
    video,
    audio,
  };
  return { probe, video: vs, audio: as, rotateFilters, origin };
}
