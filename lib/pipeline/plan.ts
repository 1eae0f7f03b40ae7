/**
 * Stage 0, plan: from the video's probe and the query, which strategy, which frames, at which
 * size, and whether they can fit. The context budget is checked here, before any decoding, for
 * every plan: a frame count, or the least an `fps` plan gives on a video of known length.
 */
import type { StrategyName } from '../assembly/types.js';
import { audioPlanTokens, type AudioLength } from '../audio/budget.js';
import { mediaOrder } from '../audio/plan.js';
import { audioFitHint } from '../audio/suggest.js';
import { checkAudioOption, type AudioOption, type CheckedAudio } from '../audio/media.js';
import { VidlmError } from '../errors.js';
import type { ModelInfo } from '../model-info.js';
import type { TimeTokenMode } from '../time/encode.js';
import type { FitMode, FpsRule, FrameOptions, SamplePlan, VideoProbe } from '../video/types.js';
import { temporalMerge } from '../subtitles/cues.js';
import { checkSubtitleSpec, type SubtitleSpec } from '../subtitles/load.js';
import { mediaBudgetError, NO_MEDIA } from './budget-error.js';
import { reducedBound, type ReduceSpec } from '../reduce/option.js';
import type { QwenFamily } from '../mrope/index.js';
import { planModelTime } from './model-time.js';
import { chooseFrames, framesThatFit, mediaTokenBudget, visualTokens, type StrategyChoice } from './strategy.js';

/** What the pipeline needs of a checked query (lib/api/options.ts checks the user's options). */
export interface PlanQuery {
  strategy: StrategyChoice;
  frames?: number;
  fps?: number;
  /** The fps plan's frame rule (lib/video/plans.ts); default 'time'. */
  fpsRule?: FpsRule;
  segment?: [number, number];
  /** Unset: the model's own time on the native strategy of a Qwen-VL model (model-time.ts), else 'none'. */
  timeTokens?: TimeTokenMode;
  preamble: boolean;
  contextSize: number;
  fit: FitMode;
  /** Subtitle cues into the prompt (lib/subtitles): a track, a language, a stream or a file. */
  subtitles?: SubtitleSpec;
  /** The sound track into the model through libmtmd (lib/audio), and its window in seconds. */
  audio?: AudioOption;
  audioWindow?: number;
  /** 'real' (default): the embeddings of the real samples; 'padded': libmtmd's 30-s chunks (lib/audio/budget.ts). */
  audioLength?: AudioLength;
  /**
   * Caller's inputs to the stage: the media tokens this video may take (default: the context less
   * the text reserve; a server request with several videos shares it), and the sound alone (an
   * `input_audio` part of a request).
   */
  budget?: number;
  soundOnly?: boolean;
  /** Token reduction (lib/reduce): a fixed one ({ tokens }, { ratio }) lowers the frames' count before any work. */
  reduce?: ReduceSpec | null;
}

export interface VideoPlan {
  strategy: StrategyName;
  /** 'pooled': vidlm encodes the frames and a paper's method pools them; 'native': libmtmd encodes and places them inside the prefill. */
  path: 'pooled' | 'native';
  /** The frames to decode. */
  sample: SamplePlan;
  /** How they are scaled: the encoder's square input for video, the image's own size for a still. */
  frame: FrameOptions;
  /** Frames asked for (count plans; an fps plan's expected count), for progress and the clamp warning. */
  count: number;
  /** Set for count plans: fewer frames than `count` means the video had fewer. */
  byCount: boolean;
  /** The most frames whose tokens fit; decoding stops with ERR_CONTEXT_FULL past it. */
  maxFrames: number;
  /** Tokens kept free for the question, the template and the answer (and a request's other videos). */
  reserve: number;
  /** The part of the video asked about, for the audio span and the subtitle cues. */
  segment?: [number, number];
  /** No pictures (an audio file, or a model without a vision encoder): only the sound is read. */
  audioOnly?: boolean;
  /** The sound track to read and how it is laid among the frames (both paths: libmtmd encodes it). */
  audio?: CheckedAudio;
  /** The subtitle track to read. */
  subtitles?: SubtitleSpec;
  /** Frames libmtmd merges into one temporal step (2 for the Qwen-VL family): cues go after a group, never inside it. */
  temporalMerge?: number;
  /** Known before decoding (a video's picture skipped on an audio-only model). */
  warning?: string;
  /** Token reduction: the budget checks count what a fixed one keeps at most. */
  reduce?: ReduceSpec;
  /** The native strategy with the Qwen-VL family's own time (timeTokens 'model', model-time.ts): frame pairs encoded once, the family's layout. */
  modelTime?: QwenFamily;
}


/** ERR_CONTEXT_FULL for `frames` frames of a strategy: the one budget error (mediaBudgetError) with the frames alone. */
export function contextFull(strategy: StrategyName, frames: number, info: ModelInfo, contextSize: number, reserve: number, reduce: ReduceSpec | null = null): VidlmError {
  const frameTokens = reducedBound(reduce, visualTokens(strategy, frames, info));
  return mediaBudgetError({ ...NO_MEDIA, frames, imageChunks: frames, frameTokens, total: frameTokens }, contextSize - reserve, contextSize, strategy)!;
}

/** The seconds of sound a question reads: the segment, else the whole track (the plan's, the budget's and the sample stage's span). */
export function audioSpan(probe: VideoProbe, segment?: [number, number]): [number, number] {
  const end = Math.max(probe.duration, probe.audio ? probe.audio.startTime + probe.audio.duration : 0);
  return [segment?.[0] ?? 0, Math.min(segment?.[1] ?? Infinity, end)];
}

/** ERR_CONTEXT_FULL when the audio a plan reads cannot fit what the frames leave, before anything is decoded (null: it fits, or the encoder's count is unknown). */
function audioTooLong(a: CheckedAudio, probe: VideoProbe, frames: number, frameTokens: number, budget: number, contextSize: number, strategy: StrategyName, segment?: [number, number]): VidlmError | null {
  if (!probe.audio) return null;
  const span = audioSpan(probe, segment);
  const steps = mediaOrder([], span, a.mode, a.window);
  // the cost travels in `a` (the audio tower's projector, its rate, real or padded length)
  const audioTokens = audioPlanTokens(a, steps);
  if (audioTokens === null) return null;
  const total = frameTokens + audioTokens;
  // the largest audio settings that fit what the frames leave, with their numbers
  const hint = total > budget ? audioFitHint(a, span, budget - frameTokens) : '';
  const e = mediaBudgetError({ ...NO_MEDIA, frames, imageChunks: frames, frameTokens, audioSeconds: span[1] - span[0], audioChunks: steps.length, audioTokens, total },
    budget, contextSize, strategy, hint);
  return e && Object.assign(e, { details: { ...e.details, option: 'audio', audioLength: a.length, audioWindow: a.window } });
}

/** What the assemble stage needs of a plan, for a caller with frames of its own (a watch window): the strategy, the span, libmtmd's frame merge. */
export function assemblyPlan(strategy: StrategyName, info: ModelInfo, segment?: [number, number]): Pick<VideoPlan, 'strategy' | 'path' | 'segment' | 'temporalMerge'> {
  return {
    strategy, path: strategy === 'native' ? 'native' : 'pooled',
    ...(segment ? { segment } : {}),
    ...(strategy === 'native' ? { temporalMerge: temporalMerge(info.projectorType) } : {}),
  };
}

/** The plan of one query on one video; throws before any decoding when it cannot work. */
export function planVideo(probe: VideoProbe, info: ModelInfo, q: PlanQuery): VideoPlan {
  const { isImage, duration } = probe;
  if (!isImage && q.segment && duration > 0 && q.segment[0] >= duration) {
    throw new VidlmError('ERR_INVALID_ARG', `segment [${q.segment.join(', ')}] starts at or after the end of the video (${duration} s)`,
      { option: 'segment', segment: q.segment, duration });
  }
  checkSubtitleSpec(q.subtitles);
  let audio = checkAudioOption(q.audio, q.audioWindow, info, q.audioLength);
  const budget = q.budget ?? mediaTokenBudget(q.contextSize);
  const reserve = q.contextSize - budget;
  // an audio model given an audio file (no picture), or a model without a vision encoder: the sound alone, through libmtmd
  const audioOnly = info.audio && (q.soundOnly === true || !probe.video || !info.vision);
  if (audioOnly) audio ??= checkAudioOption('prefix', q.audioWindow, info, q.audioLength);
  // the strategy rules (strategy.ts): which strategy, how many frames fit, how many are asked for, how they are sampled
  const { strategy, maxFrames: chosenMax, count, byCount, sample } = chooseFrames(q.strategy, info, budget, probe, q, audioOnly);
  const modelTime = planModelTime(strategy, info, q.timeTokens, { isImage, audio: Boolean(audio) || audioOnly === true, subtitles: q.subtitles !== undefined && q.subtitles !== false });
  if (strategy === 'native' && ((q.timeTokens !== undefined && q.timeTokens !== 'none' && !modelTime) || q.preamble)) {
    throw new VidlmError('ERR_UNSUPPORTED', 'the native strategy gives the frames to the model as its own media: time tokens and the time preamble need a pooling strategy');
  }
  const reduce = strategy === 'native' ? null : q.reduce ?? null;
  // a fixed reduce keeps at most its bound: more frames fit
  const maxFrames = reduce ? framesThatFit(strategy, info, budget, reduce) : chosenMax;
  if (count > maxFrames) throw contextFull(strategy, count, info, q.contextSize, reserve, reduce);
  if (audio && q.audioWindow === undefined && !audioOnly) {
    // the default window from the cost rule, now that the frames are known
    const span = audioSpan(probe, q.segment);
    audio = checkAudioOption(q.audio, undefined, info, q.audioLength, { span: span[1] - span[0], frames: count, merge: strategy === 'native' ? temporalMerge(info.projectorType) : 1 });
  }
  if (audio) {
    // pooled: the frames' tokens are known now, the audio gets what they leave (native: the whole check follows, with the frames' real sizes)
    const e = audioTooLong(audio, probe, count, strategy === 'native' || audioOnly ? 0 : reducedBound(reduce, visualTokens(strategy, count, info)), budget, q.contextSize, strategy, q.segment);
    if (e) throw e;
  }
  // Images reach libmtmd at their own size (its preprocessing, as llama-mtmd-cli); video frames at the encoder's.
  const side = info.imageSize;
  const size: [number, number] | undefined = isImage || !side ? undefined : [side, side];
  return {
    ...assemblyPlan(strategy, info, q.segment),
    sample,
    frame: { ...(size ? { size } : {}), fit: q.fit },
    count,
    byCount,
    maxFrames,
    reserve,
    ...(audioOnly ? { audioOnly } : {}),
    ...(audio ? { audio } : {}),
    ...(reduce ? { reduce } : {}),
    ...(modelTime ? { modelTime } : {}),
    ...(q.subtitles !== undefined && q.subtitles !== false ? { subtitles: q.subtitles } : {}),
    ...(audioOnly && probe.video ? { warning: 'the model has no vision encoder: only the sound was used' } : {}),
  };
}
