/**
 * Merge after encoding, query-agnostic: DyCoke's temporal token merging (Tao et al., CVPR 2025,
 * "DyCoke: Dynamic Compression of Tokens for Fast Video Large Language Models", stage 1, TTM).
 * A token that repeats the token at the same place of the frame before it (cosine similarity
 * above `similar`) adds nothing the kept one does not say, and is dropped.
 *
 * Why this one: it needs no question (DyCoke's stage 2 prunes the KV cache by attention to the
 * question, and FastVID's and HoliTom's keep depends on no question either but cluster whole
 * segments; STTM merges in a quadtree), so the chat's prefix is the same for every follow-up; it
 * works on any pooled method's per-frame blocks (Video-LLaVA's grids, PLLaVA's pooled grids,
 * SlowFast's fast tokens) in one pass of O(tokens × dim); and what it keeps stays in time and
 * raster order, so the 1-D positions of the sequence stay in that order. Two changes from the
 * paper: each token is compared with the last KEPT token at its place rather than with a fixed
 * pivot frame of a group of four (a slow drift is still seen once it adds up), and with a token
 * budget (`{ tokens }`, `{ ratio }`) the most repeated tokens go first until the budget holds.
 * A block left with no token keeps its time marker: the frame before it stands for it.
 */
import { gridPositions } from '../assembly/mrope.js';
import type { Segment } from '../assembly/plan.js';
import type { EmbeddingItem } from '../assembly/types.js';
import type { ReduceSpec } from './option.js';

export interface MergeOptions {
  /** Cosine similarity above which a token repeats (auto). */
  similar: number;
  /** At most this many tokens among the frame blocks (a budget; the most repeated go first). */
  maxTokens?: number;
}

function isFrameBlock(s: Segment): s is EmbeddingItem & { t: number } {
  return (s as EmbeddingItem).embeddings !== undefined && typeof (s as { t?: number }).t === 'number';
}

function cosine(a: Float32Array, ai: number, b: Float32Array, bi: number, dim: number): number {
  let ab = 0, aa = 0, bb = 0;
  for (let k = 0; k < dim; k++) { const x = a[ai + k]!, y = b[bi + k]!; ab += x * y; aa += x * x; bb += y * y; }
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : (aa === bb ? 1 : 0);
}

/**
 * The segments with repeated tokens dropped from the frame blocks (those with a time). Blocks are
 * compared with the blocks of the same size before them (a method's per-frame blocks share a size).
 */
export function mergeRepeats(segments: readonly Segment[], dim: number, o: MergeOptions): Segment[] {
  // per block size: the last kept token at each place (a view into the block that kept it)
  const refs = new Map<number, Array<{ data: Float32Array; at: number }>>();
  // each frame block's tokens' similarity to their reference (-Infinity: the first of its place)
  const sims: Float64Array[] = [];
  const blocks: number[] = [];
  segments.forEach((s, i) => {
    if (!isFrameBlock(s)) return;
    let ref = refs.get(s.count);
    if (!ref) refs.set(s.count, ref = []);
    const sim = new Float64Array(s.count);
    for (let j = 0; j < s.count; j++) {
      const r = ref[j];
      sim[j] = r ? cosine(s.embeddings, j * dim, r.data, r.at, dim) : -Infinity;
      if (!(sim[j]! > o.similar)) ref[j] = { data: s.embeddings, at: j * dim };
    }
    sims.push(sim);
    blocks.push(i);
  });
  let cut = o.similar; // keep a token when its similarity is <= cut
  let total = 0;
  for (const sim of sims) for (const v of sim) if (!(v > cut)) total++;
  // the budget is the whole plan's: tokens from no frame (a method's spatial or newline tokens) take their share first
  let other = 0;
  for (const s of segments) if (!isFrameBlock(s) && (s as EmbeddingItem).embeddings !== undefined) other += (s as EmbeddingItem).count;
  const max = o.maxTokens === undefined ? undefined : Math.max(0, o.maxTokens - other);
  if (max !== undefined && total > max) cut = budgetCut(sims, max);
  const out = [...segments];
  let left = max ?? Infinity;
  blocks.forEach((i, b) => {
    const s = segments[i] as EmbeddingItem & { t: number };
    const sim = sims[b]!;
    const keep: number[] = [];
    for (let j = 0; j < s.count; j++) if (!(sim[j]! > cut) && keep.length < left) keep.push(j);
    left -= keep.length;
    if (keep.length === s.count) return;
    const data = new Float32Array(keep.length * dim);
    keep.forEach((j, k) => data.set(s.embeddings.subarray(j * dim, (j + 1) * dim), k * dim));
    out[i] = { embeddings: data, count: keep.length, t: s.t, ...(s.grids ? keptPositions(s, keep) : {}) };
  });
  return out;
}

/**
 * An M-RoPE block's kept tokens keep the positions of their grid cells (t, h, w as if nothing had
 * been dropped), and the block still spans its whole grid, so what follows starts where it would
 * have: the positions stay those of the frame the tokens came from.
 */
function keptPositions(s: EmbeddingItem, keep: readonly number[]): { positions: Int32Array; span: number } {
  const full = gridPositions(s.grids!, s.count);
  const n = keep.length, positions = new Int32Array(4 * n);
  for (let sec = 0; sec < 4; sec++) keep.forEach((j, k) => { positions[sec * n + k] = full.positions[sec * s.count + j]!; });
  return { positions, span: full.span };
}

/** The similarity at or below which exactly `max` tokens remain (ties: the earlier ones stay, see the caller's `left`). */
function budgetCut(sims: Float64Array[], max: number): number {
  const all: number[] = [];
  for (const sim of sims) for (const v of sim) all.push(v);
  all.sort((a, b) => a - b);
  return max <= 0 ? -Infinity : all[Math.min(all.length, max) - 1]!;
}

/**
 * The most visual tokens a reduced video keeps, when fixed before any work (tokens, ratio); else
 * `full`: the merge's budget, which plan and budget count with before any decoding.
 */
export function reducedBound(spec: ReduceSpec | null, full: number): number {
  if (!spec) return full;
  if (spec.tokens !== undefined) return Math.min(full, spec.tokens);
  if (spec.ratio !== undefined) return Math.min(full, Math.ceil(full * spec.ratio));
  return full;
}

/** The assemble stage's merge of repeated tokens; `full`: the visual tokens of the unreduced frames (for a fixed budget). */
export function mergeOf(spec: ReduceSpec | null | undefined, full: number): ((segments: readonly Segment[], dim: number) => Segment[]) | undefined {
  if (!spec) return undefined;
  const fixed = spec.tokens !== undefined || spec.ratio !== undefined;
  return (segments, dim) => mergeRepeats(segments, dim, { similar: spec.similar, ...(fixed ? { maxTokens: reducedBound(spec, full) } : {}) });
}
