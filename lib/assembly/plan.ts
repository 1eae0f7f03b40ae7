/**
 * From a strategy's segments to a sequence plan: time markers go before every segment that
 * came from one frame, then neighbouring items are merged so the inference layer sees as few
 * pieces as possible (contiguous views are joined without copying). Slots (other media, such as
 * the audio chunks of lib/audio) are placed among the frames by time, each with its own marker.
 */
import { VidlmError } from '../errors.js';
import { resolveTimeEncoding, timeMarker, type TimeEncodingOptions } from '../time/encode.js';
import type { EmbeddingItem, GridBlock, PlanItem, SequencePlan, TextItem } from './types.js';
import { isEmbeddingItem } from './types.js';

/** An embedding block with `t` set is one frame's tokens (or a token taken from one frame). */
export type Segment = TextItem | (EmbeddingItem & { t?: number });

/**
 * A place for another medium in the plan: it starts at `t` seconds (its time marker, computed as
 * for a frame) and goes before the first frame-derived block taken at or after `before` seconds
 * (-Infinity: before every frame; Infinity: after the last). Pooling never sees it.
 */
export interface TimeSlot { t: number; before: number }

/** Where slot `slot` (an index into the `slots` option) goes in the plan. */
export interface SlotItem { slot: number }

/** A plan with slots: what `assembleWithSlots` returns. */
export type SlottedPlan = Array<PlanItem | SlotItem>;

/** Options of buildPlan: the time encoding and the slots. */
export type PlanOptions = TimeEncodingOptions & {
  /**
   * Slots in the order they are to appear. They are placed in the first time-ordered run of
   * frame blocks (every frame for concat, pllava and bilinear; the fast tokens of slowfast, the
   * temporal tokens of vcgpt); slots still open when that run ends (a block taken earlier than the
   * one before it, or a block from no frame) go right after it.
   */
  slots?: readonly TimeSlot[];
  /** Drops or merges frame blocks' tokens before they are placed (lib/reduce/merge.ts); query-agnostic. */
  merge?: (segments: readonly Segment[], dim: number) => Segment[];
};

export function isSlotItem(item: PlanItem | SlotItem): item is SlotItem {
  return typeof (item as SlotItem).slot === 'number';
}

/** The grids of joined blocks, in order; a block without them is one token per row (1×1 grids). */
function joinGrids(blocks: EmbeddingItem[]): GridBlock[] {
  return blocks.flatMap((b) => b.grids ?? Array.from({ length: b.count }, () => ({ nx: 1, ny: 1 })));
}

function joinEmbeddings(blocks: EmbeddingItem[], dim: number): EmbeddingItem {
  const grids = joinGrids(blocks);
  if (blocks.length === 1) return { embeddings: blocks[0]!.embeddings, count: blocks[0]!.count, grids };
  const count = blocks.reduce((n, b) => n + b.count, 0);
  const first = blocks[0]!.embeddings;
  let contiguous = true;
  for (let i = 1; i < blocks.length && contiguous; i++) {
    const prev = blocks[i - 1]!.embeddings, cur = blocks[i]!.embeddings;
    contiguous = cur.buffer === first.buffer && prev.byteOffset + prev.byteLength === cur.byteOffset;
  }
  if (contiguous) return { embeddings: new Float32Array(first.buffer, first.byteOffset, count * dim), count, grids };
  const out = new Float32Array(count * dim);
  let at = 0;
  for (const b of blocks) { out.set(b.embeddings, at); at += b.embeddings.length; }
  return { embeddings: out, count, grids };
}

export function buildPlan(segments: readonly Segment[], dim: number, time: PlanOptions): SequencePlan {
  const enc = resolveTimeEncoding(time);
  const slots = checkSlots(time.slots);
  const plan: Array<PlanItem | SlotItem> = [];
  let pending: EmbeddingItem[] = [];
  const flush = () => { if (pending.length) { plan.push(joinEmbeddings(pending, dim)); pending = []; } };
  const pushText = (item: TextItem) => {
    if (item.text === '') return;
    flush();
    const last = plan[plan.length - 1];
    // Only plain text merges: a special token must stay a piece of its own.
    if (last && !isSlotItem(last) && !isEmbeddingItem(last) && !last.special && !item.special) plan[plan.length - 1] = { text: last.text + item.text };
    else plan.push(item.special ? { text: item.text, special: true } : { text: item.text });
  };
  let next = 0; // the next slot to place
  let lastT = -Infinity, inRun = true; // still in the first time-ordered run of frame blocks
  const placeSlots = (upTo: number) => {
    while (next < slots.length && slots[next]!.before <= upTo) {
      const marker = timeMarker(slots[next]!.t, enc);
      if (marker) pushText(marker);
      flush();
      plan.push({ slot: next++ });
    }
  };
  for (const s of time.merge ? time.merge(segments, dim) : segments) {
    if (!isEmbeddingItem(s)) { pushText(s); continue; }
    const t = (s as { t?: number }).t;
    if (inRun && next < slots.length) {
      if (t === undefined ? lastT > -Infinity : t < lastT) { inRun = false; placeSlots(Infinity); }
      else if (t !== undefined) placeSlots(t);
    }
    if (t !== undefined && t > lastT) lastT = t;
    const marker = t === undefined ? null : timeMarker(t, enc);
    if (marker) pushText(marker);
    if (s.count > 0) pending.push({ embeddings: s.embeddings, count: s.count, ...(s.grids ? { grids: s.grids } : {}) });
  }
  placeSlots(Infinity);
  flush();
  // Without slots the plan is a SequencePlan; with them, assembleWithSlots hands it out as a SlottedPlan.
  return plan as SequencePlan;
}

function checkSlots(slots: unknown): readonly TimeSlot[] {
  if (slots === undefined) return [];
  const ok = Array.isArray(slots) && slots.every((s: TimeSlot, i) => s !== null && typeof s === 'object' && Number.isFinite(s.t) && typeof s.before === 'number' && !Number.isNaN(s.before)
    && (i === 0 || s.before >= (slots[i - 1] as TimeSlot).before));
  if (!ok) throw new VidlmError('ERR_INVALID_ARG', 'slots must be an array of { t: seconds, before: seconds } in order of `before`');
  return slots as TimeSlot[];
}

/** Visual tokens in a plan: the sum of its embedding counts. */
export function planTokenCount(plan: SequencePlan): number {
  let n = 0;
  for (const item of plan) if (isEmbeddingItem(item)) n += item.count;
  return n;
}
