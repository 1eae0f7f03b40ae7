/**
 * From a strategy's segments to a sequence plan: time markers go before every segment that
 * came from one frame, then neighbouring items are merged so the inference layer sees as few
 * pieces as possible (contiguous views are joined without copying).
 */
import { resolveTimeEncoding, timeMarker, type TimeEncodingOptions } from '../time/encode.js';
import type { EmbeddingItem, PlanItem, SequencePlan, TextItem } from './types.js';
import { isEmbeddingItem } from './types.js';

/** An embedding block with `t` set is one frame's tokens (or a token taken from one frame). */
export type Segment = TextItem | (EmbeddingItem & { t?: number });

function joinEmbeddings(blocks: EmbeddingItem[], dim: number): EmbeddingItem {
  if (blocks.length === 1) return { embeddings: blocks[0]!.embeddings, count: blocks[0]!.count };
  const count = blocks.reduce((n, b) => n + b.count, 0);
  const first = blocks[0]!.embeddings;
  let contiguous = true;
  for (let i = 1; i < blocks.length && contiguous; i++) {
    const prev = blocks[i - 1]!.embeddings, cur = blocks[i]!.embeddings;
    contiguous = cur.buffer === first.buffer && prev.byteOffset + prev.byteLength === cur.byteOffset;
  }
  if (contiguous) return { embeddings: new Float32Array(first.buffer, first.byteOffset, count * dim), count };
  const out = new Float32Array(count * dim);
  let at = 0;
  for (const b of blocks) { out.set(b.embeddings, at); at += b.embeddings.length; }
  return { embeddings: out, count };
}

export function buildPlan(segments: readonly Segment[], dim: number, time: TimeEncodingOptions): SequencePlan {
  const enc = resolveTimeEncoding(time);
  const plan: PlanItem[] = [];
  let pending: EmbeddingItem[] = [];
  const flush = () => { if (pending.length) { plan.push(joinEmbeddings(pending, dim)); pending = []; } };
  const pushText = (item: TextItem) => {
    if (item.text === '') return;
    flush();
    const last = plan[plan.length - 1];
    // Only plain text merges: a special token must stay a piece of its own.
    if (last && !isEmbeddingItem(last) && !last.special && !item.special) plan[plan.length - 1] = { text: last.text + item.text };
    else plan.push(item.special ? { text: item.text, special: true } : { text: item.text });
  };
  for (const s of segments) {
    if (!isEmbeddingItem(s)) { pushText(s); continue; }
    const t = (s as { t?: number }).t;
    const marker = t === undefined ? null : timeMarker(t, enc);
    if (marker) pushText(marker);
    if (s.count > 0) pending.push({ embeddings: s.embeddings, count: s.count });
  }
  flush();
  return plan;
}

/** Visual tokens in a plan: the sum of its embedding counts. */
export function planTokenCount(plan: SequencePlan): number {
  let n = 0;
  for (const item of plan) if (isEmbeddingItem(item)) n += item.count;
  return n;
}
