/**
 * Stage 0, plan: from the video's probe and the query, which strategy, which frames, at which
 * size, and whether they can fit. The context budget is checked here, before any decoding, for
 * every plan: a frame count, or the least an `fps` plan gives on a video of known length.
 *
 * The strategy rules live here, once for every surface: which token path a question takes and
 * its numbers (the strategy that fits the context, how many frames each method samples and with
 * which index rule, shared/reference/video-llm-methods.md, how many visual tokens that makes
 * before any work, the text reserve), and whether a native plan sends the Qwen-VL family's own
 * layout of time (`timeTokens: 'model'`; the layout itself is assemble.ts's).
 */
import type { StrategyName } from '../assembly/types.js';
import { countTokens, defaults, strategyNames } from '../assembly/index.js';
import { audioFitHint } from '../audio/suggest.js';
import { checkAudioOption, mediaSteps, type AudioLength, type AudioOption, type CheckedAudio } from '../audio/media.js';
import { VidlmError } from '../errors.js';
import { temporalMerge, type ModelInfo } from '../model-info.js';
import type { QwenFamily } from '../mrope/index.js';
import type { TimeTokenMode } from '../time/encode.js';
import type { FitMode, FpsRule, FrameOptions, SamplePlan, VideoProbe } from '../video/types.js';
import { checkSubtitleSpec, type SubtitleSpec } from '../video/subtitles.js';
import { mediaBudgetError, NO_MEDIA } from './budget-error.js';
import type { ReduceSpec } from '../reduce/option.js';
import { reducedBound } from '../reduce/merge.js';

export type StrategyChoice = StrategyName | 'auto';

/** Tokens kept free for the question, the template and the answer: the one text reserve of every surface. */
export const textReserve = (contextSize: number): number => Math.min(256, Math.floor(contextSize / 4));

/** Tokens left for media in a context of `contextSize`, shared by `parts` videos (a server request may carry several). */
export const mediaTokenBudget = (contextSize: number, parts = 1): number => Math.floor((contextSize - textReserve(contextSize)) / Math.max(1, parts));

/** Every name the `strategy` option takes besides 'auto'. */
export const queryStrategies: readonly StrategyName[] = [...strategyNames, 'native'];

/**
 * the native path (libmtmd's own media handling): frames it encodes and places itself (M-RoPE, temporal merges).
 * 16 frames by default: Qwen2-VL merges frame pairs, so 8 temporal steps.
 */
export const nativeDefaults = { frames: 16 } as const;

/** Frames each method samples by default (its paper's number; 16 for the model's own path). */
export function defaultFrames(strategy: StrategyName): number {
  return strategy === 'native' ? nativeDefaults.frames : defaults[strategy].frames;
}

/** The sampling plan of a method: its own index rule over the video. */
export function samplingPlan(strategy: StrategyName, frames: number, fps?: number, segment?: [number, number], fpsRule?: FpsRule): SamplePlan {
  const seg = segment ? { segment } : {};
  if (fps !== undefined) return { fps, ...(fpsRule ? { rule: fpsRule } : {}), ...seg };
  switch (strategy) {
    case 'slowfast': return { lita: frames, ...seg };           // LITA: round(linspace(0, n-1, T))
    case 'pllava': return { uniform: frames, rule: 'middle', ...seg };   // mid-segment uniform
    case 'vcgpt': return { uniform: frames, rule: 'vcgpt', ...seg };     // Video-ChatGPT's rule
    default: return { uniform: frames, rule: 'linspace', ...seg };      // Video-LLaVA, OneVision: linspace(…, dtype=int)
  }
}

/** Visual tokens of a strategy for `frames` frames of this model, before any work. */
export function visualTokens(strategy: StrategyName, frames: number, info: ModelInfo): number {
  const grid = info.imageGrid;
  if (!grid) throw new VidlmError('ERR_UNSUPPORTED', 'the model has no vision encoder');
  if (strategy === 'native') return frames * (info.tokensPerImage ?? grid.nx * grid.ny);
  return countTokens(strategy, { frames, nx: grid.nx, ny: grid.ny });
}

/**
 * `auto`: M-RoPE models take their own path (frames as the model's media); otherwise the least
 * pooled method whose default frame count fits in `budget` tokens (concat, then PLLaVA's 2×2
 * pooling, then LITA's SlowFast). Any model takes any strategy; on an M-RoPE model a pooled
 * method's grids get M-RoPE positions of their own (lib/assembly/mrope.ts).
 */
export function chooseStrategy(choice: StrategyChoice, info: ModelInfo, budget: number, frames?: number): StrategyName {
  if (choice !== 'auto' && !queryStrategies.includes(choice)) {
    throw new VidlmError('ERR_INVALID_ARG', `strategy must be 'auto' or one of ${queryStrategies.join(', ')} (got ${JSON.stringify(choice)})`);
  }
  // M-RoPE models take every method: pooled grids get (t, h, w) positions from their own grids (lib/assembly/mrope.ts)
  if (choice !== 'auto') return choice;
  if (info.mrope) return 'native';
  return leastPooled(info, budget, frames);
}

/** The least pooled method whose frames fit in `budget` tokens: concat, then PLLaVA's 2×2 pooling, then LITA's SlowFast. */
export function leastPooled(info: ModelInfo, budget: number, frames?: number): StrategyName {
  for (const s of ['concat', 'pllava', 'slowfast'] as const) {
    if (visualTokens(s, frames ?? defaultFrames(s), info) <= budget) return s;
  }
  return 'slowfast';
}

/** The most frames whose visual tokens fit in `budget` (Infinity for the native path: libmtmd counts them in the prefill). */
export function framesThatFit(strategy: StrategyName, info: ModelInfo, budget: number, reduce: ReduceSpec | null = null): number {
  if (strategy === 'native') return Infinity;
  let lo = 0, hi = 10_000;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (reducedBound(reduce, visualTokens(strategy, mid, info)) <= budget) lo = mid; else hi = mid - 1;
  }
  return lo;
}

/** Fewest frames an fps plan gives on this video: known before decoding when the duration is. */
export function fpsFramesAtLeast(fps: number, probe: VideoProbe, segment?: [number, number], rule?: FpsRule): number {
  const start = segment?.[0] ?? 0;
  const end = Math.min(segment?.[1] ?? probe.duration, probe.duration);
  const avg = probe.video?.avgFps || fps;
  // a frame is never returned twice; 'step' takes every round(avg / fps)-th frame (ceil: the fewest)
  const rate = rule === 'step' ? avg / Math.max(1, Math.ceil(avg / fps)) : Math.min(fps, avg);
  return Math.max(1, Math.floor((end - start) * rate) - 1);
}

/** The frames part of a plan: the strategy, the most frames that fit, the frames asked for and how they are sampled. */
export interface FrameChoice {
  strategy: StrategyName;
  maxFrames: number;
  /** Frames asked for: a count (the method's default without one), the least an fps plan gives on a video of known length, 1 for a still, 0 for the sound alone. */
  count: number;
  /** A count plan: fewer frames than `count` means the video had fewer. */
  byCount: boolean;
  sample: SamplePlan;
}

/**
 * The strategy rules on one video, before any decoding: auto's choice (the native path for the
 * sound alone), the most frames `budget` holds, the frames asked for and the method's sampling
 * plan. The caller judges them (ERR_CONTEXT_FULL when `count` exceeds `maxFrames`).
 */
export function chooseFrames(choice: StrategyChoice, info: ModelInfo, budget: number, probe: VideoProbe,
  q: { frames?: number; fps?: number; fpsRule?: FpsRule; segment?: [number, number] }, audioOnly: boolean): FrameChoice {
  const { isImage, duration } = probe;
  const strategy = audioOnly ? 'native' : chooseStrategy(choice, info, budget, isImage ? 1 : q.frames);
  const fps = isImage ? undefined : q.fps;
  const maxFrames = framesThatFit(strategy, info, budget);
  const count = audioOnly ? 0 : isImage ? 1 : fps === undefined ? q.frames ?? defaultFrames(strategy) : duration > 0 ? fpsFramesAtLeast(fps, probe, q.segment, q.fpsRule) : 0;
  return {
    strategy, maxFrames, count,
    byCount: !isImage && !audioOnly && fps === undefined,
    sample: isImage || audioOnly ? { uniform: 1 } : samplingPlan(strategy, count, fps, q.segment, q.fpsRule),
  };
}

const FAMILY_NAMES: Record<QwenFamily, string> = { qwen2vl: 'Qwen2-VL', qwen25vl: 'Qwen2.5-VL', qwen3vl: 'Qwen3-VL' };

/**
 * The family whose time rule applies to a pair, from its mmproj's projector type (the LLM architecture of a
 * Qwen2.5-VL is `qwen2vl` like Qwen2-VL's, so the projector decides). null for other projectors, including
 * Qwen2.5-Omni (`qwen2.5o`), whose thinker interleaves audio and uses 25 positions per second.
 */
export function qwenFamilyOf(projectorType: string | null): QwenFamily | null {
  switch (projectorType) {
    case 'qwen2vl_merger': return 'qwen2vl';
    case 'qwen2.5vl_merger': return 'qwen25vl';
    case 'qwen3vl_merger': return 'qwen3vl';
    default: return null;
  }
}

/** The family whose layout `timeTokens: 'model'` sends on this model (null: none, the model is not of the Qwen-VL family). */
export function modelTimeFamily(info: Pick<ModelInfo, 'vision' | 'projectorType'>): QwenFamily | null {
  return info.vision ? qwenFamilyOf(info.projectorType) : null;
}

/**
 * The option alone, before any work: `'model'` needs a Qwen-VL model and the native strategy (or
 * 'auto', which takes native on these models). ERR_UNSUPPORTED otherwise, naming the option.
 */
export function checkModelTimeOption(timeTokens: TimeTokenMode | undefined, strategy: StrategyName | 'auto' | undefined, info: Pick<ModelInfo, 'vision' | 'projectorType'>): void {
  if (timeTokens !== 'model') return;
  if (!modelTimeFamily(info)) {
    throw new VidlmError('ERR_UNSUPPORTED', `timeTokens 'model' is the layout of time a Qwen2-VL, Qwen2.5-VL or Qwen3-VL model was trained with (mmproj projector qwen2vl_merger, qwen2.5vl_merger or qwen3vl_merger); this model's projector is ${info.projectorType ?? 'none'}: use 'none', 'text' or 'lita'`,
      { option: 'timeTokens', projectorType: info.projectorType });
  }
  if (strategy !== undefined && strategy !== 'auto' && strategy !== 'native') {
    throw new VidlmError('ERR_UNSUPPORTED', `timeTokens 'model' is the model's own layout of its frames: it takes the native strategy; the pooled method ${strategy} takes 'none', 'text' or 'lita'`, { option: 'timeTokens' });
  }
}

/**
 * The family whose layout a plan sends, or undefined for libmtmd's own (images, sound or subtitles
 * between the frames, `timeTokens: 'none'`). Default (timeTokens unset): the family's layout on the
 * native strategy. An explicit 'model' with sound or subtitles is ERR_UNSUPPORTED: those go between
 * the frames, which libmtmd's layout (`'none'`) does.
 */
export function planModelTime(strategy: StrategyName, info: Pick<ModelInfo, 'vision' | 'projectorType'>, timeTokens: TimeTokenMode | undefined,
  media: { isImage: boolean; audio: boolean; subtitles: boolean }): QwenFamily | undefined {
  if (timeTokens !== undefined && timeTokens !== 'model') return undefined;
  checkModelTimeOption(timeTokens, strategy, info);
  const family = modelTimeFamily(info);
  if (strategy !== 'native' || !family || media.isImage) return undefined;
  if (media.audio || media.subtitles) {
    if (timeTokens === undefined) return undefined;
    throw new VidlmError('ERR_UNSUPPORTED', `timeTokens 'model' sends ${FAMILY_NAMES[family]}'s own layout of the frames alone; with ${media.audio ? 'sound' : 'subtitles'} between the frames use timeTokens 'none' (libmtmd's layout)`,
      { option: 'timeTokens' });
  }
  return family;
}

/** What the pipeline needs of a checked query (lib/api/options.ts checks the user's options). */
export interface PlanQuery {
  strategy: StrategyChoice;
  frames?: number;
  fps?: number;
  /** The fps plan's frame rule (lib/video/plans.ts); default 'time'. */
  fpsRule?: FpsRule;
  segment?: [number, number];
  /** Unset: the model's own time on the native strategy of a Qwen-VL model (planModelTime below), else 'none'. */
  timeTokens?: TimeTokenMode;
  preamble: boolean;
  contextSize: number;
  fit: FitMode;
  /** Subtitle cues into the prompt (lib/subtitles): a track, a language, a stream or a file. */
  subtitles?: SubtitleSpec;
  /** The sound track into the model through libmtmd (lib/audio), and its window in seconds. */
  audio?: AudioOption;
  audioWindow?: number;
  /** 'real' (default): the embeddings of the real samples; 'padded': libmtmd's 30-s chunks (lib/audio/media.ts). */
  audioLength?: AudioLength;
  /**
   * Caller's inputs to the stage: how many videos share the media tokens (a server request with
   * several; default 1: the context less the text reserve, mediaTokenBudget), and the sound alone
   * (an `input_audio` part of a request).
   */
  parts?: number;
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
  /** `frame` as the embedding cache's key text (frameVariant): named once here, for sample and the overlap's encodes. */
  variant: string;
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
  /** The native strategy with the Qwen-VL family's own time (timeTokens 'model', planModelTime; assemble.ts lays it out): frame pairs encoded once, the family's layout. */
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
  // the cost travels in `a` (the audio tower's projector, its rate, real or padded length)
  const { steps, tokens: audioTokens } = mediaSteps([], a, span);
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

/**
 * The cache-key text of the frame options: every field, in a fixed order, defaults spelled out. With
 * the source's identity it keys the embedding cache, so a padded and a cropped frame never share one.
 */
export function frameVariant(o: FrameOptions): string {
  return JSON.stringify([o.size ?? null, o.fit ?? 'stretch', o.padColor ?? null, o.scaler ?? 'bicubic']);
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
  const budget = mediaTokenBudget(q.contextSize, q.parts);
  const reserve = q.contextSize - budget;
  // an audio model given an audio file (no picture), or a model without a vision encoder: the sound alone, through libmtmd
  const audioOnly = info.audio && (q.soundOnly === true || !probe.video || !info.vision);
  if (audioOnly) audio ??= checkAudioOption('prefix', q.audioWindow, info, q.audioLength);
  // the strategy rules (above): which strategy, how many frames fit, how many are asked for, how they are sampled
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
  const frame: FrameOptions = { ...(size ? { size } : {}), fit: q.fit };
  return {
    ...assemblyPlan(strategy, info, q.segment),
    sample,
    frame,
    variant: frameVariant(frame),
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
