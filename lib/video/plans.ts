/**
 * Sampling plans: pure index and time math, no FFmpeg. Each index rule reproduces the source
 * code of the method it is named after (see shared/reference/video-llm-methods.md):
 *
 * | rule                 | formula                                                        | used by |
 * |----------------------|----------------------------------------------------------------|---------|
 * | uniform 'linspace'   | np.linspace(0, n-1, N, dtype=int) (truncation)                 | Video-LLaVA, LLaVA-OneVision / LLaVA-Video (forced), Valley |
 * | uniform 'middle'     | int(seg/2 + round(seg*i)), seg = (n-1)/N                       | PLLaVA eval (get_index) |
 * | uniform 'round'      | np.round(np.linspace(0, n-1, N)).astype(int) (half to even)    | LITA, Qwen2-VL |
 * | uniform 'vcgpt'      | (round(seg*i) + round(seg*(i+1))) // 2, seg = (n-1)/N, N<=n    | Video-ChatGPT |
 * | uniform 'start'      | np.arange(0, n, n/N).astype(int)                               | Video-LLaMA |
 * | lita T               | 'round' with N = T (default 100)                               | LITA |
 * | fps 'time'           | targets start + k/F, first frame at or after each             | Flamingo 1, Valley 0.5, video-SALMONN 2 (fps) |
 * | fps 'step'           | range(0, n, round(avg_fps / F))                                | LLaVA-OneVision training reader |
 * | fps 'ffmpeg'         | what `ffmpeg -vf fps=F` emits (round-to-nearest, eof 'round')  | llama.cpp's video helper (F = 4) |
 */
import { VidlmError } from '../errors.js';
import type { SamplePlan, UniformRule } from './types.js';

/** Python / numpy round(): half to even. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** C round() / FFmpeg AV_ROUND_NEAR_INF: half away from zero. */
export function roundHalfAway(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/** numpy.linspace(start, stop, num) with endpoint=True, computed the way numpy does. */
export function linspace(start: number, stop: number, num: number): number[] {
  if (num <= 0) return [];
  if (num === 1) return [start];
  const div = num - 1;
  const delta = stop - start;
  const step = delta / div;
  const out: number[] = [];
  for (let i = 0; i < num; i++) out.push(step === 0 ? (i / div) * delta + start : i * step + start);
  out[num - 1] = stop;
  return out;
}

function checkCount(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) throw new VidlmError('ERR_INVALID_ARG', `${name} must be a positive integer, got ${v}`);
}

/** Frame indices of N frames out of n by `rule`. N must be <= n (callers clamp). */
export function uniformIndices(n: number, N: number, rule: UniformRule = 'linspace'): number[] {
  checkCount('frame count', n);
  checkCount('frames asked', N);
  switch (rule) {
    case 'linspace':
      return linspace(0, n - 1, N).map((x) => Math.trunc(x));
    case 'round':
      return linspace(0, n - 1, N).map((x) => roundHalfEven(x));
    case 'middle': {
      // PLLaVA tasks/eval/eval_utils.py:get_index with no bound: start_idx 0, end_idx n-1
      const seg = (n - 1) / N;
      return Array.from({ length: N }, (_, i) => Math.trunc(seg / 2 + roundHalfEven(seg * i)));
    }
    case 'vcgpt': {
      const m = Math.min(n, N);
      const seg = (n - 1) / m;
      return Array.from({ length: m }, (_, i) => Math.floor((roundHalfEven(seg * i) + roundHalfEven(seg * (i + 1))) / 2));
    }
    case 'start': {
      const step = n / N;
      const out: number[] = [];
      for (let i = 0; i * step < n && out.length < N; i++) out.push(Math.trunc(i * step));
      return out;
    }
    default:
      throw new VidlmError('ERR_INVALID_ARG', `unknown uniform rule '${String(rule)}'`);
  }
}

/** LITA: np.round(np.linspace(0, n-1, T)).astype(int). */
export function litaIndices(n: number, T = 100): number[] {
  return uniformIndices(n, T, 'round');
}

/** LLaVA-OneVision's reader: range(0, n, round(avgFps / fps)). */
export function stepIndices(n: number, avgFps: number, fps: number): number[] {
  const step = Math.max(1, roundHalfEven(avgFps / fps));
  const out: number[] = [];
  for (let i = 0; i < n; i += step) out.push(i);
  return out;
}

/** Times start + k/fps for k = 0, 1, … while <= end (+1e-9). */
export function fpsTimes(start: number, end: number, fps: number): number[] {
  if (!(fps > 0)) throw new VidlmError('ERR_INVALID_ARG', `fps must be > 0, got ${fps}`);
  const out: number[] = [];
  for (let k = 0; ; k++) {
    const t = start + k / fps;
    if (t > end + 1e-9) break;
    out.push(t);
  }
  return out;
}

/**
 * The frames FFmpeg's fps filter (vf_fps.c, FFmpeg 5.1, rounding 'near', eof_action 'round')
 * emits for frames at `times` (seconds, presentation order) ending at `end` (last frame time +
 * its duration, which the ffmpeg program passes as the EOF timestamp). Returns one input index
 * per output frame (an index repeats when the filter duplicates a frame).
 */
export function ffmpegFpsIndices(times: number[], end: number, fps: number): number[] {
  if (!(fps > 0)) throw new VidlmError('ERR_INVALID_ARG', `fps must be > 0, got ${fps}`);
  const q = times.map((t) => roundHalfAway(t * fps));
  const statusPts = roundHalfAway(end * fps);
  const out: number[] = [];
  let next: number | null = null;
  const buf: number[] = []; // indices of buffered frames (at most 2)
  let eof = false;
  const step = (): void => {
    if (next === null) next = q[buf[0]!]!;
    if ((buf.length === 2 && q[buf[1]!]! <= next) || (eof && statusPts <= next)) {
      buf.shift();
    } else {
      out.push(buf[0]!);
      next++;
    }
  };
  for (let i = 0; i < times.length; i++) {
    buf.push(i);
    while (buf.length === 2) step();
  }
  eof = true;
  while (buf.length > 0) step();
  return out;
}

/** What a video looks like to the planner: its frames' times. */
export interface Timeline {
  /** Frames in the video. */
  n: number;
  /** True when times are the real timestamps (scanned), false when computed from the frame rate. */
  exact: boolean;
  /** Nominal frame duration (1 / fps) in seconds. */
  frameDuration: number;
  /** Presentation time of frame i (seconds). */
  time(i: number): number;
  /** End of the last frame (seconds). */
  end: number;
  /** Timestamp resolution in seconds (the stream's time base, one frame in an AVI): a time is
   *  compared on this grid, and real times may differ from computed ones by half of it. */
  tick?: number;
}

export function cfrTimeline(n: number, fps: number, start = 0, tick = 1e-6): Timeline {
  return { n, exact: false, frameDuration: 1 / fps, time: (i) => start + i / fps, end: start + n / fps, tick };
}

export function listTimeline(times: number[], end?: number, tick?: number): Timeline {
  const n = times.length;
  const d = n > 1 ? (times[n - 1]! - times[0]!) / (n - 1) : 0;
  return { n, exact: true, frameDuration: d, time: (i) => times[i]!, end: end ?? (n ? times[n - 1]! + d : 0), ...(tick ? { tick } : {}) };
}

/**
 * The timeline of a video stream: one frame at 0 for a still, `frameCount` frames at `avgFps` for
 * a constant rate with a known count, else the frame times `scan()` reads from the packets (no
 * decoding), in seconds on the source's clock, with the stream's tick.
 */
export async function streamTimeline(v: { isImage: boolean; frameCount: number | null; vfr: boolean; avgFps: number; startTime: number }, tick: number,
  scan: () => Promise<{ times: number[]; end: number }>): Promise<Timeline> {
  if (v.isImage) return listTimeline([0], 0);
  if (v.frameCount !== null && !v.vfr && v.avgFps > 0) return cfrTimeline(v.frameCount, v.avgFps, v.startTime, tick);
  const { times, end } = await scan();
  return listTimeline(times, end, tick);
}

/**
 * A time (seconds from the video stream's start) on the stream's timestamp grid: the nearest
 * tick, rounded half away from zero as FFmpeg's av_rescale_q does (the ffmpeg program's `-ss T`
 * keeps the first frame at or after that tick). On a one-frame time base (AVI) this decides the
 * frame; on fine ones (mp4's 1/12288, Matroska's 1/1000) it moves a time by under a tick.
 */
export function snapToTick(tl: Timeline, t: number): number {
  return tl.tick ? roundHalfAway(t / tl.tick) * tl.tick : t;
}

/** How far before a grid time a computed frame time may be and still be the frame at it: a
 *  muxer rounds a frame's time to the nearest tick (never more than half a frame). */
function timeTolerance(tl: Timeline): number {
  return tl.exact ? 1e-9 : Math.min(tl.tick ?? 1e-6, tl.frameDuration) / 2 + 1e-9;
}

/** The rule of `{ times }` and `{ fps }`: the first frame at or after `t` on the stream's grid. */
export function frameAtOrAfter(tl: Timeline, t: number): number {
  return indexAtOrAfter(tl, snapToTick(tl, t), timeTolerance(tl));
}

/** The last frame at or before `t` on the stream's grid (-1 when none): a segment's end. */
function frameAtOrBefore(tl: Timeline, t: number): number {
  // the next tick is after it: a computed time counts as there from half a tick before
  const g = snapToTick(tl, t);
  return indexAtOrAfter(tl, (tl.exact ? g : g + (tl.tick ?? 0) - timeTolerance(tl)) + 2e-9, 0) - 1;
}

/** Index of the first frame with time >= t - tol (n when none). Binary search; times ascend. */
export function indexAtOrAfter(tl: Timeline, t: number, tol = 1e-9): number {
  let lo = 0;
  let hi = tl.n;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (tl.time(mid) >= t - tol) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * The walk target (stream ticks) that reaches frame `idx`: the native walker returns the first
 * frame whose timestamp is at or after it. On an exact timeline, the tick after frame idx - 1's
 * timestamp (a tick before the first frame for frame 0); on a computed one, the first tick after
 * the midpoint between frames idx - 1 and idx, since real timestamps may stray from computed
 * ones by up to half a frame. (A tick is a whole frame in an AVI: rounding down, to the tick
 * before, would reach frame idx - 1.)
 */
export function walkTarget(tl: Timeline, idx: number, ticksPerSecond: number, origin: number): number {
  if (tl.exact) {
    const tick = (i: number): number => Math.round((tl.time(i) + origin) * ticksPerSecond);
    return idx === 0 ? tick(0) - 1 : Math.min(tick(idx), tick(idx - 1) + 1);
  }
  return Math.ceil((tl.time(idx) - tl.frameDuration / 2 + origin) * ticksPerSecond - 1e-6);
}

export interface PlannedFrame {
  /** Expected frame index in the video. */
  index: number;
  /** Time asked for (seconds). */
  t: number;
}

export interface ResolvedPlan {
  frames: PlannedFrame[];
  warning?: string;
  /** First and last frame index of the (segment-restricted) range. */
  range: [number, number];
  /** With `walk`: the walker's target tick of each frame index the plan selects (walkTarget). */
  targets?: Map<number, number>;
}

/**
 * Turns a plan into the frame indices (and asked-for times) it selects on `tl`; with `walk` (the
 * stream's ticks per second and the source's origin), also where the walker seeks for each.
 */
export function resolvePlan(plan: SamplePlan, tl: Timeline, avgFps?: number, walk?: { ticksPerSecond: number; origin: number }): ResolvedPlan {
  if (typeof plan !== 'object' || plan === null) throw new VidlmError('ERR_INVALID_ARG', 'a sampling plan must be an object');
  if (tl.n < 1) throw new VidlmError('ERR_VIDEO_EMPTY', 'the video has no frames');
  const warnings: string[] = [];
  // segment → index range [i0, i1]
  let i0 = 0;
  let i1 = tl.n - 1;
  let segStart = tl.time(0);
  let segEnd = tl.time(tl.n - 1);
  if (plan.segment !== undefined) {
    const seg = plan.segment;
    if (!Array.isArray(seg) || seg.length !== 2 || !seg.every((x) => typeof x === 'number' && Number.isFinite(x)) || seg[1] < seg[0]) {
      throw new VidlmError('ERR_INVALID_ARG', `segment must be [start, end] seconds with start <= end, got ${JSON.stringify(seg)}`);
    }
    i0 = Math.min(frameAtOrAfter(tl, seg[0]), tl.n - 1);
    i1 = Math.max(i0, frameAtOrBefore(tl, seg[1]));
    if (i1 >= tl.n) i1 = tl.n - 1;
    if (seg[0] > tl.time(tl.n - 1) + tl.frameDuration) warnings.push(`segment starts at ${seg[0]} s, after the last frame (${tl.time(tl.n - 1).toFixed(3)} s); using the last frame`);
    segStart = Math.max(seg[0], tl.time(i0));
    segEnd = Math.min(seg[1], tl.time(i1));
  }
  const n = i1 - i0 + 1;
  const local = (idx: number[]): PlannedFrame[] => idx.map((i) => ({ index: i0 + i, t: tl.time(i0 + i) }));
  const clampCount = (N: number, what: string): number => {
    checkCount(what, N);
    if (N > n) {
      warnings.push(`asked for ${N} frames but ${plan.segment ? 'the segment' : 'the video'} has ${n}; returning ${n}`);
      return n;
    }
    return N;
  };
  let frames: PlannedFrame[];
  if ('uniform' in plan) {
    const N = clampCount(plan.uniform, 'uniform');
    frames = local(uniformIndices(n, N, plan.rule ?? 'linspace'));
  } else if ('lita' in plan) {
    const N = clampCount(plan.lita ?? 100, 'lita');
    frames = local(litaIndices(n, N));
  } else if ('fps' in plan) {
    const F = plan.fps;
    if (typeof F !== 'number' || !(F > 0)) throw new VidlmError('ERR_INVALID_ARG', `fps must be > 0, got ${String(F)}`);
    const rule = plan.rule ?? 'time';
    if (rule === 'step') {
      frames = local(stepIndices(n, avgFps ?? 1 / tl.frameDuration, F));
    } else if (rule === 'ffmpeg') {
      const times = Array.from({ length: n }, (_, i) => tl.time(i0 + i));
      const end = i1 === tl.n - 1 ? tl.end : tl.time(i1 + 1);
      frames = local(ffmpegFpsIndices(times, end, F));
    } else if (rule === 'time') {
      frames = fpsTimes(segStart, segEnd, F).map((t) => ({ index: Math.min(frameAtOrAfter(tl, t), i1), t }));
    } else {
      throw new VidlmError('ERR_INVALID_ARG', `unknown fps rule '${String(rule)}'`);
    }
    const before = frames.length;
    frames = frames.filter((f, k) => k === 0 || f.index !== frames[k - 1]!.index);
    if (frames.length < before) warnings.push(`${F} fps asks for more frames than the video has (${before} targets, ${frames.length} distinct frames); each frame is returned once`);
    if (plan.max !== undefined) {
      checkCount('max', plan.max);
      if (frames.length > plan.max) {
        warnings.push(`${frames.length} frames at ${F} fps exceed max ${plan.max}; sampling ${plan.max} uniformly instead`);
        frames = local(uniformIndices(n, Math.min(plan.max, n), 'linspace'));
      }
    }
  } else if ('times' in plan) {
    if (!Array.isArray(plan.times) || plan.times.length === 0 || !plan.times.every((x) => typeof x === 'number' && Number.isFinite(x))) {
      throw new VidlmError('ERR_INVALID_ARG', 'times must be a non-empty array of seconds');
    }
    let past = 0;
    frames = plan.times.map((t) => {
      let idx = frameAtOrAfter(tl, t);
      if (idx > i1) { if (t > tl.time(i1) + tl.frameDuration) past++; idx = i1; }
      if (idx < i0) idx = i0;
      return { index: idx, t };
    });
    if (past) warnings.push(`${past} time(s) after the ${plan.segment ? 'segment' : 'video'}'s last frame (${tl.time(i1).toFixed(3)} s) return the last frame`);
  } else if ('all' in plan) {
    frames = local(Array.from({ length: n }, (_, i) => i));
  } else {
    throw new VidlmError('ERR_INVALID_ARG', `unknown sampling plan ${JSON.stringify(plan)}: use { uniform }, { fps }, { lita }, { times } or { all: true }`);
  }
  const targets = walk ? new Map(frames.map((f) => [f.index, walkTarget(tl, f.index, walk.ticksPerSecond, walk.origin)])) : undefined;
  return { frames, range: [i0, i1], ...(warnings.length ? { warning: warnings.join('; ') } : {}), ...(targets ? { targets } : {}) };
}

/** Does the plan need the exact timestamps of every frame (a packet scan) on this video? */
export function planNeedsExactTimes(plan: SamplePlan): boolean {
  return 'fps' in plan && plan.rule === 'ffmpeg';
}
