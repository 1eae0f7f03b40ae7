/**
 * Stage 1, sample: the plan's frames decoded from the open video, RGB at the plan's size, each
 * with its time. Decoding stops as soon as more frames come than fit (an fps plan on a video of
 * unknown length). When the plan asks for them, the sound track (at the encoder's rate, cut into
 * the plan's chunks) and the subtitle cues are read from the same source.
 */
import { readAudioMedia, type AudioMedia } from '../audio/media.js';
import { VidlmError } from '../errors.js';
import { loadSubtitles, type LoadedSubtitles } from '../video/subtitles.js';
import type { SubtitleCue, VideoFrame } from '../video/types.js';
import type { VideoSource } from '../video/video.js';
import { audioSpan, contextFull, type VideoPlan } from './plan.js';
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
  /** The audio chunks and their order among the frames (plan.audio). */
  audio?: AudioMedia;
  /** Subtitle cues of the plan's track (none when it has none or could not be read: see warning). */
  cues?: SubtitleCue[];
  /** Set when the video had fewer frames than the plan asked for, and for a missing audio or subtitle track. */
  warning?: string;
}

export async function sample(source: VideoSource, plan: VideoPlan, info: ModelInfo, contextSize: number,
  opts: { signal?: AbortSignal; onProgress?: (fraction: number) => void; subtitles?: LoadedSubtitles;
    /** Each frame as it is decoded, before the next (overlap.ts: encoding while decoding goes on); awaited. */
    onFrame?: (frame: VideoFrame) => Promise<void> }): Promise<SampledVideo> {
  const frames: VideoFrame[] = [];
  if (!plan.audioOnly) {
    for await (const f of source.frames(plan.sample, { ...plan.frame, signal: opts.signal })) {
      frames.push(f);
      if (frames.length > plan.maxFrames) throw contextFull(plan.strategy, frames.length, info, contextSize, plan.reserve, plan.reduce);
      opts.onProgress?.(plan.count > 0 ? Math.min(1, frames.length / plan.count) : 0);
      await opts.onFrame?.(f);
    }
  }
  const warnings = [plan.warning];
  if (plan.byCount && frames.length < plan.count) warnings.push(`the video has ${frames.length} of the ${plan.count} frames asked for`);
  let audio: AudioMedia | undefined;
  if (plan.audio) {
    audio = await readAudioMedia(source, plan.audio, frames.map((f) => f.t), audioSpan(source.probe, plan.segment), info.audioSampleRate ?? 16000, opts.signal);
    warnings.push(...audio.warnings);
  }
  if (frames.length === 0 && !audio?.chunks.length) throw new VidlmError('ERR_VIDEO_EMPTY', 'no frames could be sampled from the video');
  let cues: SubtitleCue[] | undefined;
  if (plan.subtitles !== undefined) {
    const subs = opts.subtitles ?? await loadSubtitles(source, plan.subtitles, opts.signal); // read by the budget check
    cues = subs.track?.cues ?? [];
    warnings.push(...subs.warnings);
  }
  const warning = warnings.filter(Boolean).join('; ');
  return {
    frames, duration: source.probe.duration, variant: plan.variant,
    ...(audio ? { audio } : {}),
    ...(cues ? { cues } : {}),
    ...(warning ? { warning } : {}),
  };
}
