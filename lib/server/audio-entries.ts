/**
 * Audio clips in a pooled prompt's KV entries (prefix.ts). A clip is one block, named by its
 * sound (a hash of its PCM and the embeddings kept), so a follow-up with the same video and sound
 * keeps it and a different sound does not. Its positions are what libmtmd evaluates (the clip's
 * embeddings and the markers it wraps them in): known once a slot has evaluated it, so a new
 * clip's count is provisional until then, and the prompt is evaluated run by run to learn each.
 */
import { createHash } from 'node:crypto';
import type { AudioItem, Context, ContextPlan } from '../inference/context.js';
import type { Sequence } from '../inference/sequence.js';
import { planFrom, type Entry } from './prefix.js';
import type { PreparedMedia } from './video.js';

type Block = Exclude<Entry, number>;

/** A clip's name: its samples and how many of its embeddings are kept. */
export function audioKey(a: AudioItem): string {
  const h = createHash('sha1');
  h.update(new Uint8Array(a.audio.buffer, a.audio.byteOffset, a.audio.byteLength));
  return `audio:${h.digest('hex')}:${a.tokens ?? 'all'}`;
}

const isAudio = (it: object): it is AudioItem => (it as AudioItem).audio instanceof Float32Array;

/**
 * A tokenized pooled plan as entries: text tokens one by one (BOS first when the model has one),
 * embedding blocks named by `keyOf`, audio clips as provisional blocks (count: the embeddings
 * kept, or 0 when only libmtmd knows; `pending` until a slot has evaluated the clip).
 */
export function planEntries(tokenizer: Context, plan: ContextPlan, keyOf: (embeddings: Float32Array) => string): Entry[] {
  const entries: Entry[] = [];
  let run: ContextPlan[number][] = [];
  let first = true;
  const flush = () => {
    for (const item of tokenizer.toItems(run, first)) {
      if ('tokens' in item) for (const t of item.tokens) entries.push(t);
      // M-RoPE: the block takes `span` positions and `count` cells, at positions of its own
      else if (item.positions) entries.push({ key: keyOf(item.embeddings), count: item.span ?? item.count, tokens: item.count, embeddings: item.embeddings, positions: item.positions });
      else entries.push({ key: keyOf(item.embeddings), count: item.count, embeddings: item.embeddings });
    }
    first = false;
    run = [];
  };
  for (const item of plan) {
    if (!isAudio(item)) { run.push(item); continue; }
    flush();
    entries.push({ key: audioKey(item), count: item.tokens ?? 0, audio: item, pending: true });
  }
  flush();
  return entries;
}

/** The clips' counts as a slot that evaluated them knows them (any slot: a clip's count does not depend on where it is). */
export function knownAudio(entries: readonly Entry[], held: ReadonlyArray<readonly Entry[]>): Entry[] {
  if (!entries.some((e) => typeof e !== 'number' && e.pending)) return [...entries];
  const counts = new Map<string, Block>();
  for (const h of held) for (const e of h) if (typeof e !== 'number' && e.key.startsWith('audio:') && !e.pending) counts.set(e.key, e);
  return entries.map((e) => {
    if (typeof e === 'number' || !e.pending) return e;
    const k = counts.get(e.key);
    return k ? { ...e, count: k.count, ...(k.tokens !== undefined ? { tokens: k.tokens } : {}), ...(k.visual ? { visual: k.visual } : {}), pending: false } : e;
  });
}

/**
 * Evaluates `entries` from index `from` on: runs of tokens and embeddings in one prefill each,
 * each clip through libmtmd's audio path; a clip's entry takes the positions and cells it was
 * given, and the embeddings libmtmd made of it (`visual`). Returns the time it took.
 */
export async function prefillEntries(sequence: Sequence, entries: Entry[], from: number, signal: AbortSignal): Promise<{ ms: number }> {
  let ms = 0;
  let start = from;
  const runTo = async (end: number) => {
    if (end > start) ms += (await sequence.prefill(planFrom(entries.slice(0, end), start), { addBos: false, signal })).ms;
  };
  for (let i = from; i < entries.length; i++) {
    const e = entries[i]!;
    if (typeof e === 'number' || !e.audio) continue;
    await runTo(i);
    const before = sequence.nPast;
    const r = await sequence.prefill([e.audio], { addBos: false, signal });
    ms += r.ms;
    entries[i] = { ...e, count: sequence.nPast - before, tokens: r.evaluated, visual: [r.mediaTokens ?? 0], pending: false };
    start = i + 1;
  }
  await runTo(entries.length);
  return { ms };
}

/** Each part's media tokens with the embeddings libmtmd made of its clips, evaluated now or kept from an earlier request (as ask() reports `visual`). */
export function addAudioTokens(media: PreparedMedia[], entries: readonly Entry[]): void {
  const partOf = new Map<Float32Array, PreparedMedia>();
  for (const m of media) {
    const a = m.read.assembled;
    if (a.kind === 'items') for (const it of a.items) if ('audio' in it) partOf.set(it.audio, m);
  }
  for (const e of entries) {
    const m = typeof e === 'object' && e.audio ? partOf.get(e.audio.audio) : undefined;
    if (m && typeof e === 'object') m.visual += e.visual?.[0] ?? 0;
  }
}
