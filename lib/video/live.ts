/**
 * Live sources (rtsp, udp, http streams, capture devices): an async iterator of frames sampled
 * at `fps`, each with wall-clock and stream timestamps. Only a rolling window of `window` seconds
 * is kept (a slow consumer skips frames that left it; stats.dropped counts them). A source that
 * gives no frame for `timeout` seconds (silent, or sending what does not decode) or ends is
 * reopened with exponential backoff. A timestamp discontinuity (an encoder restart's clock
 * starting over, a jump ahead) is re-based onto the wall clock and marked on the next frame. An
 * AbortSignal or close() ends the iteration cleanly and frees the FFmpeg contexts. With `audio`,
 * the stream's sound is decoded along with its pictures (the same reads), placed on the frames'
 * timeline by timestamp and read back by span (audio()); a sound that stalls while the pictures
 * go on is flagged (stats.audio.stalled, `audioStalled` on the frames) and the frames go on.
 */
import { VidlmError, isVidlmError } from '../errors.js';
import { withAbort, type NativeConvertSpec, type NativeLiveFrame, type NativeLiveSampling } from '../native.js';
import { convertSpec } from './convert.js';
import { buildProbe, checkOpenOptions, deadline, describeInput, openInput, type OpenedInput } from './open.js';
import { LiveSound, type LiveAudioClip, type LiveAudioStats } from './live-audio.js';
import type { LiveFrame, LiveOptions, VideoInput } from './types.js';

export interface LiveStats {
  /** Frames kept (sampled) so far. */
  frames: number;
  /** Frames the consumer never saw because they left the window first. */
  dropped: number;
  /** Successful reconnections. */
  reconnects: number;
  /** Timestamp discontinuities re-based (the source's clock went back, or ahead by more than maxJump). */
  discontinuities: number;
  /** Failed attempts since the last frame. */
  failures: number;
  connected: boolean;
  lastError?: string;
  /**
   * With `audio`: seconds of sound that came while no picture did, before the last picture stall
   * that ended a connection (0: none came, the whole stream stalled); kept through the failed
   * attempts that follow. Absent until such a stall, and after a connection ends otherwise.
   */
  audioDuringStall?: number;
  /** With `audio`: the sound read along (null: not asked). */
  audio: LiveAudioStats | null;
}

export interface LiveStream extends AsyncIterable<LiveFrame> {
  /** The frames of the last `window` seconds, oldest first. */
  window(): LiveFrame[];
  /** With `audio`: the stream's sound of [from, to) on the frames' timeline (`t`), silence where none came; null without `audio`. */
  audio(from: number, to: number): LiveAudioClip | null;
  /** Stops reading, ends the iteration and frees FFmpeg's contexts (resolves when they are). */
  close(): Promise<void>;
  readonly stats: LiveStats;
}

/**
 * A frame whose timestamp went back (beyond a millisecond of jitter), or ahead of the wall clock
 * by more than `maxJump` seconds since the previous frame, starts a new stretch of the stream.
 * The addon applies this rule to every decoded frame (IsDiscontinuity in
 * native/video/walk_workers.cpp, the same arithmetic): keep the two in step.
 */
export function isDiscontinuity(prev: { st: number; wall: number }, st: number, wall: number, maxJump: number): boolean {
  if (st < prev.st - 1e-3) return true;
  return st - prev.st - Math.max(0, wall - prev.wall) / 1000 > maxJump;
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
  readonly stats: LiveStats = { frames: 0, dropped: 0, reconnects: 0, discontinuities: 0, failures: 0, connected: false, audio: null };
  private readonly sound: LiveSound | null;
  private buf: Array<LiveFrame & { seq: number }> = [];
  private cursor = 0;
  private seq = 0;
  private waiters: Array<() => void> = [];
  private finished = false;
  private error: Error | null = null;
  private readonly ac = new AbortController();
  private readonly loop: Promise<void>;
  private readonly pendingCleanups = new Set<Promise<void>>();

  private readonly spec: NativeConvertSpec;
  private missedJump: LiveFrame['discontinuity'];

  constructor(private readonly input: VideoInput, private readonly opts: LiveOptions) {
    // everything is checked before the loop starts: a bad input is an error now, not a retry forever
    const ok = typeof input === 'string' ? input.length > 0 : input instanceof URL || input instanceof Uint8Array;
    if (!ok) throw new VidlmError('ERR_INVALID_ARG', `live() needs a URL, a path or a device, got ${input === null ? 'null' : typeof input}`);
    if (opts === null || typeof opts !== 'object') throw new VidlmError('ERR_INVALID_ARG', 'live() options must be an object');
    const fps = opts.fps ?? 1;
    const win = opts.window ?? 30;
    if (!(typeof fps === 'number' && fps > 0 && Number.isFinite(fps))) throw new VidlmError('ERR_INVALID_ARG', `fps must be > 0, got ${String(fps)}`);
    if (!(typeof win === 'number' && win > 0)) throw new VidlmError('ERR_INVALID_ARG', `window must be > 0 seconds, got ${String(win)}`);
    for (const k of ['retries', 'backoff', 'maxBackoff', 'maxJump'] as const) {
      const v = opts[k];
      if (v !== undefined && !(typeof v === 'number' && v >= 0)) throw new VidlmError('ERR_INVALID_ARG', `${k} must be a number >= 0, got ${String(v)}`);
    }
    checkOpenOptions(opts);
    const rate = opts.audioSampleRate ?? 16000;
    if (opts.audio !== undefined && typeof opts.audio !== 'boolean') throw new VidlmError('ERR_INVALID_ARG', `audio must be a boolean, got ${String(opts.audio)}`);
    if (!(Number.isInteger(rate) && rate >= 1000 && rate <= 384000)) throw new VidlmError('ERR_INVALID_ARG', `audioSampleRate must be an integer in [1000, 384000], got ${String(opts.audioSampleRate)}`);
    this.sound = opts.audio ? new LiveSound(rate, win, (opts.timeout ?? 5) * 1000) : null;
    this.stats.audio = this.sound?.stats ?? null;
    this.spec = convertSpec(opts, null);
    // one listener for the stream's whole life: waiters are woken by wake(), never one listener each
    this.ac.signal.addEventListener('abort', () => this.wake(), { once: true });
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

  audio(from: number, to: number): LiveAudioClip | null {
    return this.sound ? this.sound.clip(from, to) : null;
  }

  private push(f: LiveFrame): void {
    const item = { ...f, seq: this.seq++ };
    this.buf.push(item);
    const win = this.opts.window ?? 30;
    while (this.buf.length > 1 && this.buf[0]!.t < item.t - win) {
      const gone = this.buf.shift()!;
      if (gone.seq >= this.cursor && gone.discontinuity) this.missedJump ??= gone.discontinuity;
    }
    this.stats.frames++;
    this.wake();
  }

  private async run(): Promise<void> {
    const signal = this.ac.signal;
    const timeoutS = this.opts.timeout ?? 5;
    const fps = this.opts.fps ?? 1;
    const retries = this.opts.retries ?? Infinity;
    const backoff = this.opts.backoff ?? 0.5;
    const maxBackoff = this.opts.maxBackoff ?? 8;
    const maxJump = this.opts.maxJump ?? 5;
    const sessionStart = Date.now();
    let connection = 0;
    let lastError: unknown = null;
    while (!signal.aborted) {
      let opened: OpenedInput | null = null;
      let stallSound: number | undefined; // set when this connection ends in a picture stall
      let pictured = false; // this connection brought a picture (else it is part of the same outage)
      try {
        opened = await openInput(this.input, { ...this.opts, signal, timeout: timeoutS }, true);
        const { probe, video, audio, matrix } = buildProbe(opened.info, opened.display, opened.kind);
        if (!video || !probe.video) throw new VidlmError('ERR_VIDEO_NO_STREAM', `${opened.display} has no video stream`, { source: opened.display });
        const tb = video.timeBase[0] / video.timeBase[1];
        const spec = matrix ? { ...this.spec, matrix } : this.spec;
        if (connection > 0) this.stats.reconnects++;
        this.stats.connected = true;
        // the sound is read along when asked and the stream has it (a stream without it: frames alone)
        const sound = this.sound && audio ? { audioStream: audio.index, audioRate: this.sound.rate } : {};
        this.sound?.connected(!!(this.sound && audio), Date.now());
        // watch time = anchor + (stream time - first); a discontinuity moves both (see rebase)
        let anchor = (Date.now() - sessionStart) / 1000;
        let first: number | null = null;
        let nextT = 0;
        let prev: { t: number; wall: number } | null = null; // the last frame decoded (ticks, ms)
        let jumped: LiveFrame['discontinuity'];
        // a call that keeps nothing returns after this, so the stall deadline below is per call
        const yieldMs = Math.min(250, timeoutS * 100);
        // the stall deadline runs from the last picture: calls that bring only sound do not reset it
        let pictureAt = Date.now();
        let soundOnly = 0; // seconds of sound since then
        const stalled = (wait: number) => {
          stallSound = soundOnly;
          const flowing = soundOnly > 0 ? `; the sound went on (${soundOnly.toFixed(2)} s)` : '';
          return new VidlmError('ERR_VIDEO_TIMEOUT', `${opened!.display}: no frame in ${wait} s (a stall, or data that does not decode)${flowing}`, { source: opened!.display, reason: 'no-frame', ...(this.sound ? { audioSeconds: soundOnly } : {}) });
        };
        for (;;) {
          // the addon reads on to the next frame these rules keep (frames between sampling
          // times are decoded and dropped there, unconverted; see isDiscontinuity); a call that
          // brings no frame in `timeout` — a stall, or data that does not decode — is a stall,
          // whatever FFmpeg's per-read timeout thought of the bytes
          const src = opened.src;
          // a connection's first frame may wait for a keyframe (a camera's GOP): twice as long
          const wait = prev === null ? 2 * timeoutS : timeoutS;
          const left = wait * 1000 - (Date.now() - pictureAt);
          if (left <= 0) throw stalled(wait);
          const bound = deadline(left, signal);
          const sampling: NativeLiveSampling = { tb, first, nextT, prevT: prev?.t ?? null, prevWall: prev?.wall ?? 0, maxJump, yieldMs, ...sound };
          let f: NativeLiveFrame | null;
          try {
            f = await withAbort(bound.signal, (t) => src.liveNext(video.index, sampling, spec, this.opts.threads ?? 0, t));
          } catch (e) {
            if (bound.expired()) throw stalled(wait);
            throw e;
          } finally {
            bound.done();
          }
          if (!f) throw new VidlmError('ERR_VIDEO_DECODE', `${opened.display} ended`, { source: opened.display, reason: 'eof' });
          if (bound.expired()) {
            // the deadline interrupted a read that FFmpeg then ended with what it held (its next
            // read fails): still a stall; the sound that came is kept
            this.hear(f, { anchor, first }, null);
            for (const r of f.audio ?? []) soundOnly += r.samples.length / this.sound!.rate;
            throw stalled(wait);
          }
          if (f.t === null) {
            // the sound alone came (the pictures stall or are between frames): kept, and counted
            this.hear(f, { anchor, first }, null);
            for (const r of f.audio ?? []) soundOnly += r.samples.length / this.sound!.rate;
            continue;
          }
          pictureAt = Date.now();
          soundOnly = 0;
          pictured = true;
          this.stats.failures = 0;
          prev = { t: f.t, wall: f.wall };
          // the sound decoded during the call, on the frames' timeline (before a jump: the old stretch's)
          const base = { anchor, first };
          if (!f.kept) { this.hear(f, base, null); continue; } // only frames between sampling times came
          const st = f.t * tb;
          const wall = f.wall;
          first ??= st;
          if (f.discontinuity && f.prevT !== null) {
            // an encoder or camera restart (the clock starts over) or a jump ahead: re-based so
            // that the watch time goes on with the wall clock (the addon kept this frame)
            const prevSt = f.prevT * tb;
            anchor = anchor + (prevSt - first) + (wall - f.prevWall) / 1000;
            first = st;
            jumped = { streamFrom: prevSt, streamTo: st };
            this.stats.discontinuities++;
          }
          this.hear(f, base.first === null ? { anchor, first } : base, f.discontinuity ? { anchor, first, from: f.prevT! * tb } : null);
          const rel = st - first;
          nextT = Math.floor(rel * fps + 1e-6) / fps + 1 / fps;
          this.push({ index: this.seq, t: anchor + rel, width: f.width, height: f.height, rgb: new Uint8Array(f.rgb.buffer, f.rgb.byteOffset, f.rgb.byteLength), wallTime: wall, streamTime: st, connection, ...(jumped ? { discontinuity: jumped } : {}), ...(this.sound?.stats.stalled ? { audioStalled: true } : {}) });
          jumped = undefined;
        }
      } catch (e) {
        if (signal.aborted) break;
        if (isVidlmError(e) && FATAL.has(e.code)) throw e;
        lastError = e;
        this.stats.lastError = e instanceof Error ? e.message : String(e);
        // kept through the failed attempts of the same outage, up to the reconnect that reports it
        if (this.sound && stallSound !== undefined) this.stats.audioDuringStall = stallSound;
        else if (pictured) delete this.stats.audioDuringStall;
      } finally {
        this.stats.connected = false;
        if (opened) {
          // close() interrupts a read still in flight and frees FFmpeg's contexts after it
          const c = opened.src.close().catch(() => undefined);
          this.pendingCleanups.add(c);
          void c.finally(() => this.pendingCleanups.delete(c));
        }
      }
      if (signal.aborted) break;
      this.stats.failures++;
      if (this.stats.failures > retries) {
        const why = lastError instanceof Error ? lastError.message : String(lastError);
        throw new VidlmError('ERR_VIDEO_TIMEOUT', `${describeInput(this.input)}: gave up after ${this.stats.failures} failed attempts (${why})`, { source: describeInput(this.input), attempts: this.stats.failures }, { cause: lastError });
      }
      connection++;
      await sleep(Math.min(maxBackoff, backoff * 2 ** (this.stats.failures - 1)) * 1000, signal);
    }
  }

  /**
   * A call's sound onto the live timeline: t = anchor + (stream time − first). Runs decoded with
   * a frame that starts a new stretch belong to the stretch nearer their own clock.
   */
  private hear(f: NativeLiveFrame, base: { anchor: number; first: number | null }, after: { anchor: number; first: number; from: number } | null): void {
    if (!this.sound) return;
    const runs = (f.audio ?? []).flatMap((r) => {
      const useAfter = after !== null && Math.abs(r.t - after.first) < Math.abs(r.t - after.from);
      const b = useAfter ? after : base;
      return b.first === null ? [] : [{ t: b.anchor + (r.t - b.first), samples: r.samples }];
    });
    this.sound.add(runs, f.wall);
  }

  private takeNext(): LiveFrame | null {
    const i = this.buf.findIndex((f) => f.seq >= this.cursor);
    if (i < 0) return null;
    const f = this.buf[i]!;
    if (f.seq > this.cursor) this.stats.dropped += f.seq - this.cursor;
    this.cursor = f.seq + 1;
    const { seq: _seq, ...frame } = f;
    // a discontinuity on a frame that left the window unseen is told with the next one seen
    const jumped = frame.discontinuity ?? this.missedJump;
    this.missedJump = undefined;
    return jumped ? { ...frame, discontinuity: jumped } : frame;
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
          await new Promise<void>((r) => { this.waiters.push(r); });
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
