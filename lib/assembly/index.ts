/**
 * Token assembly strategies: per-frame visual token grids in, a sequence plan out. Pure
 * functions; the numbers of every method come from shared/reference/video-llm-methods.md.
 */
import { VidlmError } from '../errors.js';
import type { TimeEncodingOptions } from '../time/encode.js';
import { bilinear, bilinearDefaults, type BilinearCountOptions, type BilinearOptions } from './bilinear.js';
import { concat, concatDefaults, type ConcatOptions } from './concat.js';
import { pllava, pllavaDefaults, type PllavaOptions } from './pllava.js';
import { slowfast, slowfastDefaults, type SlowFastOptions } from './slowfast.js';
import type { PlanOptions, SlottedPlan, TimeSlot } from './plan.js';
import type { Strategy } from './strategy.js';
import type { FrameGrid, GridShape, PooledStrategyName, SequencePlan } from './types.js';
import { vcgpt, vcgptDefaults, type VcgptOptions } from './vcgpt.js';

export interface StrategyOptionsMap {
  concat: ConcatOptions;
  slowfast: SlowFastOptions;
  pllava: PllavaOptions;
  bilinear: BilinearOptions;
  vcgpt: VcgptOptions;
}

export interface StrategyCountOptionsMap extends Omit<StrategyOptionsMap, 'bilinear'> {
  bilinear: BilinearCountOptions;
}

export type AssembleOptions<N extends PooledStrategyName = PooledStrategyName> = StrategyOptionsMap[N] & TimeEncodingOptions & Pick<PlanOptions, 'merge'>;

/** The pooled methods. `native` is not one: libmtmd assembles its own media (lib/pipeline/mtmd.ts). */
export const strategies: { readonly [N in PooledStrategyName]: Strategy<StrategyOptionsMap[N], StrategyCountOptionsMap[N]> } = {
  concat, slowfast, pllava, bilinear, vcgpt,
};

export const strategyNames = Object.keys(strategies) as PooledStrategyName[];

/** Each strategy's paper defaults, e.g. `defaults.slowfast.frames === 100`. */
export const defaults = {
  concat: concatDefaults, slowfast: slowfastDefaults, pllava: pllavaDefaults,
  bilinear: bilinearDefaults, vcgpt: vcgptDefaults,
} as const;

function lookup(name: string): Strategy<object, object> {
  if (name === 'native') {
    throw new VidlmError('ERR_UNSUPPORTED', "native: libmtmd assembles the model's own media inside the prefill (ask/chat with strategy 'native'); there are no grids to assemble");
  }
  if (!Object.hasOwn(strategies, name)) {
    throw new VidlmError('ERR_INVALID_ARG', `unknown strategy ${JSON.stringify(name)}; one of ${strategyNames.join(', ')}`);
  }
  return strategies[name as PooledStrategyName] as Strategy<object, object>;
}

/** Builds the sequence plan of `grids` with pooled strategy `name`. */
export function assemble<N extends PooledStrategyName>(name: N, grids: readonly FrameGrid[], opts?: AssembleOptions<N>): SequencePlan {
  return lookup(name).assemble(grids, opts);
}

/**
 * The plan of `grids` with other media's places in it (lib/audio's chunks): `{ slot: k }` stands
 * where `slots[k]` goes, after its time marker. The frame items are exactly those of assemble():
 * pooling never sees the slots.
 */
export function assembleWithSlots<N extends PooledStrategyName>(name: N, grids: readonly FrameGrid[], slots: readonly TimeSlot[], opts?: AssembleOptions<N>): SlottedPlan {
  return lookup(name).assemble(grids, { ...opts, slots }) as SlottedPlan;
}

/** Visual tokens strategy `name` will produce for `frames` grids of nx × ny, before any encoding. */
export function countTokens<N extends PooledStrategyName>(name: N, shape: GridShape, opts?: StrategyCountOptionsMap[N]): number {
  return lookup(name).countTokens(shape, opts);
}

export { planTokenCount, buildPlan, isSlotItem, type Segment, type PlanOptions, type SlotItem, type SlottedPlan, type TimeSlot } from './plan.js';
export { isEmbeddingItem } from './types.js';
export type { FrameGrid, GridBlock, GridShape, PlanItem, PooledStrategyName, SequencePlan, StrategyName, TextItem, EmbeddingItem } from './types.js';
export type { Strategy } from './strategy.js';
export { assembleConcat, countConcat, concatDefaults, type ConcatOptions } from './concat.js';
export { assembleSlowFast, countSlowFast, slowfastDefaults, slowFrameIndices, type SlowFastOptions } from './slowfast.js';
export { assemblePllava, countPllava, pllavaDefaults, pllavaTarget, type PllavaOptions } from './pllava.js';
export {
  assembleBilinear, countBilinear, bilinearDefaults, llavaVideoPreset,
  type BilinearOptions, type BilinearCountOptions, type NewlinePosition, type SpatialPool,
} from './bilinear.js';
export { assembleVcgpt, countVcgpt, vcgptDefaults, type VcgptOptions } from './vcgpt.js';
