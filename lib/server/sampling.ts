/**
 * Which token method a request's videos use and how each is sampled, from the public assembly
 * API (countTokens, strategyDefaults): 'auto' is the least pooled method whose default frame
 * count fits the slot, as ask() chooses; M-RoPE models take the native path.
 */
import { countTokens, defaults as strategyDefaults } from '../assembly/index.js';
import type { ModelInfo } from '../model.js';
import type { SamplePlan } from '../video/types.js';
import type { StrategyName } from '../assembly/types.js';
import { HttpError } from './errors.js';

export function defaultFrames(strategy: StrategyName): number {
  return strategy === 'native' ? 16 : strategyDefaults[strategy].frames;
}

/** Visual tokens of `frames` frames with `strategy` on this model, before any work. */
export function visualTokens(strategy: StrategyName, frames: number, info: ModelInfo): number {
  const grid = info.imageGrid!;
  if (strategy === 'native') return frames * (info.tokensPerImage ?? grid.nx * grid.ny);
  return countTokens(strategy, { frames, nx: grid.nx, ny: grid.ny });
}

export function chooseStrategy(choice: StrategyName | 'auto', info: ModelInfo, budget: number, frames?: number): StrategyName {
  if (choice !== 'auto') {
    if (info.mrope && choice !== 'native') throw new HttpError(400, 'unsupported_value', `${info.architecture} uses M-RoPE positions: only the native strategy fits it`, { param: 'vidlm.strategy' });
    if (!info.mrope && choice === 'native') throw new HttpError(400, 'unsupported_value', 'the native strategy is for M-RoPE models (Qwen2-VL family): use a pooling strategy', { param: 'vidlm.strategy' });
    return choice;
  }
  if (info.mrope) return 'native';
  for (const s of ['concat', 'pllava', 'slowfast'] as const) {
    if (visualTokens(s, frames ?? defaultFrames(s), info) <= budget) return s;
  }
  return 'slowfast';
}

/** Each method's own frame index rule (the papers'), as ask() samples. */
export function samplingPlan(strategy: StrategyName, frames: number, fps?: number, segment?: [number, number]): SamplePlan {
  const seg = segment ? { segment } : {};
  if (fps !== undefined) return { fps, ...seg };
  switch (strategy) {
    case 'slowfast': return { lita: frames, ...seg };
    case 'pllava': return { uniform: frames, rule: 'middle', ...seg };
    case 'vcgpt': return { uniform: frames, rule: 'vcgpt', ...seg };
    default: return { uniform: frames, rule: 'linspace', ...seg };
  }
}
