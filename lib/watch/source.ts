/**
 * What watch() reads: frames on one timeline (seconds from the first frame), from a file
 * (openVideo, at its own pace or as fast as it is read) or a live stream (live(), whose retry
 * logic reconnects; a new connection becomes a `reconnect` item instead of an error, a clock
 * that starts over or jumps a `discontinuity` item, the watch time going on). A watch
 * that only hears (a model without a vision encoder) reads no pictures: the feed gives ticks,
 * frames without pixels at the same times, so windows fall due as they would with pictures.
 */
import { VidlmError, throwIfAborted } from '../errors.js';
import { live, type LiveStream } from '../video/live.js';
import { openVideo } from '../video/video.js';
import type { FitMode, FpsRule, LiveFrame, OpenOptions, VideoInput } from '../video/types.js';
import type { LiveAudioClip } from '../video/live-audio.js';

export interface WatchFrame {
  /** Seconds on the watch timeline: 0 at the first frame, monotonic across reconnects. */
  t: number;
  /** The source's own timestamp (seconds). */
  streamTime: number;
  /** Date.now() when the frame was decoded (for a paced file: when it was due). */
  wallTime: number;
  width: number;
  height: number;
  /** Empty for a tick (no picture decoded: a watch that only hears). */
  rgb: Uint8Array;
  /** A live source read with sound: set while its sound has stalled and its pictures go on. */
  audioStalled?: true;
}

export type FeedItem =
  | { kind: 'frame'; frame: WatchFrame }
  | { kind: 'reconnect'; connection: number; reason?: string; audioSecondsDuringStall?: number }
  /** The next frame starts a new stretch of the source's clock (live(): re-based onto the wall clock). */
  | { kind: 'discontinuity'; streamFrom: number; streamTo: number };

export interface Feed {
  /** The next item; null at the end of a file (a live source ends only when closed). */
  next(): Promise<FeedItem | null>;
  /** A live source read with `audio`: its sound of [from, to) on the watch timeline (null: none read). */
  audio?(from: number, to: number): LiveAudioClip | null;
  close(): Promise<void>;
  readonly isLive: boolean;
}

export interface FeedOptions {
  fps: number;
  /** A file's fps rule (lib/video/plans.ts); live() samples by time. */
  fpsRule?: FpsRule;
  size: [number, number];
  fit: FitMode;
  /** Seconds of frames live() keeps for a consumer that falls behind. */
  keep: number;
  realtime: boolean;
  live: boolean;
  timeout?: number;
  retries?: number;
  backoff?: number;
  maxBackoff?: number;
  maxJump?: number;
  format?: OpenOptions['format'];
  ffmpegOptions?: OpenOptions['ffmpegOptions'];
  signal: AbortSignal;
  /** false: decode no pictures (a model that only hears); the feed gives ticks at `fps`. */
  pictures?: boolean;
  /** A live source: also read its sound, mono at this rate (live()'s `audio`). */
  audioRate?: number;
}

/** Network URLs are live sources; paths, file: URLs and bytes are files. */
export function isLiveInput(input: VideoInput): boolean {
  const s = input instanceof URL ? input.href : typeof input === 'string' ? input : null;
  if (s === null) return false;
  const m = /^([a-z][a-z0-9+.-]*):/i.exec(s);
  return m !== null && m[1]!.length > 1 && m[1]!.toLowerCase() !== 'file';
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal.aborted) return resolve();
    const done = (): void => { clearTimeout(t); signal.removeEventListener('abort', done); resolve(); };
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

export async function openFeed(input: VideoInput, o: FeedOptions): Promise<Feed> {
  if (o.pictures === false) {
    if (o.live) throw new VidlmError('ERR_UNSUPPORTED', "live() reads a stream's pictures only: a watch that only hears (a model without a vision encoder) needs a file", { option: 'source' });
    return tickFeed(input, o);
  }
  return o.live ? liveFeed(input, o) : fileFeed(input, o);
}

/** Releases `t` (seconds from the first item) when a stream would show it, when playing in real time. */
function pacer(o: FeedOptions): (t: number) => Promise<void> {
  let started: number | null = null;
  return async (t) => {
    started ??= Date.now() - t * 1000;
    if (o.realtime) await sleep(started + t * 1000 - Date.now(), o.signal);
    throwIfAborted(o.signal);
  };
}

/** A file read for its sound alone: ticks every 1/fps seconds up to its length, on its own timeline. */
async function tickFeed(input: VideoInput, o: FeedOptions): Promise<Feed> {
  const source = await openVideo(input, { signal: o.signal, format: o.format, ffmpegOptions: o.ffmpegOptions, allowAudioOnly: true });
  const duration = source.probe.duration;
  await source.close();
  if (!(duration > 0)) throw new VidlmError('ERR_VIDEO_EMPTY', 'the file has no length to listen to', { option: 'source' });
  const pace = pacer(o);
  let k = 0;
  return {
    isLive: false,
    async next() {
      throwIfAborted(o.signal);
      const t = k / o.fps;
      if (t >= duration - 1e-9) return null;
      k++;
      await pace(t);
      return { kind: 'frame', frame: { t, streamTime: t, wallTime: Date.now(), width: 0, height: 0, rgb: new Uint8Array(0) } };
    },
    async close() { /* the file was closed after its probe */ },
  };
}

async function fileFeed(input: VideoInput, o: FeedOptions): Promise<Feed> {
  const source = await openVideo(input, { signal: o.signal, format: o.format, ffmpegOptions: o.ffmpegOptions });
  if (source.probe.isImage) {
    await source.close();
    throw new VidlmError('ERR_INVALID_ARG', 'watch() needs a video or a stream, not a still image', { option: 'source' });
  }
  const it = source.frames({ fps: o.fps, ...(o.fpsRule ? { rule: o.fpsRule } : {}) }, { size: o.size, fit: o.fit, signal: o.signal })[Symbol.asyncIterator]();
  let origin: number | null = null;
  let started = 0;
  return {
    isLive: false,
    async next() {
      throwIfAborted(o.signal);
      const r = await it.next();
      if (r.done) return null;
      const f = r.value;
      if (origin === null) { origin = f.t; started = Date.now(); }
      const t = f.t - origin;
      // real time: a frame is released when the stream would show it
      if (o.realtime) await sleep(started + t * 1000 - Date.now(), o.signal);
      throwIfAborted(o.signal);
      return { kind: 'frame', frame: { t, streamTime: f.t, wallTime: Date.now(), width: f.width, height: f.height, rgb: f.rgb } };
    },
    async close() {
      await it.return?.(undefined).catch(() => undefined);
      await source.close();
    },
  };
}

async function liveFeed(input: VideoInput, o: FeedOptions): Promise<Feed> {
  const stream: LiveStream = live(input, {
    fps: o.fps, window: o.keep, size: o.size, fit: o.fit, signal: o.signal,
    timeout: o.timeout, retries: o.retries, backoff: o.backoff, maxBackoff: o.maxBackoff, maxJump: o.maxJump, format: o.format, ffmpegOptions: o.ffmpegOptions,
    ...(o.audioRate ? { audio: true, audioSampleRate: o.audioRate } : {}),
  });
  const it = stream[Symbol.asyncIterator]();
  let origin: number | null = null;
  let connection = 0;
  let held: LiveFrame | null = null; // the frame that came after a reconnect item
  const toItem = (f: LiveFrame): FeedItem => {
    if (origin === null) origin = f.t;
    return { kind: 'frame', frame: { t: f.t - origin, streamTime: f.streamTime, wallTime: f.wallTime, width: f.width, height: f.height, rgb: f.rgb, ...(f.audioStalled ? { audioStalled: true } : {}) } };
  };
  return {
    isLive: true,
    async next() {
      if (held) { const f = held; held = null; return toItem(f); }
      const r = await it.next();
      if (r.done) { throwIfAborted(o.signal); return null; }
      const f = r.value;
      if (f.connection !== connection && origin !== null) {
        connection = f.connection;
        held = f;
        const heard = stream.stats.audioDuringStall;
        return { kind: 'reconnect', connection, reason: stream.stats.lastError, ...(heard !== undefined ? { audioSecondsDuringStall: heard } : {}) };
      }
      connection = f.connection;
      if (f.discontinuity && origin !== null) {
        held = { ...f, discontinuity: undefined };
        return { kind: 'discontinuity', ...f.discontinuity };
      }
      return toItem(f);
    },
    // the watch timeline is live()'s less its first frame's time
    audio: (from, to) => (origin === null ? null : stream.audio(from + origin, to + origin)),
    close: () => stream.close(),
  };
}
