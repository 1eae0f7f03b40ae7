/**
 * Token assembly strategies: per-frame visual token grids in, a sequence plan out. Pure
 * functions; the numbers of every method come from shared/reference/video-llm-methods.md.
 */
import { VidlmError } from '../errors.js';
import type { TimeEncodingOptions } from '../time/encode.js';
import { bilinear, bilinearDefaults, type BilinearCountOptions, type BilinearOptions } from './bilinear.js';
import { concat, concatDefaults, type ConcatOptions } from './concat.js';
import { native, nativeDefaults } from './native.js';
import { pllava, pllavaDefaults, type PllavaOptions } from './pllava.js';
import { slowfast, slowfastDefaults, type SlowFastOptions } from './slowfast.js';
import type { Strategy } from './strategy.js';
import type { FrameGrid, GridShape, SequencePlan, StrategyName } from './types.js';
import { vcgpt, vcgptDefaults, type VcgptOptions } from './vcgpt.js';

export interface StrategyOptionsMap {
  concat: ConcatOptions;
  slowfast: SlowFastOptions;
  pllava: PllavaOptions;
  bilinear: BilinearOptions;
  vcgpt: VcgptOptions;
  native: Record<string, never>;
}

export interface StrategyCountOptionsMap extends Omit<StrategyOptionsMap, 'bilinear'> {
  bilinear: BilinearCountOptions;
}

export type AssembleOptions<N extends StrategyName = StrategyName> = StrategyOptionsMap[N] & TimeEncodingOptions;

export const strategies: { readonly [N in StrategyName]: Strategy<StrategyOptionsMap[N], StrategyCountOptionsMap[N]> } = {
  concat, slowfast, pllava, bilinear, vcgpt, native,
};

export const strategyNames = Object.keys(strategies) as StrategyName[];

/** Each strategy's paper defaults, e.g. `defaults.slowfast.frames === 100`. */
export const defaults = {
  concat: concatDefaults, slowfast: slowfastDefaults, pllava: pllavaDefaults,
  bilinear: bilinearDefaults, vcgpt: vcgptDefaults, native: nativeDefaults,
} as const;

function lookup(name: string): Strategy<object, object> {
  if (!Object.hasOwn(strategies, name)) {
    throw new VidlmError('ERR_INVALID_ARG', `unknown strategy ${JSON.stringify(name)}; one of ${strategyNames.join(', ')}`);
  }
  return strategies[name as StrategyName] as Strategy<object, object>;
}

/** Builds the sequence plan of `grids` with strategy `name` (throws ERR_UNSUPPORTED for `native`). */
export function assemble<N extends StrategyName>(name: N, grids: readonly FrameGrid[], opts?: AssembleOptions<N>): SequencePlan {
  return lookup(name).assemble(grids, opts);
}

/** Visual tokens strategy `name` will produce for `frames` grids of nx × ny, before any encoding. */
export function countTokens<N extends StrategyName>(name: N, shape: GridShape, opts?: StrategyCountOptionsMap[N]): number {
  return lookup(name).countTokens(shape, opts);
}

export { planTokenCount, buildPlan, type Segment } from './plan.js';
export { isEmbeddingItem } from './types.js';
export type { FrameGrid, GridShape, PlanItem, SequencePlan, StrategyName, TextItem, EmbeddingItem } from './types.js';
export type { Strategy } from './strategy.js';
export { assembleConcat, countConcat, concatDefaults, type ConcatOptions } from './concat.js';
export { assembleSlowFast, countSlowFast, slowfastDefaults, slowFrameIndices, type SlowFastOptions } from './slowfast.js';
export { assemblePllava, countPllava, pllavaDefaults, pllavaTarget, type PllavaOptions } from './pllava.js';
export {
  assembleBilinear, countBilinear, bilinearDefaults, llavaVideoPreset,
  type BilinearOptions, type BilinearCountOptions, type NewlinePosition, type SpatialPool,
} from './bilinear.js';
export { assembleVcgpt, countVcgpt, vcgptDefaults, type VcgptOptions } from './vcgpt.js';
export { nativeDefaults } from './native.js';
