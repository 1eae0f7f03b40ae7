/**
 * Two decoding lanes: a plan on a local file split between the source's demuxer and a second
 * one on the same file, so two seek-and-decode chains keep the cores busy (see laneUnits).
 */
import { availableParallelism } from 'node:os';
import { abortError } from '../errors.js';
import type { NativeMediaSource } from '../native.js';
import type { OpenedInput } from './open.js';
import type { Timeline } from './plans.js';
import type { SampleOptions, VideoFrame } from './types.js';

/** Targets further apart than this (median) are each reached by their own seek. */
const SEEK_GAP_S = 10;
/** A lane's run of targets in a denser plan: this much video, at most RUN_MAX targets, and at
 *  least RUN_MIN_S (else the plan is too dense for lanes: keyframe restarts would dominate). */
const RUN_S = 60;
const RUN_MAX = 64;
const RUN_MIN_S = 20;

/** Frames decoded by two lanes, handed out by index. */
export interface LaneWalk {
  get(idx: number): Promise<VideoFrame>;
  /** The consumer is done with frame `idx` (a sorted plan moved past it): drop it. */
  forget(idx: number): void;
  settle(): Promise<void>;
}

/**
 * How a plan on a local file splits between two decoding lanes (a second demuxer on the same
 * file), or null for one lane. Lanes take units of targets from one ascending queue and walk
 * each unit in order:
 * - sparse plans (median gap ≥ 10 s): one target per unit, each reached by its own seek, so
 *   two GOP prefixes decode at once (one seek-and-decode chain leaves cores idle while it
 *   restarts after each seek);
 * - denser plans: runs of targets over ≥ 60 s of video (≤ 64 targets, ≥ 20 s), each walked
 *   sequentially from the keyframe before its first target; the part of a GOP decoded twice
 *   at a run's start is small next to the run.
 * Plans denser than that (a run of 64 targets under 20 s) stay in one lane with FFmpeg's
 * frame threads. VIDLM_LANES=1 turns lanes off; `canReopen` is false for anything but a local
 * file, `threads` 1 asks for one lane.
 */
export function laneUnits(wanted: number[], tl: Timeline, options: SampleOptions, canReopen: boolean, threads: number | undefined): number[][] | null {
  if (!canReopen || process.env.VIDLM_LANES === '1' || (options.strategy ?? 'auto') !== 'auto' || threads === 1) return null;
  if (wanted.length < 4 || availableParallelism() < 2) return null;
  const gaps = wanted.slice(1).map((w, i) => tl.time(w) - tl.time(wanted[i]!)).sort((a, b) => a - b);
  if (gaps[gaps.length >> 1]! >= SEEK_GAP_S) return wanted.map((w) => [w]);
  const units: number[][] = [];
  let run: number[] = [];
  const span = (u: number[]): number => tl.time(u[u.length - 1]!) - tl.time(u[0]!);
  for (const w of wanted) {
    run.push(w);
    if (span(run) >= RUN_S || run.length === RUN_MAX) { units.push(run); run = []; }
  }
  if (run.length) units.push(run);
  if (units.length < 2 || units.slice(0, -1).some((u) => span(u) < RUN_MIN_S)) return null;
  return units;
}

export interface LaneSetup {
  /** The source's own demuxer: the first lane. */
  first: NativeMediaSource;
  /** Opens the second lane's demuxer. */
  reopen(): Promise<OpenedInput>;
  /** Decodes frame `idx` on `src` with `threads` decoder threads. */
  fetch(src: NativeMediaSource, idx: number, threads: number, signal: AbortSignal): Promise<VideoFrame>;
  /** The caller's thread setting (undefined: FFmpeg's automatic count, shared by the lanes). */
  threads: number | undefined;
  signal: AbortSignal | undefined;
}

/** Starts two lanes on `units` (from laneUnits); frames are handed out by get(idx). */
export async function twoLanes(units: number[][], setup: LaneSetup): Promise<LaneWalk> {
  const signal = setup.signal;
  const ac = new AbortController();
  const onAbort = (): void => ac.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  const second = await setup.reopen();
  const results = new Map<number, { unit: number; promise: Promise<VideoFrame>; resolve(v: VideoFrame): void; reject(e: unknown): void }>();
  units.forEach((unit, u) => {
    for (const idx of unit) {
      let resolve!: (v: VideoFrame) => void;
      let reject!: (e: unknown) => void;
      const promise = new Promise<VideoFrame>((a, b) => { resolve = a; reject = b; });
      promise.catch(() => undefined);
      results.set(idx, { unit: u, promise, resolve, reject });
    }
  });
  // Backpressure: a lane starts unit u only when the consumer has asked for a frame of unit
  // u - 2 or later, so at most ~3 units of frames wait in memory (frames() stays streaming).
  let asked = 0;
  let wake: (() => void) | null = null;
  const wakeAll = (): void => { const w = wake; wake = null; w?.(); };
  ac.signal.addEventListener('abort', wakeAll, { once: true });
  const waitForConsumer = (u: number): Promise<void> | null => {
    if (u <= asked + 2 || ac.signal.aborted) return null;
    return new Promise<void>((r) => {
      const prev = wake;
      wake = () => { prev?.(); r(); };
    });
  };
  let next = 0; // units are taken in ascending order: each lane's walk stays ascending
  // the cores are shared by the two lanes (FFmpeg's automatic count would give each lane
  // cores + 1 frame threads: 6 threads on 2 cores)
  const laneThreads = setup.threads ?? Math.max(1, Math.floor(availableParallelism() / 2));
  const run = async (src: NativeMediaSource): Promise<void> => {
    try {
      while (next < units.length) {
        const gate = waitForConsumer(next);
        if (gate) { await gate; continue; }
        if (ac.signal.aborted) throw abortError(ac.signal);
        const unit = units[next++]!;
        for (const idx of unit) results.get(idx)?.resolve(await setup.fetch(src, idx, laneThreads, ac.signal));
      }
    } catch (e) {
      // settled promises ignore this; every frame still pending fails with the lane's error
      const err = ac.signal.aborted && signal?.aborted ? abortError(signal) : e;
      for (const r of results.values()) r.reject(err);
      ac.abort();
    }
  };
  const running = Promise.all([run(setup.first), run(second.src)]);
  let settled = false;
  return {
    get: (idx) => {
      const r = results.get(idx)!;
      if (r.unit > asked) {
        asked = r.unit;
        wakeAll();
      }
      return r.promise;
    },
    forget: (idx) => { results.delete(idx); },
    settle: async () => {
      if (settled) return;
      settled = true;
      ac.abort();
      await running.catch(() => undefined);
      signal?.removeEventListener('abort', onAbort);
      await second.src.close().catch(() => undefined);
    },
  };
}
