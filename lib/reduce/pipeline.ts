/**
 * The pipeline's hooks of `reduce` (lib/pipeline/read.ts and assemble.ts call them; each is a no-op
 * when off), each in the file of its concept:
 *   plan    → codecPlan: the frame times from the packets' change (codec-plan.ts)
 *   sample  → skipFrames: the still frames dropped before the encoder, and the encoder that
 *             encodes a returning picture once (skip.ts)
 *   assemble→ mergeOf: the repeated tokens dropped after it (merge.ts), to the budget when fixed
 * The frame list is the one hook for both paths: the native (libmtmd) path gets the kept frames too.
 */
export { codecPlan, CODEC_FLOOR } from './codec-plan.js';
export { skipFrames, type ReduceReport } from './skip.js';
export { mergeOf } from './merge.js';
