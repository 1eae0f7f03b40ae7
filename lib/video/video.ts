/** openVideo(): an opened source with probe, sampling plans, audio and deterministic close. */
import { VidlmError, abortError } from '../errors.js';
import { extractAudio } from './audio.js';
import { FrameConverter, parseSize } from './convert.js';
import { VideoWalker, scanPacketTimes, type WalkStats } from './decode.js';
import type { Beamcoder, Demuxer, Frame, Stream } from './ffmpeg.js';
import { openInput } from './open.js';
import { cfrTimeline, indexAtOrAfter, listTimeline, resolvePlan, type Timeline } from './plans.js';
import { buildProbe } from './probe.js';
import type { AudioClip, AudioOptions, OpenOptions, SampleOptions, SamplePlan, SampledFrames, VideoFrame, VideoInput, VideoProbe } from './types.js';

export class VideoSource {
  private closed = false;
  private lock: Promise<void> = Promise.resolve();
  private tl: Timeline | null = null;
  /** The walker of a frames() generator that is suspended at a yield (no FFmpeg call of its own in flight). */
  private suspended: VideoWalker | null = null;
  /** Work done by sample()/frames() so far: seeks, packets read and decoded, frames decoded. */
  readonly stats: WalkStats = { seeks: 0, packetsRead: 0, packetsDecoded: 0, framesDecoded: 0, decodeErrors: 0 };

  /** @internal use openVideo() */
  constructor(
    private readonly bc: Beamcoder,
    private readonly dm: Demuxer,
    /** What the source contains. */
    readonly probe: VideoProbe,
    private readonly vstream: Stream | null,
    private readonly astream: Stream | null,
    private readonly rotate: string[],
    private readonly origin: number,
    private readonly opts: OpenOptions,
    private readonly cleanup: () => Promise<void>,
  ) {}

  get isClosed(): boolean { return this.closed; }

  /** Runs fn with exclusive use of the demuxer (beamcoder calls on one context must not overlap). */
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

  private videoStream(): Stream {
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
    if (this.probe.isImage) return (this.tl = listTimeline([0], 0));
    if (v.frameCount !== null && !v.vfr && v.avgFps > 0) return (this.tl = cfrTimeline(v.frameCount, v.avgFps, v.startTime, stream.time_base[0]! / stream.time_base[1]!));
    // variable frame rate or unknown count: read every packet's timestamp (no decoding)
    const tb = stream.time_base[0]! / stream.time_base[1]!;
    const { pts, end } = await this.exclusive(() => scanPacketTimes(this.dm, stream, this.probe.source, signal));
    if (pts.length === 0) throw new VidlmError('ERR_VIDEO_EMPTY', `${this.probe.source} has a video stream without frames`, { source: this.probe.source });
    const times = pts.map((p) => p * tb - this.origin);
    this.tl = listTimeline(times, end * tb - this.origin);
    v.frameCount = pts.length;
    if (pts.length > 2) {
      const d = pts.slice(1).map((p, i) => p - pts[i]!);
      const min = Math.min(...d);
      const max = Math.max(...d);
      v.vfr = max - min > Math.max(2, 0.02 * max);
    }
    return this.tl;
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
    const size = parseSize(options.size);
    const tl = await this.timeline(signal);
    const v = this.probe.video!;
    const resolved = resolvePlan(plan, tl, v.avgFps);
    const tps = stream.time_base[1]! / stream.time_base[0]!;
    const tol = tl.exact ? 1e-6 : tl.frameDuration / 2;
    // distinct frames to fetch, ascending
    const wanted = [...new Set(resolved.frames.map((f) => f.index))].sort((a, b) => a - b);
    const prev = this.lock;
    let release!: () => void;
    this.lock = new Promise<void>((r) => { release = r; });
    await prev;
    const warnings: string[] = resolved.warning ? [resolved.warning] : [];
    let walkerRef: VideoWalker | undefined;
    try {
      if (this.closed) throw new VidlmError('ERR_DISPOSED', `${this.probe.source} is closed`);
      // the demuxer skips the other streams' packets while video is sampled
      for (const st of this.dm.streams as Stream[]) if (st.index !== stream.index) st.discard = 'all';
      const walker = new VideoWalker(this.bc, this.dm, stream, { threads: this.opts.threads, strategy: options.strategy, display: this.probe.source, signal, stats: this.stats });
      walkerRef = walker;
      const conv = new FrameConverter(this.bc, { rotate: this.rotate, size, fit: options.fit, padColor: options.padColor, scaler: options.scaler, timeBase: [stream.time_base[0]!, stream.time_base[1]!] });
      // frames come out in index order; the plan's order may repeat or (times plans) go backwards
      const byIndex = new Map<number, VideoFrame>();
      const order = resolved.frames;
      let emitted = 0;
      const firstUse = new Map<number, number>();
      order.forEach((f, k) => { if (!firstUse.has(f.index)) firstUse.set(f.index, k); });
      const sortedPlan = order.every((f, k) => k === 0 || f.index >= order[k - 1]!.index);
      const convertCache = new Map<number, VideoFrame>();
      for (const idx of wanted) {
        if (signal?.aborted) throw abortError(signal);
        const minT = tl.time(idx) - tol;
        const target = Math.floor((minT + this.origin) * tps + 1e-6);
        const hit = await walker.frameAt(target);
        if (!hit) throw new VidlmError('ERR_VIDEO_DECODE', `${this.probe.source}: no frame could be decoded`, { source: this.probe.source, stage: 'decode', reason: 'no-frames', ...walker.stats });
        const t = hit.t / tps - this.origin;
        if (hit.clamped) {
          // the timeline promised this frame but the file ended first
          if (idx < tl.n - 2 && !this.probe.isImage) {
            throw new VidlmError('ERR_VIDEO_DECODE', `${this.probe.source} ends at ${t.toFixed(3)} s but frame ${idx} should be at ${tl.time(idx).toFixed(3)} s (truncated or corrupt file)`, { source: this.probe.source, stage: 'decode', reason: 'truncated', lastTime: t, expectedTime: tl.time(idx) });
          }
          warnings.push(`frame ${idx} is missing at the end of the file; returning the last frame`);
        }
        let vf = convertCache.get(hit.t);
        if (!vf) {
          const pic = await conv.convert(hit.f as Frame);
          const index = tl.exact ? Math.min(tl.n - 1, indexAtOrAfter(tl, t, 1e-6)) : Math.max(0, Math.round((t - v.startTime) * v.avgFps));
          vf = { index: this.probe.isImage ? 0 : index, t: this.probe.isImage ? 0 : t, width: pic.width, height: pic.height, rgb: pic.rgb };
          convertCache.clear();
          convertCache.set(hit.t, vf);
        }
        if (sortedPlan) {
          // stream: yield every plan entry that uses this index
          while (emitted < order.length && order[emitted]!.index === idx) {
            this.suspended = walker;
            yield vf;
            this.suspended = null;
            if (this.closed) throw new VidlmError('ERR_DISPOSED', `${this.probe.source} was closed during iteration`);
            emitted++;
          }
        } else {
          byIndex.set(idx, vf);
        }
      }
      if (!sortedPlan) {
        for (const f of order) {
          this.suspended = walker;
          yield byIndex.get(f.index)!;
          this.suspended = null;
          if (this.closed) throw new VidlmError('ERR_DISPOSED', `${this.probe.source} was closed during iteration`);
          emitted++;
        }
      }
    } finally {
      this.suspended = null;
      await walkerRef?.settle();
      if (!this.closed) for (const st of this.dm.streams as Stream[]) st.discard = 'default';
      release();
    }
    const meta: { warning?: string; targets: number[] } = { targets: resolved.frames.map((f) => f.t) };
    if (warnings.length) meta.warning = warnings.join('; ');
    return meta;
  }

  /** The audio track as Float32 PCM (resampled by swresample), optionally cut into windows. */
  async audio(options: AudioOptions = {}): Promise<AudioClip> {
    if (this.closed) throw new VidlmError('ERR_DISPOSED', `${this.probe.source} is closed`);
    if (!this.astream || !this.probe.audio) throw new VidlmError('ERR_VIDEO_NO_STREAM', `${this.probe.source} has no audio stream`, { source: this.probe.source });
    if (this.probe.isLive) throw new VidlmError('ERR_UNSUPPORTED', `${this.probe.source} is a live source`, { source: this.probe.source });
    const astream = this.astream;
    return this.exclusive(() => extractAudio(this.bc, this.dm, astream, this.probe, this.origin, options));
  }

  /** Frees the FFmpeg contexts now (decoders and graphs go with the garbage collector). */
  async close(): Promise<void> {
    if (this.closed) return;
    const paused = this.suspended;
    if (paused) {
      // a frames() loop is parked at a yield and holds the lock: nothing but its read-ahead is
      // running, so wait for that and close now (the loop ends with ERR_DISPOSED if resumed)
      this.closed = true;
      await paused.settle();
      this.dm.forceClose();
      await this.cleanup();
      return;
    }
    // wait for running calls: closing under an in-flight read would free memory FFmpeg uses
    const prev = this.lock;
    let release!: () => void;
    this.lock = new Promise<void>((r) => { release = r; });
    await prev.catch(() => undefined);
    try {
      if (this.closed) return;
      this.closed = true;
      this.dm.forceClose();
      await this.cleanup();
    } finally {
      release();
    }
  }

  async [Symbol.asyncDispose](): Promise<void> { await this.close(); }
}

/** Opens a file path, URL or the bytes of a media file. Images open as one-frame sources. */
export async function openVideo(input: VideoInput, options: OpenOptions = {}): Promise<VideoSource> {
  const opened = await openInput(input, options);
  let ok = false;
  try {
    const { probe, video, audio, rotateFilters, origin } = buildProbe(opened.bc, opened.demuxer, opened.display, opened.kind);
    if (!video && !(options.allowAudioOnly && audio)) {
      throw new VidlmError('ERR_VIDEO_NO_STREAM', `${opened.display} has no video stream${audio ? ' (it has audio: pass allowAudioOnly to open it)' : ''}`, { source: opened.display, hasAudio: !!audio });
    }
    if (video && probe.video && !probe.isImage && !probe.isLive && probe.duration === 0 && (probe.video.frameCount ?? 0) === 0 && probe.video.duration === 0) {
      // no duration and no frame count: is there any packet at all?
      const first = await opened.demuxer.read().catch(() => null);
      let found = false;
      for (let p = first, k = 0; p && k < 1000; p = await opened.demuxer.read().catch(() => null), k++) {
        if (p.stream_index === video.index) { found = true; break; }
      }
      if (!found) throw new VidlmError('ERR_VIDEO_EMPTY', `${opened.display} has a video stream with no frames (zero duration)`, { source: opened.display });
      await opened.demuxer.seek({ stream_index: video.index, timestamp: 0, backward: true }).catch(() => undefined);
    }
    if (video && probe.video && probe.video.frameCount === 0) {
      throw new VidlmError('ERR_VIDEO_EMPTY', `${opened.display} has a video stream with no frames`, { source: opened.display });
    }
    if (video && probe.video && !probe.isLive && (probe.video.width <= 0 || probe.video.height <= 0)) {
      throw new VidlmError('ERR_VIDEO_DECODE', `${opened.display}: the video stream has no picture size (unsupported or corrupt)`, { source: opened.display, codec: probe.video.codec });
    }
    const src = new VideoSource(opened.bc, opened.demuxer, probe, video, audio, rotateFilters, origin, options, opened.cleanup);
    ok = true;
    return src;
  } finally {
    if (!ok) {
      opened.demuxer.forceClose();
      await opened.cleanup();
    }
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
