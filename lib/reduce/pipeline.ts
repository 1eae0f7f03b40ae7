/**
 * The pipeline's hooks of `reduce` (lib/pipeline/read.ts calls them; each is a no-op when off):
 *   plan    → codecPlan: the frame times from the packets' change (codec-plan.ts)
 *   sample  → skipFrames: the still frames dropped before the encoder (skip.ts)
 *   assemble→ mergeOf: the repeated tokens dropped after it (merge.ts), to the budget when fixed
 * The frame list is the one hook for both paths: the native (libmtmd) path gets the kept frames too.
 */
import type { Segment } from '../assembly/plan.js';
import type { VideoSource } from '../video/video.js';
import type { SamplePlan, VideoFrame } from '../video/types.js';
import { codecTimes } from './codec-plan.js';
import { mergeRepeats } from './merge.js';
import { reducedBound, type ReduceSpec } from './option.js';
import { skipStill } from './skip.js';

/** What reduction did to one read, for the caller's report. */
export interface ReduceReport {
  /** Frames sampled (decoded) and kept (encoded). */
  sampled: number;
  kept: number;
  /** For each kept frame, the time of the last sampled frame it stands for. */
  until: number[];
  /** For each kept frame, the earlier kept frame whose picture (and embedding) it repeats, if any. */
  same: Array<number | undefined>;
  /** Frame times came from the codec's packets (codecPlan) rather than the strategy's rule. */
  codecPlan: boolean;
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

/** The frames to encode and the report; the frames unchanged when off. */
export function skipFrames<F extends VideoFrame>(frames: F[], spec: ReduceSpec | null | undefined, codec: boolean): { frames: F[]; report?: ReduceReport } {
  if (!spec) return { frames };
  const kept = skipStill(frames, spec.still);
  return { frames: kept.map((k) => k.frame), report: { sampled: frames.length, kept: kept.length, until: kept.map((k) => k.until), same: kept.map((k) => k.same), codecPlan: codec } };
}

/** The assemble stage's merge of repeated tokens; `full`: the visual tokens of the unreduced frames (for a fixed budget). */
export function mergeOf(spec: ReduceSpec | null | undefined, full: number): ((segments: readonly Segment[], dim: number) => Segment[]) | undefined {
  if (!spec) return undefined;
  const fixed = spec.tokens !== undefined || spec.ratio !== undefined;
  return (segments, dim) => mergeRepeats(segments, dim, { similar: spec.similar, ...(fixed ? { maxTokens: reducedBound(spec, full) } : {}) });
}
