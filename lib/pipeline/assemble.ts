/**
 * Stage 3, assemble: the video's part of the user turn.
 * - pooled: a paper's method (lib/assembly) turns the grids into text and embedding items, time
 *   tokens included, and places the question the way the method was trained (Video-ChatGPT first).
 * - mtmd: the frames stay media, one marker each; libmtmd places them.
 */
import { assemble as assemblePooled } from '../assembly/index.js';
import type { PooledStrategyName, SequencePlan } from '../assembly/types.js';
import type { EncodableFrame } from '../inference/encode.js';
import { composeUserTurn } from '../prompt/compose.js';
import type { TimeEncodingOptions, TimeTokenMode } from '../time/encode.js';
import type { Encoded } from './encode.js';
import type { VideoPlan } from './plan.js';

export type Assembled =
  | {
    kind: 'items';
    /** The video's items; `visual` of their tokens are embeddings. */
    items: SequencePlan;
    visual: number;
    /** The whole user turn with `question` in the method's place. */
    userTurn: (question: string) => SequencePlan;
  }
  | { kind: 'media'; frames: readonly EncodableFrame[] };

export interface AssembleQuery {
  timeTokens: TimeTokenMode;
  timeFormat?: TimeEncodingOptions['timeFormat'];
  litaSpelling?: TimeEncodingOptions['litaSpelling'];
  /** State duration and frame times in the turn (LLaVA-Video's time instruction). */
  preamble: boolean;
}

export function assemble(encoded: Encoded, plan: VideoPlan, duration: number, q: AssembleQuery,
  hasToken: (token: string) => boolean): Assembled {
  if (encoded.kind === 'media') return { kind: 'media', frames: encoded.frames };
  const items = assemblePooled(plan.strategy as PooledStrategyName, encoded.grids, {
    timeTokens: q.timeTokens, duration: duration > 0 ? duration : undefined, timeFormat: q.timeFormat, litaSpelling: q.litaSpelling, hasToken,
  });
  const visual = items.reduce((n, it) => n + ('count' in it ? it.count : 0), 0);
  const times = encoded.grids.map((g) => g.t);
  const preamble = q.preamble ? { duration, times } : null;
  return {
    kind: 'items', items, visual,
    userTurn: (question) => composeUserTurn(items, question, { preamble, questionFirst: plan.strategy === 'vcgpt' }),
  };
}
