/**
 * Which token path a question takes and its numbers: the strategy that fits the context, how
 * many frames each method samples and with which index rule (shared/reference/video-llm-methods.md),
 * and how many visual tokens that makes before any work.
 */
import { reducedBound, type ReduceSpec } from '../reduce/option.js';
import { countTokens, defaults, strategyNames } from '../assembly/index.js';
import type { StrategyName } from '../assembly/types.js';
import { VidlmError } from '../errors.js';
import type { ModelInfo } from '../model-info.js';
import type { FpsRule, SamplePlan, VideoProbe } from '../video/types.js';

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
