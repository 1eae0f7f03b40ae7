/**
 * Stage 1, sample: the plan's frames decoded from the open video, RGB at the plan's size, each
 * with its time. Decoding stops as soon as more frames come than fit (an fps plan on a video of
 * unknown length).
 */
import { VidlmError } from '../errors.js';
import type { FrameOptions, VideoFrame } from '../video/types.js';
import type { VideoSource } from '../video/video.js';
import { contextFull, type VideoPlan } from './plan.js';
import type { ModelInfo } from '../model-info.js';

export interface SampledVideo {
  frames: VideoFrame[];
  /** Seconds; 0 for a still image or an unknown length. */
  duration: number;
  /**
   * Every frame option that changes the pixels (size, fit, pad colour, scaler), as text: with the
   * source's identity it keys the embedding cache, so a padded and a cropped frame never share one.
   */
  variant: string;
  /** Set when the video had fewer frames than the plan asked for. */
  warning?: string;
}

/** The cache-key text of the frame options: every field, in a fixed order, defaults spelled out. */
export function frameVariant(o: FrameOptions): string {
  return JSON.stringify([o.size ?? null, o.fit ?? 'stretch', o.padColor ?? null, o.scaler ?? 'bicubic']);
}

export async function sample(source: VideoSource, plan: VideoPlan, info: ModelInfo, contextSize: number,
  opts: { signal?: AbortSignal; onProgress?: (fraction: number) => void }): Promise<SampledVideo> {
  const frames: VideoFrame[] = [];
  for await (const f of source.frames(plan.sample, { ...plan.frame, signal: opts.signal })) {
    frames.push(f);
    if (frames.length > plan.maxFrames) throw contextFull(plan.strategy, frames.length, info, contextSize, plan.reserve);
    opts.onProgress?.(plan.count > 0 ? Math.min(1, frames.length / plan.count) : 0);
  }
  if (frames.length === 0) throw new VidlmError('ERR_VIDEO_EMPTY', 'no frames could be sampled from the video');
  const warning = plan.byCount && frames.length < plan.count ? `the video has ${frames.length} of the ${plan.count} frames asked for` : undefined;
  return {
    frames, duration: source.probe.duration, variant: frameVariant(plan.frame),
    ...(warning ? { warning } : {}),
  };
}
