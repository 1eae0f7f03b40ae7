/**
 * Codec-aware sampling plan: spend the frame budget where the video changes. The demuxer's packet
 * sizes are the encoder's own measure of change (a predicted frame costs bits in proportion to
 * what moved; a still scene costs almost none), and a keyframe off the stream's regular keyframe
 * interval is a scene cut the encoder found. Read with no decoding (VideoSource.packets()).
 *
 * The density over time is `floor` spread uniformly (quiet stretches still get frames) plus the
 * rest in proportion to the change; the frames are its quantiles, snapped to real packet times, so
 * every frame time is exact and no frame is taken twice.
 */
import type { VideoSource } from '../video/video.js';
import type { SamplePlan } from '../video/types.js';
import type { ReduceSpec } from './option.js';


export interface Packets {
  /** Seconds on the video's timeline, ascending. */
  t: Float64Array;
  /** Bytes of each packet. */
  size: Float64Array;
  /** 1 for a keyframe. */
  key: Uint8Array;
}

/** The change each packet stands for: a predicted frame's size; a keyframe's (intra-coded: large whatever moved) is its neighbours' mean, plus a cut's weight when it is off the regular interval. */
export function packetChange(p: Packets): Float64Array {
  const n = p.t.length;
  const c = new Float64Array(n);
  const keys: number[] = [];
  for (let i = 0; i < n; i++) if (p.key[i]) keys.push(i);
  const gaps = keys.slice(1).map((k, i) => k - keys[i]!).sort((a, b) => a - b);
  const gop = gaps.length ? gaps[Math.floor(gaps.length / 2)]! : Infinity; // the regular keyframe interval
  let sum = 0, m = 0;
  for (let i = 0; i < n; i++) if (!p.key[i]) { sum += p.size[i]!; m++; }
  const meanP = m ? sum / m : 0;
  for (let i = 0; i < n; i++) {
    if (!p.key[i]) { c[i] = p.size[i]!; continue; }
    const prev = i > 0 && !p.key[i - 1] ? p.size[i - 1]! : meanP, next = i + 1 < n && !p.key[i + 1] ? p.size[i + 1]! : meanP;
    c[i] = (prev + next) / 2;
  }
  // a keyframe sooner than the regular interval: the encoder saw a scene cut (x264's scenecut)
  for (let k = 1; k < keys.length; k++) if (keys[k]! - keys[k - 1]! < gop * 0.9) c[keys[k]!] = c[keys[k]!]! + Math.max(meanP, 1) * 20;
  return c;
}

/**
 * `count` frame times within [start, end) (default: every packet): quantiles of the density
 * floor·uniform + (1 − floor)·change, each at a packet's exact time, all distinct.
 */
export function codecTimes(p: Packets, count: number, floor = 0.5, segment?: [number, number]): number[] {
  const idx: number[] = [];
  for (let i = 0; i < p.t.length; i++) if (!segment || (p.t[i]! >= segment[0] && p.t[i]! < segment[1])) idx.push(i);
  if (idx.length <= count) return idx.map((i) => p.t[i]!);
  const change = packetChange(p);
  let total = 0;
  for (const i of idx) total += change[i]!;
  const w = idx.map((i) => floor / idx.length + (total > 0 ? (1 - floor) * change[i]! / total : (1 - floor) / idx.length));
  // cumulative weight; the k-th frame is the packet where it passes (k + 0.5) / count
  const taken = new Set<number>();
  const out: number[] = [];
  let acc = 0, j = 0;
  for (let k = 0; k < count; k++) {
    const q = (k + 0.5) / count;
    while (j < idx.length - 1 && acc + w[j]! < q) acc += w[j++]!;
    let at = j;
    while (taken.has(at) && at < idx.length - 1) at++; // a burst wants more frames than it has: the next ones
    while (taken.has(at)) at--;
    taken.add(at);
    out.push(p.t[idx[at]!]!);
  }
  return out.sort((a, b) => a - b);
}

/** The share of the frame budget spread uniformly whatever the codec says. */
export const CODEC_FLOOR = 0.5;

/** The plan's frames by the codec's change, for count plans on a video file (fps plans and images keep theirs). */
export async function codecPlan(source: VideoSource, sample: SamplePlan, count: number, spec: ReduceSpec | null | undefined,
  eligible: boolean, signal?: AbortSignal): Promise<SamplePlan | null> {
  if (!spec?.codecPlan || !eligible || count < 2 || source.probe.isImage || source.probe.isLive || !source.probe.video) return null;
  const packets = await source.packets(signal);
  const times = codecTimes(packets, count, CODEC_FLOOR, sample.segment);
  return times.length ? { times, ...(sample.segment ? { segment: sample.segment } : {}) } : null;
}
