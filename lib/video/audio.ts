/**
 * The audio track as Float32 PCM: decode, resample and down-mix with swresample (libavfilter's
 * aresample), placed on the timeline by timestamp, optionally cut into windows aligned with
 * frame times (video-SALMONN pairs 0.5 s of audio with each 2 fps frame).
 */
import { VidlmError, abortError } from '../errors.js';
import { isNoPts, type Beamcoder, type Demuxer, type Filterer, type Frame, type Packet, type Stream } from './ffmpeg.js';
import { mapFfmpegError } from './open.js';
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

function layoutFor(channels: number, layout: string | undefined): string {
  if (layout) return layout;
  return channels === 1 ? 'mono' : channels === 2 ? 'stereo' : `${channels} channels`;
}

export async function extractAudio(bc: Beamcoder, dm: Demuxer, stream: Stream, probe: VideoProbe, origin: number, opts: AudioOptions): Promise<AudioClip> {
  const rate = opts.sampleRate ?? 16000;
  const channels = opts.channels ?? 1;
  if (!Number.isInteger(rate) || rate < 1000 || rate > 384000) throw new VidlmError('ERR_INVALID_ARG', `sampleRate must be an integer in [1000, 384000], got ${rate}`);
  if (channels !== 1 && channels !== 2) throw new VidlmError('ERR_INVALID_ARG', `channels must be 1 or 2, got ${String(channels)}`);
  const a = probe.audio!;
  const fullEnd = Math.max(probe.duration, a.startTime + a.duration);
  const [s, e] = opts.segment ?? [0, fullEnd];
  if (!(Number.isFinite(s) && Number.isFinite(e) && e >= s && s >= 0)) throw new VidlmError('ERR_INVALID_ARG', `segment must be [start, end] seconds, got ${JSON.stringify(opts.segment)}`);
  if (opts.window !== undefined && !(opts.window > 0)) throw new VidlmError('ERR_INVALID_ARG', `window must be > 0 seconds, got ${opts.window}`);
  const total = Math.round((e - s) * rate);
  const pcm = new Float32Array(total * channels);
  const tb = stream.time_base[0]! / stream.time_base[1]!;
  const inRate = a.sampleRate;
  const signal = opts.signal;

  // read only this stream
  const saved = (dm.streams as Stream[]).map((st) => st.discard);
  (dm.streams as Stream[]).forEach((st) => { st.discard = st.index === stream.index ? 'default' : 'all'; });
  try {
    const seekTo = Math.max(0, s - 1) + origin; // a second of pre-roll for codecs with priming
    await dm.seek({ stream_index: stream.index, timestamp: Math.floor(seekTo / tb), backward: true }).catch(() => undefined);
    const dec = bc.decoder({ demuxer: dm, stream_index: stream.index });
    let graph: Filterer | null = null;
    let graphKey = '';
    let decodeErrors = 0;
    let anyFrame = false;
    const place = async (frames: Frame[]): Promise<void> => {
      for (const f of frames) {
        if (!(f.nb_samples > 0) || !f.format) continue;
        anyFrame = true;
        const ft = !isNoPts(f.best_effort_timestamp) ? f.best_effort_timestamp : f.pts;
        if (isNoPts(ft)) continue;
        const key = `${f.format}:${f.sample_rate}:${f.channel_layout}:${f.channels}`;
        if (key !== graphKey || !graph) {
          graph = await bc.filterer({
            filterType: 'audio',
            inputParams: [{ timeBase: [1, f.sample_rate || inRate], sampleRate: f.sample_rate || inRate, sampleFormat: f.format, channelLayout: layoutFor(f.channels, f.channel_layout) }],
            outputParams: [{ sampleRate: rate, sampleFormat: 'flt', channelLayout: channels === 1 ? 'mono' : 'stereo' }],
            filterSpec: `aresample=${rate}`,
          });
          graphKey = key;
        }
        f.pts = Math.round(ft * tb * (f.sample_rate || inRate));
        const res = await graph.filter([f]);
        for (const o of res[0]?.frames ?? []) {
          if (!(o.nb_samples > 0)) continue;
          const first = Math.round(o.pts - (s + origin) * rate);
          const data = o.data[0]!;
          const src = new Float32Array(data.buffer, data.byteOffset, o.nb_samples * channels);
          const from = Math.max(0, -first);
          const to = Math.min(o.nb_samples, total - first);
          if (to > from) pcm.set(src.subarray(from * channels, to * channels), (first + from) * channels);
        }
      }
    };
    for (;;) {
      if (signal?.aborted) throw abortError(signal);
      let p: Packet | null;
      try { p = await dm.read(); } catch (err) { throw mapFfmpegError(err, 'read', probe.source); }
      if (!p) break;
      if (p.stream_index !== stream.index) continue;
      const pt = !isNoPts(p.pts) ? p.pts : p.dts;
      if (!isNoPts(pt) && pt * tb - origin > e + 0.5) break;
      try {
        const r = await dec.decode(p);
        await place(r.frames);
      } catch (err) {
        if (err instanceof VidlmError) throw err;
        decodeErrors++;
        if (decodeErrors > 50 && !anyFrame) throw mapFfmpegError(err, 'decode', probe.source);
      }
    }
    try { await place((await dec.flush()).frames); } catch { /* end of a damaged stream */ }
  } finally {
    (dm.streams as Stream[]).forEach((st, i) => { st.discard = saved[i] ?? 'default'; });
  }
  const clip: AudioClip = { t: s, sampleRate: rate, channels, samples: pcm, duration: total / rate };
  if (opts.window !== undefined || opts.windowStarts !== undefined) {
    const length = opts.window ?? 0.5;
    clip.windows = cutWindows(pcm, s, rate, channels, length, opts.windowStarts ?? windowStarts(s, e, length));
  }
  return clip;
}
