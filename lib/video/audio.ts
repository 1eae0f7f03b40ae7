/**
 * The audio track as Float32 PCM: decoded, resampled and down-mixed with swresample in the addon
 * (native/video/audio.cpp), placed on the timeline by timestamp, optionally cut into windows aligned with
 * frame times (video-SALMONN pairs 0.5 s of audio with each 2 fps frame).
 */
import { VidlmError } from '../errors.js';
import { withAbort, type NativeMediaSource, type NativeStreamInfo } from '../native.js';
import type { AudioClip, AudioOptions, AudioWindow, VideoProbe } from './types.js';

/** Cuts interleaved PCM into windows; views into `pcm` where the window lies inside it. */
export function cutWindows(pcm: Float32Array, t0: number, rate: number, channels: number, length: number, starts: number[]): AudioWindow[] {
  const n = Math.round(length * rate);
  const total = pcm.length / channels;
  return starts.map((t, index) => {
    const first = Math.round((t - t0) * rate);
    if (first >= 0 && first + n <= total) return { index, t, samples: pcm.subarray(first * channels, (first + n) * channels) };
    const samples = new Float32Array(n * channels);
    const from = Math.max(0, first);
    const to = Math.min(total, first + n);
    if (to > from) samples.set(pcm.subarray(from * channels, to * channels), (from - first) * channels);
    return { index, t, samples };
  });
}

/** Default window starts: start + k * length while < end. */
export function windowStarts(start: number, end: number, length: number): number[] {
  const out: number[] = [];
  for (let k = 0; start + k * length < end - 1e-9; k++) out.push(start + k * length);
  return out;
}

export async function extractAudio(src: NativeMediaSource, stream: NativeStreamInfo, probe: VideoProbe, origin: number, opts: AudioOptions): Promise<AudioClip> {
  const rate = opts.sampleRate ?? 16000;
  const channels = opts.channels ?? 1;
  if (!Number.isInteger(rate) || rate < 1000 || rate > 384000) throw new VidlmError('ERR_INVALID_ARG', `sampleRate must be an integer in [1000, 384000], got ${rate}`);
  if (channels !== 1 && channels !== 2) throw new VidlmError('ERR_INVALID_ARG', `channels must be 1 or 2, got ${String(channels)}`);
  const a = probe.audio!;
  const fullEnd = Math.max(probe.duration, a.startTime + a.duration);
  const [s, e] = opts.segment ?? [0, fullEnd];
  if (!(Number.isFinite(s) && Number.isFinite(e) && e >= s && s >= 0)) throw new VidlmError('ERR_INVALID_ARG', `segment must be [start, end] seconds, got ${JSON.stringify(opts.segment)}`);
  if (opts.window !== undefined && !(opts.window > 0)) throw new VidlmError('ERR_INVALID_ARG', `window must be > 0 seconds, got ${opts.window}`);
  if ((e - s) * rate * channels > 2 ** 31) throw new VidlmError('ERR_INVALID_ARG', `segment of ${e - s} s at ${rate} Hz is too long for one clip: use a shorter segment`);
  const pcm = await withAbort(opts.signal, (t) => src.audio(stream.index, { start: s, end: e, origin, rate, channels }, t));
  const total = Math.round((e - s) * rate);
  const clip: AudioClip = { t: s, sampleRate: rate, channels, samples: pcm, duration: total / rate };
  if (opts.window !== undefined || opts.windowStarts !== undefined) {
    const length = opts.window ?? 0.5;
    clip.windows = cutWindows(pcm, s, rate, channels, length, opts.windowStarts ?? windowStarts(s, e, length));
  }
  return clip;
}
