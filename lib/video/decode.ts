/**
 * Seek and decode: finds, for each target time (ascending), the first frame whose presentation
 * time is at or after it.
 *
 * The walker reads packets in decode order and keeps those of the current GOP unsent until it
 * reads a packet whose timestamp reaches the target: a keyframe that arrives first makes the
 * buffered packets useless, so they are dropped without being decoded. Only the frames from the
 * keyframe before a target up to the target are decoded, and of those the non-reference frames
 * before the target are skipped (AVDISCARD_NONREF). A target far ahead of the read position is
 * reached by seeking (to the keyframe before it); a near one by reading on, so dense plans decode
 * sequentially and sparse plans seek. Decoding uses FFmpeg's own threads (frame + slice).
 *
 * With a patched beamcoder (level 2) local inputs are read and decoded in batches: one
 * asynchronous call reads the packets up to the target, one decodes up to 64 of them, and the
 * pictures before the target are freed natively instead of each becoming a JavaScript object.
 */
import { VidlmError, abortError } from '../errors.js';
import { batchCalls, isNoPts, noteFrameMemory, type BatchCalls, type Beamcoder, type Decoder, type Demuxer, type Frame, type Packet, type Stream } from './ffmpeg.js';
import { mapFfmpegError } from './open.js';

export interface WalkerOptions {
  threads?: number;
  strategy?: 'auto' | 'seek' | 'sequential';
  display: string;
  signal?: AbortSignal;
  /** Read and decode in batches when beamcoder has the calls (local inputs: a read never waits on a network). */
  batch?: boolean;
  /** Counters to add to (shared across walks of one source). */
  stats?: WalkStats;
}

export interface WalkStats {
  seeks: number;
  packetsRead: number;
  packetsDecoded: number;
  framesDecoded: number;
  decodeErrors: number;
  /** Asynchronous read and decode calls made (fewer than packets when batched). */
  calls: number;
}

/** Zeroed counters. */
export function newWalkStats(): WalkStats {
  return { seeks: 0, packetsRead: 0, packetsDecoded: 0, framesDecoded: 0, decodeErrors: 0, calls: 0 };
}

/** Packets per batched decode call: bounds the pictures at or after a target held at once. */
const DECODE_BATCH = 64;
/** Packets per batched read call. */
const READ_BATCH = 64;

/**
 * A decoder for a demuxer stream with FFmpeg's own threading: thread_count (0 = automatic, which
 * libavcodec turns into cores + 1 for frame threading) and thread_type FRAME | SLICE are set on
 * the AVCodecContext before avcodec_open2 (beamcoder opens it on the first packet).
 */
export function createDecoder(bc: Beamcoder, dm: Demuxer, streamIndex: number, threads = 0): Decoder {
  return bc.decoder({ demuxer: dm, stream_index: streamIndex, thread_count: threads, thread_type: { FRAME: true, SLICE: true } });
}

function packetTime(p: Packet): number | null {
  if (!isNoPts(p.pts)) return p.pts;
  if (!isNoPts(p.dts)) return p.dts;
  return null;
}

export function frameTime(f: Frame): number | null {
  if (!isNoPts(f.best_effort_timestamp)) return f.best_effort_timestamp;
  if (!isNoPts(f.pts)) return f.pts;
  return null;
}

export class VideoWalker {
  readonly stats: WalkStats;
  private dec: Decoder | null = null;
  private pending: Packet[] = [];
  private out: Array<{ t: number; f: Frame }> = [];
  private last: { t: number; f: Frame } | null = null;
  private lastRead: number | null = null;
  private lastReadDts: number | null = null;
  private gopKey: number | null = null;
  private eof = false;
  private prevKey: number | null = null;
  private maxKeyGap = 0;
  private synthetic = 0;
  private prefetch: Promise<Packet | null> | null = null;
  /** Largest timestamp sent to the current decoder. */
  private maxSent: number | null = null;
  private readonly tps: number; // ticks per second
  private readonly batch: BatchCalls | null;
  /** Packets read by a batch call and not consumed yet. */
  private buffered: Packet[] = [];

  constructor(
    private readonly bc: Beamcoder,
    private readonly dm: Demuxer,
    private readonly stream: Stream,
    private readonly opts: WalkerOptions,
  ) {
    this.tps = stream.time_base[1]! / stream.time_base[0]!;
    this.stats = opts.stats ?? newWalkStats();
    this.batch = opts.batch ? batchCalls(bc) : null;
  }

  /** Latest frame decoded so far (the last frame of the video once EOF was reached). */
  get lastFrame(): { t: number; f: Frame } | null { return this.last; }
  get reachedEof(): boolean { return this.eof; }

  private newDecoder(): Decoder {
    return createDecoder(this.bc, this.dm, this.stream.index, this.opts.threads ?? 0);
  }

  /**
   * The next packet; one read is kept in flight so demuxing overlaps decoding. Batched: the
   * packets up to `until` (the target while it is not reached) come in one call.
   */
  private async rawRead(until?: number): Promise<Packet | null> {
    if (this.batch) {
      if (!this.buffered.length) {
        this.stats.calls++;
        this.buffered = await this.batch.readPackets(this.dm, { stream_index: this.stream.index, until, max: until === undefined ? 8 : READ_BATCH });
        this.buffered.reverse(); // consumed with pop()
      }
      return this.buffered.pop() ?? null;
    }
    this.stats.calls++;
    const pending = this.prefetch ?? this.dm.read();
    this.prefetch = null;
    const p = await pending;
    if (p) {
      this.prefetch = this.dm.read();
      this.prefetch.catch(() => undefined); // surfaces on the next rawRead()
    }
    return p;
  }

  /** Waits for the read in flight and forgets what was read ahead (before a seek, or before the
   *  demuxer is used elsewhere). */
  async settle(): Promise<void> {
    this.buffered = [];
    const p = this.prefetch;
    this.prefetch = null;
    if (p) await p.catch(() => null);
  }

  private async read(until?: number): Promise<Packet | null> {
    for (;;) {
      if (this.opts.signal?.aborted) throw abortError(this.opts.signal);
      let p: Packet | null;
      try {
        p = await this.rawRead(until);
      } catch (e) {
        throw mapFfmpegError(e, 'read', this.opts.display);
      }
      if (!p) return null;
      if (p.stream_index !== this.stream.index) continue;
      this.stats.packetsRead++;
      return p;
    }
  }

  /** Queues decoded frames at or after `target`; earlier ones are dropped at once (each holds a picture). */
  private addFrames(frames: Frame[], target = -Infinity): void {
    for (const f of frames) {
      if (!(f.width > 0) || !f.format) continue; // beamcoder may return empty frames
      let t = frameTime(f);
      if (t === null) t = this.synthetic++;
      this.stats.framesDecoded++;
      noteFrameMemory(f.width * f.height * 2);
      const item = { t, f };
      if (!this.last || t >= this.last.t) this.last = item;
      if (t < target) continue;
      let i = this.out.length;
      while (i > 0 && this.out[i - 1]!.t > t) i--;
      this.out.splice(i, 0, item);
    }
  }

  private async send(packets: Packet[], target: number): Promise<void> {
    if (!this.dec) this.dec = this.newDecoder();
    for (const p of packets) {
      const pt = packetTime(p);
      if (pt !== null && (this.maxSent === null || pt > this.maxSent)) this.maxSent = pt;
    }
    if (this.batch) {
      for (let i = 0; i < packets.length; i += DECODE_BATCH) {
        if (this.opts.signal?.aborted) throw abortError(this.opts.signal);
        const chunk = packets.slice(i, i + DECODE_BATCH);
        this.stats.calls++;
        try {
          const r = await this.batch.decodePackets(this.dec, chunk, { skip_before: target, drop_before: target });
          this.stats.packetsDecoded += chunk.length;
          this.stats.framesDecoded += r.dropped;
          this.stats.decodeErrors += r.errors;
          this.addFrames(r.frames, target);
        } catch {
          this.stats.decodeErrors += chunk.length;
        }
        this.checkDecodable();
      }
      return;
    }
    for (const p of packets) {
      if (this.opts.signal?.aborted) throw abortError(this.opts.signal);
      const pt = packetTime(p);
      const skip = pt !== null && pt < target && !p.flags.KEY ? 'nonref' : 'default';
      if (this.dec.skip_frame !== skip) this.dec.skip_frame = skip;
      this.stats.calls++;
      try {
        const r = await this.dec.decode(p);
        this.stats.packetsDecoded++;
        this.addFrames(r.frames, target);
      } catch {
        // a corrupt packet: FFmpeg conceals what it can, as the ffmpeg program does
        this.stats.decodeErrors++;
      }
      this.checkDecodable();
    }
  }

  private checkDecodable(): void {
    if (this.stats.decodeErrors > 50 && this.stats.framesDecoded === 0) {
      throw new VidlmError('ERR_VIDEO_DECODE', `${this.opts.display}: the video stream cannot be decoded (${this.stats.decodeErrors} packets failed)`, { source: this.opts.display, stage: 'decode' });
    }
  }

  private async flush(target: number): Promise<void> {
    if (!this.dec) return;
    try {
      const r = await this.dec.flush();
      this.addFrames(r.frames, target);
    } catch {
      this.stats.decodeErrors++;
    }
    this.dec = null;
    this.maxSent = null;
  }

  /**
   * Forgets what was read and decoded before a new keyframe. The decoder itself is kept: decoding
   * restarts cleanly at a keyframe, and whatever it still holds from before has earlier
   * timestamps than the next target, so it is dropped when it comes out. (beamcoder has no
   * avcodec_flush_buffers; a new decoder per seek would cost thread start-up and memory.)
   */
  private resetChain(target: number): void {
    // a frame the old chain still holds at or after the target could be taken for the answer
    // before the new chain's earlier one: then start a fresh decoder
    if (this.dec && this.maxSent !== null && this.maxSent >= target) this.dec = null;
    if (!this.dec) this.maxSent = null;
    this.pending = [];
    this.out = [];
  }

  private shouldSeek(target: number): boolean {
    const s = this.opts.strategy ?? 'auto';
    if (this.lastRead === null) return true; // the demuxer may be anywhere: position it
    if (s === 'sequential') return false;
    const from = this.lastRead ?? (isNoPts(this.stream.start_time ?? NaN) ? 0 : this.stream.start_time!);
    if (target <= from) return false;
    if (s === 'seek') return true;
    // reading a packet costs ~0.1 ms; seeking lands on the keyframe before the target. Seek when
    // the gap is longer than the known keyframe interval (and than 2 s).
    return target - from > Math.max(2 * this.tps, 1.5 * this.maxKeyGap);
  }

  private async seekTo(target: number): Promise<void> {
    this.stats.seeks++;
    await this.settle();
    if ((this.opts.strategy ?? 'auto') === 'sequential') target = isNoPts(this.stream.start_time ?? NaN) ? 0 : this.stream.start_time!;
    try {
      await this.dm.seek({ stream_index: this.stream.index, timestamp: Math.floor(target), backward: true });
    } catch {
      // some demuxers cannot seek to a timestamp before the first keyframe: start over
      try {
        await this.dm.seek({ stream_index: this.stream.index, timestamp: isNoPts(this.stream.start_time ?? NaN) ? 0 : this.stream.start_time!, backward: true });
      } catch (e) {
        throw mapFfmpegError(e, 'seek', this.opts.display);
      }
    }
    this.eof = false;
    // first keyframe after the seek point
    let attempt = 0;
    for (;;) {
      const p = await this.read(target);
      if (!p) { await this.endOfStream(target); return; }
      if (!p.flags.KEY) continue;
      const pt = packetTime(p);
      if (pt !== null && pt > target && attempt < 6) {
        // landed past the target (an inexact index): go further back
        attempt++;
        await this.settle();
        const back = attempt === 6 ? -Infinity : target - 10 * this.tps * 2 ** attempt;
        const start = isNoPts(this.stream.start_time ?? NaN) ? 0 : this.stream.start_time!;
        await this.dm.seek({ stream_index: this.stream.index, timestamp: Math.floor(Math.max(start, back)), backward: true }).catch(() => undefined);
        continue;
      }
      if (this.dec && pt !== null && pt === this.gopKey) {
        // back in the GOP being decoded: skip what was already read, keep the decoder
        if (this.lastReadDts !== null) {
          let q: Packet | null = p;
          while (q && (isNoPts(q.dts) ? false : q.dts <= this.lastReadDts)) q = await this.read(target);
          if (!q) { await this.endOfStream(target); return; }
          this.consumeRead(q);
          this.pending.push(q);
        }
        return;
      }
      this.resetChain(target);
      this.gopKey = pt;
      this.prevKey = pt; // keyframe intervals are measured from here on
      this.consumeRead(p);
      this.pending.push(p);
      return;
    }
  }

  private consumeRead(p: Packet): void {
    const pt = packetTime(p);
    if (pt !== null) this.lastRead = pt;
    if (!isNoPts(p.dts)) this.lastReadDts = p.dts;
  }

  private async endOfStream(target: number): Promise<void> {
    this.eof = true;
    if (this.pending.length) {
      const pk = this.pending;
      this.pending = [];
      await this.send(pk, target);
    }
    await this.flush(target);
  }

  private takeAtOrAfter(target: number): { t: number; f: Frame } | null {
    while (this.out.length && this.out[0]!.t < target) this.out.shift();
    return this.out[0] ?? null;
  }

  /**
   * The first frame at or after `target` (stream ticks), or the last frame of the video when the
   * target is past its end (then `clamped` is true).
   */
  async frameAt(target: number): Promise<{ t: number; f: Frame; clamped: boolean } | null> {
    let hit = this.takeAtOrAfter(target);
    if (hit) return { ...hit, clamped: false };
    if (!this.eof && this.shouldSeek(target)) await this.seekTo(target);
    let armed = false;
    while (!this.eof) {
      hit = this.takeAtOrAfter(target);
      if (hit) return { ...hit, clamped: false };
      const p = await this.read(armed ? undefined : target);
      if (!p) { await this.endOfStream(target); break; }
      const pt = packetTime(p);
      if (p.flags.KEY && pt !== null) {
        if (this.prevKey !== null && pt > this.prevKey) this.maxKeyGap = Math.max(this.maxKeyGap, pt - this.prevKey);
        this.prevKey = pt;
        if (!armed && pt <= target) {
          // a new GOP starts before the target: nothing read or decoded so far is needed
          this.resetChain(target);
          this.gopKey = pt;
        }
      }
      this.consumeRead(p);
      this.pending.push(p);
      if (armed || pt === null || pt >= target) {
        armed = true;
        const pk = this.pending;
        this.pending = [];
        await this.send(pk, target);
      }
    }
    hit = this.takeAtOrAfter(target);
    if (hit) return { ...hit, clamped: false };
    return this.last ? { ...this.last, clamped: true } : null;
  }
}

/** Reads every packet of the stream (no decoding) and returns the sorted presentation times. */
export async function scanPacketTimes(dm: Demuxer, stream: Stream, display: string, signal?: AbortSignal): Promise<{ pts: number[]; end: number }> {
  const start = isNoPts(stream.start_time ?? NaN) ? 0 : stream.start_time!;
  await dm.seek({ stream_index: stream.index, timestamp: start, backward: true }).catch(() => undefined);
  const pts: number[] = [];
  let end = 0;
  for (;;) {
    if (signal?.aborted) throw abortError(signal);
    let p: Packet | null;
    try { p = await dm.read(); } catch (e) { throw mapFfmpegError(e, 'read', display); }
    if (!p) break;
    if (p.stream_index !== stream.index) continue;
    const t = packetTime(p);
    if (t === null) continue;
    pts.push(t);
    end = Math.max(end, t + (p.duration > 0 ? p.duration : 0));
  }
  pts.sort((a, b) => a - b);
  await dm.seek({ stream_index: stream.index, timestamp: start, backward: true }).catch(() => undefined);
  return { pts, end };
}
