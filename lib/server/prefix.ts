/**
 * Prefix reuse across requests: a prompt as a list of entries, one per text token and one per
 * block of embeddings (a block is kept or re-evaluated whole, since some models attend within an
 * image both ways). A slot remembers the entries its KV holds; a request evaluates only what
 * follows the longest prefix it shares with them.
 */
import type { AudioItem } from '../inference/context.js';

/**
 * A text token id, or a block of `count` positions named by `key` (what they were made from):
 * a run of pooled embeddings, or what libmtmd evaluated up to a request's last media marker
 * (`tokens`: its KV cells, more than its positions with M-RoPE; `visual`: each part's media
 * tokens as libmtmd counted them; `positions`: a pooled block's own M-RoPE positions, with
 * `count` its span and `tokens` its cells), or an audio clip of a pooled prompt (prefill.ts;
 * `pending` until a slot has evaluated it and its count is known).
 */
export type Entry = number | { key: string; count: number; embeddings?: Float32Array; tokens?: number; visual?: number[]; positions?: Int32Array; audio?: AudioItem; pending?: boolean };

export const weight = (e: Entry) => (typeof e === 'number' ? 1 : e.count);

/**
 * How many leading entries of `next` the KV of `held` can keep: equal entries, and never all of
 * `next` (the last position must be evaluated again to have logits to sample from).
 */
export function sharedEntries(held: readonly Entry[], next: readonly Entry[]): number {
  let i = 0;
  const n = Math.min(held.length, next.length);
  while (i < n) {
    const a = held[i]!, b = next[i]!;
    if (typeof a === 'number' || typeof b === 'number' ? a !== b : a.key !== b.key || a.count !== b.count || a.pending || b.pending) break;
    i++;
  }
  return Math.min(i, next.length - 1);
}

export const positions = (entries: readonly Entry[], upTo = entries.length) => {
  let p = 0;
  for (let i = 0; i < upTo; i++) p += weight(entries[i]!);
  return p;
};

/** KV cells of the first `upTo` entries: what usage reports as tokens. */
export const cells = (entries: readonly Entry[], upTo = entries.length) => {
  let p = 0;
  for (let i = 0; i < upTo; i++) { const e = entries[i]!; p += typeof e === 'number' ? 1 : e.tokens ?? e.count; }
  return p;
};

/** The plan of `entries` from index `from` on: runs of tokens and the embedding blocks. */
type PlanPiece = { tokens: Int32Array } | { embeddings: Float32Array; count: number; positions?: Int32Array; span?: number };

export function planFrom(entries: readonly Entry[], from: number): PlanPiece[] {
  const plan: PlanPiece[] = [];
  let run: number[] = [];
  const flush = () => { if (run.length) plan.push({ tokens: Int32Array.from(run) }); run = []; };
  for (let i = from; i < entries.length; i++) {
    const e = entries[i]!;
    if (typeof e === 'number') run.push(e);
    else {
      flush();
      if (!e.embeddings) throw new Error(`entry ${i} has no embeddings to evaluate`);
      plan.push(e.positions ? { embeddings: e.embeddings, count: e.tokens ?? e.count, positions: e.positions, span: e.count } : { embeddings: e.embeddings, count: e.count });
    }
  }
  flush();
  return plan;
}

/** What a slot remembers: the entries without their embeddings (only keys are compared). */
export const keysOnly = (entries: readonly Entry[]): Entry[] => entries.map((e) => {
  if (typeof e === 'number') return e;
  const { embeddings: _, audio: __, ...kept } = e;
  return kept;
});
