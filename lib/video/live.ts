/**
 * Live sources (rtsp, udp, http streams, capture devices): an async iterator of frames sampled
 * at `fps`, each with wall-clock and stream timestamps. Only a rolling window of `window` seconds
 * is kept (a slow consumer skips frames that left it; stats.dropped counts them). A source that
 * stalls for `timeout` seconds or ends is reopened with exponential backoff; an AbortSignal or
 * close() ends the iteration cleanly and frees the FFmpeg contexts.
 */
import { VidlmError, abortError, isVidlmError } from '../errors.js';
import { FrameConverter, parseSize } from './convert.js';
import { createDecoder, frameTime } from './decode.js';
import { isNoPts, type Decoder, type Demuxer, type Frame, type Packet } from './ffmpeg.js';
import { openInput, type OpenedInput } from './open.js';
import { buildProbe } from './probe.js';
import type { LiveFrame, LiveOptions, VideoInput } from './types.js';

export interface LiveStats {
  /** Frames kept (sampled) so far. */
  frames: number;
  /** Frames the consumer never saw because they left the window first. */
  dropped: number;
  /** Successful reconnections. */
  reconnects: number;
  /** Failed attempts since the last frame. */
  failures: number;
  connected: boolean;
  lastError?: string;
}

export interface LiveStream extends AsyncIterable<LiveFrame> {
  /** The frames of the last `window` seconds, oldest first. */
  window(): LiveFrame[];
  /** Stops reading, ends the iteration and frees FFmpeg's contexts (resolves when they are). */
  close(): Promise<void>;
  readonly stats: LiveStats;
}

const FATAL = new Set(['ERR_VIDEO_NO_STREAM', 'ERR_INVALID_ARG', 'ERR_NATIVE_LOAD']);

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void { clearTimeout(t); signal.removeEventListener('abort', done); resolve(); }
    signal.addEventListener('abort', done, { once: true });
  });
}

class Live implements LiveStream {
  readonly stats: LiveStats = { frames: 0, dropped: 0, reconnects: 0, failures: 0, connected: false };
  private buf: Array<LiveFrame & { seq: number }> = [];
  private cursor = 0;
  private seq = 0;
  private waiters: Array<() => void> = [];
  private finished = false;
  private error: Error | null = null;
  private readonly ac = new AbortController();
  private readonly loop: Promise<void>;
  private readonly pendingCleanups = new Set<Promise<void>>();

  constructor(private readonly input: VideoInput, private readonly opts: LiveOptions) {
    const fps = opts.fps ?? 1;
    const win = opts.window ?? 30;
    if (!(fps > 0)) throw new VidlmError('ERR_INVALID_ARG', `fps must be > 0, got ${fps}`);
    if (!(win > 0)) throw new VidlmError('ERR_INVALID_ARG', `window must be > 0 seconds, got ${win}`);
    parseSize(opts.size);
    if (opts.signal) {
      if (opts.signal.aborted) this.ac.abort(opts.signal.reason);
      else opts.signal.addEventListener('abort', () => this.ac.abort(opts.signal!.reason), { once: true });
    }
    this.loop = this.run().catch((e: unknown) => { this.error = e as Error; }).finally(() => {
      this.finished = true;
      this.wake();
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  window(): LiveFrame[] {
    return this.buf.map(({ seq: _seq, ...f }) => f);
  }

  private push(f: LiveFrame): void {
    const item = { ...f, seq: this.seq++ };
    this.buf.push(item);
    const win = this.opts.window ?? 30;
    while (this.buf.length > 1 && this.buf[0]!.t < item.t - win) this.buf.shift();
    this.stats.frames++;
    this.wake();
  }

  /** Awaits `p` unless the stream is closed or `ms` pass first; the loser is cleaned up later. */
  private race<T>(p: Promise<T>, ms: number, onStall: () => Error): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const signal = this.ac.signal;
      const timer = setTimeout(() => { cleanup(); reject(onStall()); }, ms);
      const onAbort = (): void => { cleanup(); reject(abortError(signal)); };
      const cleanup = (): void => { clearTimeout(timer); signal.removeEventListener('abort', onAbort); };
      if (signal.aborted) { cleanup(); reject(abortError(signal)); return; }
      signal.addEventListener('abort', onAbort, { once: true });
      p.then((v) => { cleanup(); resolve(v); }, (e) => { cleanup(); reject(e); });
    });
  }

  private async run(): Promise<void> {
    const signal = this.ac.signal;
    const timeoutS = this.opts.timeout ?? 5;
    const fps = this.opts.fps ?? 1;
    const retries = this.opts.retries ?? Infinity;
    const backoff = this.opts.backoff ?? 0.5;
    const maxBackoff = this.opts.maxBackoff ?? 8;
    const sessionStart = Date.now();
    let connection = 0;
    let lastError: unknown = null;
    while (!signal.aborted) {
      let opened: OpenedInput | null = null;
      let inflight: Promise<unknown> | null = null;
      try {
        opened = await openInput(this.input, { ...this.opts, signal, timeout: timeoutS }, true);
        const { probe, video, rotateFilters } = buildProbe(opened.bc, opened.demuxer, opened.display, opened.kind);
        if (!video || !probe.video) throw new VidlmError('ERR_VIDEO_NO_STREAM', `${opened.display} has no video stream`, { source: opened.display });
        const dm: Demuxer = opened.demuxer;
        (dm.streams as Array<{ index: number; discard: string }>).forEach((s) => { if (s.index !== video.index) s.discard = 'all'; });
        const tb = video.time_base[0]! / video.time_base[1]!;
        let dec: Decoder | null = null;
        const conv = new FrameConverter(opened.bc, { rotate: rotateFilters, size: parseSize(this.opts.size), fit: this.opts.fit, padColor: this.opts.padColor, scaler: this.opts.scaler, timeBase: [video.time_base[0]!, video.time_base[1]!] });
        if (connection > 0) this.stats.reconnects++;
        this.stats.connected = true;
        const anchor = (Date.now() - sessionStart) / 1000;
        let first: number | null = null;
        let nextT = 0;
        for (;;) {
          const reading = dm.read();
          inflight = reading;
          const p: Packet | null = await this.race(reading, timeoutS * 1000 + 1000, () => new VidlmError('ERR_VIDEO_TIMEOUT', `${opened!.display} stalled: no data for ${timeoutS} s`, { source: opened!.display, reason: 'stalled' }));
          inflight = null;
          if (!p) throw new VidlmError('ERR_VIDEO_DECODE', `${opened.display} ended`, { source: opened.display, reason: 'eof' });
          if (p.stream_index !== video.index) continue;
          dec ??= createDecoder(opened.bc, dm, video.index, this.opts.threads ?? 0);
          const pt = !isNoPts(p.pts) ? p.pts : p.dts;
          // frames before the next sampling time are not kept: skip decoding the disposable ones
          const skip = first !== null && !isNoPts(pt) && pt * tb - first < nextT - 1e-6 && !p.flags.KEY ? 'nonref' : 'default';
          if (dec.skip_frame !== skip) dec.skip_frame = skip;
          let frames: Frame[] = [];
          try {
            frames = (await dec.decode(p)).frames;
          } catch {
            continue; // joining mid-stream: packets before the first keyframe fail
          }
          for (const f of frames) {
            if (!(f.width > 0) || !f.format) continue;
            const ft = frameTime(f);
            if (ft === null) continue;
            const st = ft * tb;
            if (first === null) first = st;
            const rel = st - first;
            if (rel + 1e-6 < nextT) continue;
            nextT = Math.floor(rel * fps + 1e-6) / fps + 1 / fps;
            const pic = await conv.convert(f);
            this.stats.failures = 0;
            this.push({ index: this.seq, t: anchor + rel, width: pic.width, height: pic.height, rgb: pic.rgb, wallTime: Date.now(), streamTime: st, connection });
          }
        }
      } catch (e) {
        if (signal.aborted) break;
        if (isVidlmError(e) && FATAL.has(e.code)) throw e;
        lastError = e;
        this.stats.lastError = e instanceof Error ? e.message : String(e);
      } finally {
        this.stats.connected = false;
        if (opened) {
          const o = opened;
          const close = async (): Promise<void> => { o.demuxer.forceClose(); await o.cleanup(); };
          // never free a context a read is still using: close it when the read returns
          const c = (inflight ? inflight.then(close, close) : close()).catch(() => undefined);
          this.pendingCleanups.add(c);
          void c.finally(() => this.pendingCleanups.delete(c));
        }
      }
      if (signal.aborted) break;
      this.stats.failures++;
      if (this.stats.failures > retries) {
        const why = lastError instanceof Error ? lastError.message : String(lastError);
        throw new VidlmError('ERR_VIDEO_TIMEOUT', `${String(this.input)}: gave up after ${this.stats.failures} failed attempts (${why})`, { source: String(this.input), attempts: this.stats.failures }, { cause: lastError });
      }
      connection++;
      await sleep(Math.min(maxBackoff, backoff * 2 ** (this.stats.failures - 1)) * 1000, signal);
    }
  }

  private takeNext(): LiveFrame | null {
    const i = this.buf.findIndex((f) => f.seq >= this.cursor);
    if (i < 0) return null;
    const f = this.buf[i]!;
    if (f.seq > this.cursor) this.stats.dropped += f.seq - this.cursor;
    this.cursor = f.seq + 1;
    const { seq: _seq, ...frame } = f;
    return frame;
  }

  async close(): Promise<void> {
    this.ac.abort();
    await this.loop;
    await Promise.all([...this.pendingCleanups]);
  }

  [Symbol.asyncIterator](): AsyncIterator<LiveFrame> {
    return {
      next: async (): Promise<IteratorResult<LiveFrame>> => {
        for (;;) {
          if (this.ac.signal.aborted) return { done: true, value: undefined };
          const f = this.takeNext();
          if (f) return { done: false, value: f };
          if (this.finished) {
            if (this.error) { const e = this.error; this.error = null; throw e; }
            return { done: true, value: undefined };
          }
          await new Promise<void>((r) => {
            this.waiters.push(r);
            this.ac.signal.addEventListener('abort', () => r(), { once: true });
          });
        }
      },
      return: async (): Promise<IteratorResult<LiveFrame>> => {
        await this.close();
        return { done: true, value: undefined };
      },
    };
  }
}

/** Samples a live source at `fps` frames per second; see LiveStream. */
export function live(input: VideoInput, options: LiveOptions = {}): LiveStream {
  return new Live(input, options);
}
