/** What every strategy module provides, so the registry can treat them alike. */
import type { PlanOptions } from './plan.js';
import type { FrameGrid, GridShape, PooledStrategyName, SequencePlan } from './types.js';

export interface Strategy<O extends object = object, C extends object = O> {
  name: PooledStrategyName;
  /** The method it reproduces. */
  source: string;
  /** The paper's defaults: `frames` the sampler should take. */
  defaults: { readonly frames: number };
  assemble(grids: readonly FrameGrid[], opts?: O & PlanOptions): SequencePlan;
  /** Visual tokens the plan will hold, from the shape alone (no encoding needed). */
  countTokens(shape: GridShape, opts?: C): number;
}
