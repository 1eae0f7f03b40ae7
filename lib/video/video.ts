/**
 * openVideo(): an opened source with probe, sampling plans, audio and deterministic close. The
 * audio track's read (extractAudio, at the end) is here beside the source method that runs it.
 */
import { VidlmError, abortError, isVidlmError } from '../errors.js';
import { withAbort, type NativeConvertSpec, type NativeMediaSource, type NativeStreamInfo, type NativeWalkStats } from '../native.js';
import { checkDisplaySize, convertSpec } from './convert.js';
import { decodeThreads, withDecodeLease } from '../threads/index.js';
import { laneUnits, twoLanes, type LaneWalk } from './lanes.js';
import { DEFAULT_MAX_PIXELS, openInput, openProbed, type OpenedInput } from './open.js';
import { indexAtOrAfter, resolvePlan, streamTimeline, type Timeline } from './plans.js';
import { readSubtitles } from './subtitles.js';
import type { AudioClip, AudioOptions, AudioWindow, OpenOptions, SampleOptions, SamplePlan, SampledFrames, SubtitleOptions, SubtitleTrack, VideoFrame, VideoInput, VideoProbe } from './types.js';

/** Work done by sample()/frames(): seeks, packets read and decoded, frames decoded (those freed
 *  before a target included), native walk calls, and walks that used two decoding lanes. */
export interface WalkStats extends NativeWalkStats { calls: number; twoLaneWalks: number }

export function newWalkStats(): WalkStats {
  return { seeks: 0, packetsRead: 0, packetsDecoded: 0, framesDecoded: 0, decodeErrors: 0, calls: 0, twoLaneWalks: 0 };
}

/** Frames the native decoder has decoded in this process, every source together, and the sound
 *  clips and subtitle tracks read: what tests and benchmarks count to tell a decode from a reuse
 *  (the addon's own walk stats, summed). */
export const decoderTotals = { framesDecoded: 0, audioReads: 0, subtitleReads: 0 };

interface FetchContext {
  tl: Timeline;
  tps: number;
  /** The walker's target tick of each frame index to fetch (resolvePlan's `targets`). */
  targets: Map<number, number>;
  warnings: string[];
  spec: NativeConvertSpec;
  options: SampleOptions;
  /** Sources this walk has used: the first call on each starts a fresh walk. */
  started: Set<NativeMediaSource>;
}

/** A native call's error with the source named; ERR_ABORTED carries the signal's reason. */
function videoError(e: unknown, source: string, signal?: AbortSignal): unknown {
  if (!isVidlmError(e)) return e;
  if (e.code === 'ERR_ABORTED') return abortError(signal);
  return new VidlmError(e.code, e.message, { source, ...(e.details ?? {}) }, { cause: e.cause });
}

export class VideoSource {
  private closed = false;
  private lock: Promise<void> = Promise.resolve();
  private tl: Timeline | null = null;
  /** Work done by sample()/frames() so far. */
  readonly stats: WalkStats = newWalkStats();
  /** The warning of the last sample() or frames() walk that finished (a clamped plan), if any. */
  lastWarning: string | undefined;

  /** @internal use openVideo() */
  constructor(
    private readonly src: NativeMediaSource,
    /** What the source contains. */
    readonly probe: VideoProbe,
    private readonly vstream: NativeStreamInfo | null,
    private readonly astream: NativeStreamInfo | null,
    private readonly matrix: number[] | null,
    private readonly origin: number,
    private readonly opts: OpenOptions,
    /** Opens the same file again (local files only), for a second decoding lane. */
    private readonly reopen: (() => Promise<OpenedInput>) | null = null,
  ) {}

  /** Decoder threads from the budget, taken at the first walk without `threads` (a new count would reopen the decoder). */
  private autoThreads: number | undefined;

  get isClosed(): boolean { return this.closed; }

  /** Runs fn with exclusive use of the demuxer (calls on one FFmpeg context must not overlap). */
  private async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const prev = this.lock;
    let release!: () => void;
    this.lock = new Promise<void>((r) => { release = r; });
    await prev;
    try {
      if (this.closed) throw new VidlmError('ERR_DISPOSED', `${this.probe.source} is closed`);
      return await fn();
    } finally {
      release();
    }
  }

  private videoStream(): NativeStreamInfo {
    if (this.closed) throw new VidlmError('ERR_DISPOSED', `${this.probe.source} is closed`);
    if (!this.vstream || !this.probe.video) throw new VidlmError('ERR_VIDEO_NO_STREAM', `${this.probe.source} has no video stream`, { source: this.probe.source });
    if (this.probe.isLive) throw new VidlmError('ERR_UNSUPPORTED', `${this.probe.source} is a live source: use live() to sample it`, { source: this.probe.source });
    return this.vstream;
  }

  /** The frame timeline the plans run on (exact timestamps after a packet scan when needed). */
  async timeline(signal?: AbortSignal): Promise<Timeline> {
    if (this.tl) return this.tl;
    const stream = this.videoStream();
    const v = this.probe.video!;
    const tb = stream.timeBase[0] / stream.timeBase[1];
    // variable frame rate or unknown count: read every packet's timestamp (no decoding)
    this.tl = await streamTimeline({ ...v, isImage: this.probe.isImage }, tb, async () => {
      const { pts, end, untimed = 0 } = await this.exclusive(() => withAbort(signal, (t) => this.src.scan(stream.index, t)).catch((e: unknown) => { throw videoError(e, this.probe.source, signal); }));
      if (pts.length === 0 && untimed > 0) {
        throw new VidlmError('ERR_VIDEO_DECODE', `${this.probe.source}: its ${untimed} video packets carry no timestamps (a raw ${v.codec} stream): put it in a container first, e.g. ffmpeg -r ${v.avgFps || 25} -i in out.mp4`, { source: this.probe.source, stage: 'scan', reason: 'no-timestamps', packets: untimed });
      }
      if (pts.length === 0) throw new VidlmError('ERR_VIDEO_EMPTY', `${this.probe.source} has a video stream without frames`, { source: this.probe.source });
      v.frameCount = pts.length;
      if (pts.length > 2) {
        let min = Infinity;
        let max = -Infinity;
        for (let i = 1; i < pts.length; i++) { const d = pts[i]! - pts[i - 1]!; if (d < min) min = d; if (d > max) max = d; }
        v.vfr = max - min > Math.max(2, 0.02 * max);
      }
      return { times: Array.from(pts, (p) => p * tb - this.origin), end: end * tb - this.origin };
    });
    return this.tl;
  }

  /** Every packet of the video stream, read without decoding: time (seconds), bytes, keyframe flag (lib/reduce/codec-plan.ts). */
  async packets(signal?: AbortSignal): Promise<{ t: Float64Array; size: Float64Array; key: Uint8Array }> {
    const stream = this.videoStream();
    const tb = stream.timeBase[0] / stream.timeBase[1];
    const r = await this.exclusive(() => withAbort(signal, (t) => this.src.scan(stream.index, t)).catch((e: unknown) => { throw videoError(e, this.probe.source, signal); }));
    return { t: r.pts.map((p) => p * tb - this.origin), size: r.sizes ?? new Float64Array(r.pts.length), key: r.keys ?? new Uint8Array(r.pts.length) };
  }

  /**
   * Decodes the frames a plan selects, in plan order, as RGB24 at the requested size.
   * A plan asking for more frames than exist is clamped and `warning` says so.
   */
  async sample(plan: SamplePlan, options: SampleOptions = {}): Promise<SampledFrames> {
    const frames: VideoFrame[] = [];
    const it = this.iterate(plan, options);
    let meta: { warning?: string; targets: number[] } = { targets: [] };
    for (;;) {
      const r = await it.next();
      if (r.done) { meta = r.value; break; }
      frames.push(r.value);
    }
    const out = frames as SampledFrames;
    out.targets = meta.targets;
    if (meta.warning) out.warning = meta.warning;
    return out;
  }

  /** Same frames as sample(), one at a time, so a long plan never holds every frame in memory. */
  async *frames(plan: SamplePlan, options: SampleOptions = {}): AsyncGenerator<VideoFrame, void> {
    yield* this.iterate(plan, options);
  }

  private async *iterate(plan: SamplePlan, options: SampleOptions): AsyncGenerator<VideoFrame, { warning?: string; targets: number[] }> {
    const signal = options.signal;
    if (signal?.aborted) throw abortError(signal);
    const stream = this.videoStream();
    if (options.strategy !== undefined && !['auto', 'seek', 'sequential'].includes(options.strategy)) {
      throw new VidlmError('ERR_INVALID_ARG', `strategy must be auto, seek or sequential, got '${String(options.strategy)}'`);
    }
    const spec = convertSpec(options, this.matrix);
    const v = this.probe.video!;
    checkDisplaySize(spec, v, this.opts.maxPixels ?? DEFAULT_MAX_PIXELS, this.probe.source);
    const tl = await this.timeline(signal);
    const tps = stream.timeBase[1] / stream.timeBase[0];
    const resolved = resolvePlan(plan, tl, v.avgFps, { ticksPerSecond: tps, origin: this.origin });
    // distinct frames to fetch, ascending
    const wanted = [...new Set(resolved.frames.map((f) => f.index))].sort((a, b) => a - b);
    const warnings: string[] = resolved.warning ? [resolved.warning] : [];
    const ctx: FetchContext = { tl, tps, targets: resolved.targets!, warnings, spec, options, started: new Set() };
    const order = resolved.frames;
    const sortedPlan = order.every((f, k) => k === 0 || f.index >= order[k - 1]!.index);
    const prev = this.lock;
    let release!: () => void;
    this.lock = new Promise<void>((r) => { release = r; });
    await prev;
    let lanes: LaneWalk | undefined;
    try {
      // without `threads`, the decoder's threads come from the process's budget (lib/threads)
      const threads = this.opts.threads ?? (this.autoThreads ??= await decodeThreads());
      if (this.closed) throw new VidlmError('ERR_DISPOSED', `${this.probe.source} is closed`);
      // frames come out in index order; the plan's order may repeat or (times plans) go backwards
      let next: (idx: number) => Promise<VideoFrame>;
      const byIndex = new Map<number, VideoFrame>();
      const fetch = this.opts.threads === undefined
        ? (src: NativeMediaSource, idx: number, n: number, s?: AbortSignal) => withDecodeLease(() => this.fetchFrame(src, stream, idx, ctx, n, s), s)
        : (src: NativeMediaSource, idx: number, n: number, s?: AbortSignal) => this.fetchFrame(src, stream, idx, ctx, n, s);
      // lanes as before the budget (its leases make two lanes take turns where one thread is free)
      const units = laneUnits(wanted, tl, options, this.reopen !== null, this.opts.threads);
      if (units) {
        lanes = await twoLanes(units, {
          first: this.src, reopen: this.reopen!, threads: this.opts.threads ?? Math.max(1, Math.floor(threads / 2)), signal, fetch,
        });
        this.stats.twoLaneWalks++;
        next = lanes.get;
      } else {
        let k = 0;
        next = async (idx) => {
          // one lane fetches in ascending order: fetch up to idx, keeping what a later entry reuses
          while (!byIndex.has(idx) && k < wanted.length) {
            const w = wanted[k++]!;
            byIndex.set(w, await fetch(this.src, w, threads, signal));
          }
          return byIndex.get(idx)!;
        };
      }
      let lastIdx = -1;
      for (const f of order) {
        if (signal?.aborted) throw abortError(signal);
        const vf = await next(f.index);
        // a sorted plan never needs a frame again once it moved past it
        if (sortedPlan && f.index !== lastIdx) {
          for (const key of byIndex.keys()) if (key < f.index) byIndex.delete(key);
          if (lastIdx >= 0) lanes?.forget(lastIdx);
        }
        lastIdx = f.index;
        yield vf;
        if (this.closed) throw new VidlmError('ERR_DISPOSED', `${this.probe.source} was closed during iteration`);
      }
    } finally {
      await lanes?.settle();
      release();
    }
    const meta: { warning?: string; targets: number[] } = { targets: resolved.frames.map((f) => f.t) };
    if (warnings.length) meta.warning = warnings.join('; ');
    this.lastWarning = meta.warning;
    return meta;
  }

  /** Decodes and converts frame `idx` (at or after its time) on `src`. */
  private async fetchFrame(src: NativeMediaSource, stream: NativeStreamInfo, idx: number, ctx: FetchContext, threads: number, signal?: AbortSignal): Promise<VideoFrame> {
    const { tl, tps, warnings } = ctx;
    const v = this.probe.video!;
    const target = ctx.targets.get(idx)!;
    this.stats.calls++;
    const fresh = !ctx.started.has(src);
    ctx.started.add(src);
    const r = await withAbort(signal, (t) => src.walk(stream.index, [target], ctx.spec, { threads, strategy: ctx.options.strategy ?? 'auto', fresh }, t))
      .catch((e: unknown) => { throw videoError(e, this.probe.source, signal); });
    for (const k of ['seeks', 'packetsRead', 'packetsDecoded', 'framesDecoded', 'decodeErrors'] as const) this.stats[k] += r.stats[k];
    decoderTotals.framesDecoded += r.stats.framesDecoded;
    const hit = r.frames[0];
    if (!hit) throw new VidlmError('ERR_VIDEO_DECODE', `${this.probe.source}: no frame could be decoded`, { source: this.probe.source, stage: 'decode', reason: 'no-frames', ...r.stats });
    const t = hit.t / tps - this.origin;
    if (hit.clamped) {
      // the timeline promised this frame but the file ended first
      if (idx < tl.n - 2 && !this.probe.isImage) {
        throw new VidlmError('ERR_VIDEO_DECODE', `${this.probe.source} ends at ${t.toFixed(3)} s but frame ${idx} should be at ${tl.time(idx).toFixed(3)} s (truncated or corrupt file)`, { source: this.probe.source, stage: 'decode', reason: 'truncated', lastTime: t, expectedTime: tl.time(idx) });
      }
      warnings.push(`frame ${idx} is missing at the end of the file; returning the last frame`);
    }
    const index = tl.exact ? Math.min(tl.n - 1, indexAtOrAfter(tl, t, 1e-6)) : Math.max(0, Math.round((t - v.startTime) * v.avgFps));
    const rgb = new Uint8Array(hit.rgb.buffer, hit.rgb.byteOffset, hit.rgb.byteLength);
    return { index: this.probe.isImage ? 0 : index, t: this.probe.isImage ? 0 : t, width: hit.width, height: hit.height, rgb };
  }

  /** The audio track as Float32 PCM (resampled by swresample), optionally cut into windows. */
  async audio(options: AudioOptions = {}): Promise<AudioClip> {
    if (this.closed) throw new VidlmError('ERR_DISPOSED', `${this.probe.source} is closed`);
    if (!this.astream || !this.probe.audio) throw new VidlmError('ERR_VIDEO_NO_STREAM', `${this.probe.source} has no audio stream`, { source: this.probe.source });
    if (this.probe.isLive) throw new VidlmError('ERR_UNSUPPORTED', `${this.probe.source} is a live source`, { source: this.probe.source });
    const astream = this.astream;
    decoderTotals.audioReads++;
    return this.exclusive(() => extractAudio(this.src, astream, this.probe, this.origin, options).catch((e: unknown) => { throw videoError(e, this.probe.source, options.signal); }));
  }

  /** A text subtitle track's cues (FFmpeg's subtitle decoders), on the same timeline as frames. */
  async subtitles(options: SubtitleOptions = {}): Promise<SubtitleTrack> {
    if (this.closed) throw new VidlmError('ERR_DISPOSED', `${this.probe.source} is closed`);
    if (this.probe.subtitles.length > 0) decoderTotals.subtitleReads++;
    return this.exclusive(() => readSubtitles(this.src, this.probe.subtitles, options.track, this.origin, this.probe.source, options.signal).catch((e: unknown) => { throw videoError(e, this.probe.source, options.signal); }));
  }

  /** Frees FFmpeg's contexts: at once when idle, else as soon as the running call returns
   *  (which close() interrupts). A frames() loop parked at a yield ends with ERR_DISPOSED. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.src.close();
  }

  async [Symbol.asyncDispose](): Promise<void> { await this.close(); }
}

/** Opens a file path, URL or the bytes of a media file. Images open as one-frame sources. */
export async function openVideo(input: VideoInput, options: OpenOptions = {}): Promise<VideoSource> {
  const opened = await openProbed(input, options);
  let ok = false;
  try {
    const { probe, video, audio, matrix, origin } = opened;
    if (!video && !(options.allowAudioOnly && audio)) {
      throw new VidlmError('ERR_VIDEO_NO_STREAM', `${opened.display} has no video stream${audio ? ' (it has audio: pass allowAudioOnly to open it)' : options.allowAudioOnly ? ' nor an audio stream with channels and a sample rate' : ''}`, { source: opened.display, hasAudio: !!audio });
    }
    const pv = probe.video;
    if (video && pv && !probe.isImage && !probe.isLive && probe.duration === 0 && (pv.frameCount ?? 0) === 0 && pv.duration === 0) {
      // no duration and no frame count: is there any packet at all?
      const found = await withAbort(options.signal, (t) => opened.src.hasPacket(video.index, t)).catch(() => false);
      if (!found) throw new VidlmError('ERR_VIDEO_EMPTY', `${opened.display} has a video stream with no frames (zero duration)`, { source: opened.display });
    }
    if (video && pv && pv.frameCount === 0) {
      throw new VidlmError('ERR_VIDEO_EMPTY', `${opened.display} has a video stream with no frames`, { source: opened.display });
    }
    if (video && pv && !probe.isLive && (pv.width <= 0 || pv.height <= 0)) {
      // FFmpeg learns a picture size by decoding: a codec without a decoder here (Sorenson H.263 in an old FLV) has none
      if (video.decodable === false) {
        throw new VidlmError('ERR_VIDEO_DECODE', `${opened.display}: vidlm's FFmpeg has no decoder for ${pv.codec} video`, { source: opened.display, reason: 'unsupported-codec', codec: pv.codec });
      }
      throw new VidlmError('ERR_VIDEO_DECODE', `${opened.display}: the video stream has no picture size (unsupported or corrupt)`, { source: opened.display, codec: pv.codec });
    }
    if (pv && pv.frameCount !== null && opened.size !== null && pv.frameCount > opened.size) {
      // a frame takes at least a byte: the header lies (a damaged or hostile file)
      throw new VidlmError('ERR_VIDEO_DECODE', `${opened.display} declares ${pv.frameCount} frames in ${opened.size} bytes (corrupt header)`, { source: opened.display, reason: 'implausible-header', frameCount: pv.frameCount, bytes: opened.size });
    }
    const path = typeof input === 'string' && opened.kind === 'file' ? input : null;
    const reopen = path ? () => openInput(path, { ...options, signal: undefined }) : null;
    const src = new VideoSource(opened.src, probe, video, audio, matrix, origin, options, reopen);
    ok = true;
    return src;
  } finally {
    if (!ok) await opened.src.close().catch(() => undefined);
  }
}

/** Opens, probes and closes. Audio-only files are accepted. */
export async function probeVideo(input: VideoInput, options: OpenOptions = {}): Promise<VideoProbe> {
  const src = await openVideo(input, { allowAudioOnly: true, ...options });
  try {
    return src.probe;
  } finally {
    await src.close();
  }
}

/**
 * Audio. The audio track as Float32 PCM: decoded, resampled and down-mixed with swresample in the addon
 * (native/video/audio.cpp), placed on the timeline by timestamp, optionally cut into windows aligned with
 * frame times (video-SALMONN pairs 0.5 s of audio with each 2 fps frame).
 */
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
