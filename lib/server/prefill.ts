/**
 * Prefix reuse across requests: a prompt as a list of entries, one per text token and one per
 * block of embeddings (a block is kept or re-evaluated whole, since some models attend within an
 * image both ways). A slot remembers the entries its KV holds; a request evaluates only what
 * follows the longest prefix it shares with them.
 *
 * A request's prompt into a slot (prefillSlot): the prompt as entries (Entry, slots.ts), the idle
 * slot that holds the most of them taken (sharedEntries), and only what follows evaluated. Native
 * path: one block for everything libmtmd evaluates up to the last media marker, then the
 * question's tokens; pooled: text tokens, embedding blocks and audio clips.
 *
 * Audio clips in a pooled prompt: a clip is one block, named by its sound (a hash of its PCM and
 * the embeddings kept), so a follow-up with the same video and sound keeps it and a different
 * sound does not. Its positions are what libmtmd evaluates (the clip's embeddings and the markers
 * it wraps them in): known once a slot has evaluated it, so a new clip's count is provisional until
 * then: the prefill reports each clip's (Context.prefill, PrefillResult.clips).
 *
 * Below: what libmtmd evaluated for each video of a request (mediaTokensByPart), and the text
 * items tokenized on the addon's worker thread.
 */
import { createHash } from 'node:crypto';
import { isAudioItem } from '../inference/audio-prefill.js';
import type { AudioItem, Context, ContextPlan, Sequence } from '../inference/context.js';
import type { Model } from '../model.js';
import type { MediaChunkReport } from '../native.js';
import type { ReadVideo, RenderedPrompt } from '../pipeline/index.js';
import { HttpError } from './errors.js';
import type { Entry, Slot, SlotPool } from './slots.js';
import type { PreparedMedia } from './media.js';

export const weight = (e: Entry) => (typeof e === 'number' ? 1 : e.count);

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

/** The plan of `entries` from index `from` on: runs of tokens, the embedding blocks and the audio clips. */
type PlanPiece = { tokens: Int32Array } | { embeddings: Float32Array; count: number; positions?: Int32Array; span?: number } | AudioItem;

export function planFrom(entries: readonly Entry[], from: number): PlanPiece[] {
  const plan: PlanPiece[] = [];
  let run: number[] = [];
  const flush = () => { if (run.length) plan.push({ tokens: Int32Array.from(run) }); run = []; };
  for (let i = from; i < entries.length; i++) {
    const e = entries[i]!;
    if (typeof e === 'number') run.push(e);
    else {
      flush();
      if (e.audio) { plan.push(e.audio); continue; }
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

type Block = Exclude<Entry, number>;

/** A clip's name: its samples and how many of its embeddings are kept. */
export function audioKey(a: AudioItem): string {
  const h = createHash('sha1');
  h.update(new Uint8Array(a.audio.buffer, a.audio.byteOffset, a.audio.byteLength));
  return `audio:${h.digest('hex')}:${a.tokens ?? 'all'}`;
}

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
    if (!isAudioItem(item)) { run.push(item); continue; }
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
 * Evaluates `entries` from index `from` on in one prefill: runs of tokens and embeddings, each clip
 * through libmtmd's audio path (Context.prefill splits them); a clip's entry takes the positions
 * and cells the prefill reports for it, and the embeddings libmtmd made of it (`visual`).
 */
export async function prefillEntries(sequence: Sequence, entries: Entry[], from: number, signal: AbortSignal): Promise<{ ms: number }> {
  if (from >= entries.length) return { ms: 0 };
  const r = await sequence.prefill(planFrom(entries, from), { addBos: false, signal });
  let k = 0;
  for (let i = from; i < entries.length; i++) {
    const e = entries[i]!;
    if (typeof e === 'number' || !e.audio) continue;
    const clip = r.clips![k++]!;
    entries[i] = { ...e, count: clip.positions, tokens: clip.evaluated, visual: [clip.mediaTokens], pending: false };
  }
  return { ms: r.ms };
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

/** A pooled prompt as prefix entries: BOS, text tokens and embedding blocks, each block named by its part's key. */
export async function pooledEntries(model: Model, tokenizer: Context, rendered: RenderedPrompt, media: PreparedMedia[]): Promise<Entry[]> {
  if (rendered.prefix.kind !== 'plan') throw new Error('a native-path prompt has no pooled entries');
  const keyOf = new Map<Float32Array, string>();
  for (const med of media) {
    const a = med.read.assembled;
    if (a.kind !== 'items') continue;
    let j = 0;
    for (const item of a.items) if ('embeddings' in item) keyOf.set(item.embeddings, `${med.key}#${j++}`);
  }
  // the text tokenized on the addon's worker thread: a long prompt does not hold the event loop; audio clips are blocks of their own (planEntries)
  return planEntries(tokenizer, await tokenizeText(model, [...rendered.prefix.plan, ...rendered.rest]), (e) => keyOf.get(e) ?? 'unknown');
}

/**
 * A native-path prompt as entries: one block for everything libmtmd evaluates (the text up to the
 * last marker and the media, named by that text and the parts' keys; `positions` once a slot
 * has evaluated it), then the text tokens after it, as a chat's first turn evaluates them.
 */
export async function mediaEntries(model: Model, rendered: RenderedPrompt, media: PreparedMedia[], known: (key: string) => Entry | undefined): Promise<{ entries: Entry[]; rest: Int32Array; key: string }> {
  if (rendered.prefix.kind !== 'native') throw new Error('a pooled prompt has no media entries');
  const key = `media:${JSON.stringify([rendered.prefix.text, media.map((m) => m.key)])}`;
  const rest = await model.handle.tokenizeAsync(rendered.rest.map((r) => ('text' in r ? r.text : '')).join(''), true);
  const held = known(key);
  return { entries: [held && typeof held !== 'number' ? held : { key, count: -1 }, ...rest], rest, key };
}

/** What the prefill took: the prompt's KV cells, those a slot already held, and the time. */
export interface Prefilled { slot: Slot; prompt: number; cached: number; prefillMs: number }

/**
 * The rendered prompt into the idle slot that holds the most of it; `taken` hears of the slot as
 * soon as it is taken (on a failure the caller starts it over). The native path keeps what
 * libmtmd evaluated up to the last marker when a request has the same text and media up to there
 * (a follow-up), and evaluates the rest; the pooled path keeps its longest shared run of entries.
 */
export async function prefillSlot(s: { model: Model; tokenizer: Context; pool: SlotPool; contextSize: number }, rendered: RenderedPrompt, media: PreparedMedia[],
  signal: AbortSignal, taken: (slot: Slot) => void): Promise<Prefilled> {
  let prompt: number, cached: number, prefillMs: number, slot: Slot;
  if (rendered.prefix.kind === 'native') {
    const prefix = rendered.prefix;
    const known = (key: string) => s.pool.slots.find((sl) => !sl.busy && typeof sl.held[0] === 'object' && (sl.held[0] as { key: string }).key === key)?.held[0];
    const { entries, rest } = await mediaEntries(s.model, rendered, media, known);
    const take = s.pool.take(entries);
    slot = take.slot;
    taken(slot);
    const held = slot.held;
    slot.held = [];
    let block = entries[0] as Block;
    if (take.shared > 0) {
      await slot.sequence.truncate(positions(entries, take.shared));
      cached = cells(entries, take.shared);
      const r = await slot.sequence.prefill([{ tokens: rest.slice(take.shared - 1) }], { addBos: false, signal });
      prefillMs = r.ms;
      block = held[0] as Block;
      for (const x of media) { x.encoded = 0; x.cached = x.frames.length; } // libmtmd encoded them for the request the slot kept
    } else {
      await slot.sequence.truncate(0);
      await Promise.all(media.map((x) => x.read.pixels?.())); // a repeat's frames, decoded only now that no slot holds them
      // the start stage, as ask()'s chat starts (Chat.begin): libmtmd's text and media up to the last marker
      const m = await slot.sequence.start(prefix, { signal, mergeable: true });
      const r = await slot.sequence.prefill([{ tokens: rest }], { addBos: false, signal });
      prefillMs = m.ms + r.ms;
      cached = 0;
      block = { key: block.key, count: m.nPast, tokens: m.evaluated, visual: mediaTokensByPart(m.chunks ?? [], media.map((x) => x.read)) };
    }
    media.forEach((x, i) => { x.visual = block.visual?.[i] ?? 0; });
    const all: Entry[] = [block, ...rest];
    prompt = cells(all);
    slot.held = keysOnly(all);
  } else {
    // audio clips take the counts a slot that evaluated them learned (provisional otherwise, until the prefill)
    const entries = knownAudio(await pooledEntries(s.model, s.tokenizer, rendered, media), s.pool.slots.map((sl) => sl.held));
    // usage counts as ask() does: KV cells on a pooled strategy (M-RoPE blocks take more cells than positions),
    // positions on the native strategy (here: the Qwen-VL family's own time, its pairs pooled by vidlm); the cache is cut by position
    const count = media.some((m) => m.strategy === 'native') ? positions : cells;
    const used = cells(entries);
    if (used >= s.contextSize) {
      throw new HttpError(400, 'context_length_exceeded', `the prompt takes ${used} KV cells; a slot holds ${s.contextSize}`, { param: 'messages' });
    }
    const take = s.pool.take(entries);
    slot = take.slot;
    taken(slot);
    cached = count(entries, take.shared);
    slot.held = [];
    await slot.sequence.truncate(positions(entries, take.shared));
    const r = await prefillEntries(slot.sequence, entries, take.shared, signal);
    prefillMs = r.ms;
    addAudioTokens(media, entries);
    prompt = count(entries);
    slot.held = keysOnly(entries);
  }
  return { slot, prompt, cached, prefillMs };
}

/** A prompt plan with its text items tokenized on the addon's worker thread (as the template is rendered). */
export async function tokenizeText<T extends object>(model: Model, plan: (T | { text: string })[]): Promise<(T | { tokens: Int32Array })[]> {
  return Promise.all(plan.map(async (p) => ('text' in p && typeof p.text === 'string' ? { tokens: await model.handle.tokenizeAsync(p.text, true) } : (p as T))));
}

/**
 * What libmtmd evaluated for each video of a conversation, from its own chunk report
 * (Context.prefillMedia): the media tokens of each video, not a formula. Each video's markers
 * become image chunks (two frames in one where the model merges pairs and nothing lies between
 * them, as in mtmd_group_mergeable_bitmaps) and audio chunks (a clip may take several), in order.
 */
const MARK = '\u0000';

/** The media units of one video on the native path, in order: 'image' (a frame or a merged pair) or 'audio' (one clip). */
export function mediaUnits(r: Pick<ReadVideo, 'assembled' | 'plan'>): Array<'image' | 'audio'> {
  const a = r.assembled;
  if (a.kind !== 'native') return [];
  const kinds = a.frames.map((f) => ('audio' in f ? 'audio' as const : 'image' as const));
  const between = (a.content?.(MARK) ?? MARK.repeat(kinds.length)).split(MARK).slice(1, -1);
  const merge = r.plan.temporalMerge ?? 1;
  const units: Array<'image' | 'audio'> = [];
  for (let k = 0; k < kinds.length; k++) {
    units.push(kinds[k]!);
    if (kinds[k] === 'image' && merge > 1 && kinds[k + 1] === 'image' && between[k] === '') k++;
  }
  return units;
}

/** Media tokens of each video, the report's media chunks taken in order (an audio unit takes the run of audio chunks it starts, a lone clip's all of them). */
export function mediaTokensByPart(chunks: readonly MediaChunkReport[], parts: ReadonlyArray<Pick<ReadVideo, 'assembled' | 'plan'>>): number[] {
  const media = chunks.filter((c) => c.type !== 'text');
  if (parts.length === 1) return [media.reduce((n, c) => n + c.tokens, 0)];
  const units = parts.map(mediaUnits);
  const flat = units.flat();
  let i = 0, u = 0;
  return units.map((own) => {
    let n = 0;
    for (const kind of own) {
      const next = flat[++u];
      if (i < media.length) n += media[i++]!.tokens;
      // a clip longer than the encoder's window is several chunks: the run, unless another clip follows at once
      if (kind === 'audio' && next !== 'audio') while (media[i]?.type === 'audio') n += media[i++]!.tokens;
    }
    return n;
  });
}
